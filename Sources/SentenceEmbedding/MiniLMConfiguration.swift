import Foundation

/// Where the local sentence model is and how it runs.
public struct MiniLMConfiguration: Sendable {
    /// A sentence-transformers model folder: `config.json`, `vocab.txt`, `model.safetensors`.
    public var directory: URL
    /// Word pieces per window, without `[CLS]`/`[SEP]`. Default 254: with them, 256, the
    /// model's `max_seq_length`, so a text that fits is embedded exactly as sentence-transformers does.
    public var windowPieces: Int = 254
    /// At most this many windows of a text are read (a bound on the work one job can ask for).
    /// Default 64, about 16 000 word pieces — some 40 pages of prose.
    public var maximumWindows: Int = 64
    /// Threads one call uses: a batch of several windows is cut into this many parts encoded side
    /// by side, a single window uses this many OpenBLAS threads. Default 1 (the worker runs jobs
    /// side by side).
    public var threads: Int = 1
    /// The most word pieces (with `[CLS]`/`[SEP]`) stacked into one pass of the encoder; a single
    /// longer window still goes alone. Larger batches make larger matrix products, faster per
    /// piece, at 6 KiB of scratch memory per piece. Default 4 096 (24 MiB).
    public var batchPieces: Int = 4_096

    /// A configuration for the model in `directory`.
    public init(directory: URL, windowPieces: Int = 254, maximumWindows: Int = 64, threads: Int = 1, batchPieces: Int = 4_096) {
        self.batchPieces = max(1, batchPieces)
        self.directory = directory
        self.windowPieces = max(1, windowPieces)
        self.maximumWindows = max(1, maximumWindows)
        self.threads = max(1, threads)
    }
}
