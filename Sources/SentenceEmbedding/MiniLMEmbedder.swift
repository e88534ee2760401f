import ClientSupport
import Foundation
import Providers

/// Semantic embeddings on this machine: sentence-transformers' all-MiniLM-L6-v2 (384 dimensions)
/// re-implemented in Swift, read from the model's own `model.safetensors` and `vocab.txt`.
///
/// **Long texts.** The text's word pieces are cut into consecutive windows of
/// ``MiniLMConfiguration/windowPieces`` (254; the last may be shorter, an empty text is one empty
/// window), at most ``MiniLMConfiguration/maximumWindows`` of them. Each window is read as
/// `[CLS] window [SEP]`, mean-pooled and L2-normalised; the text's vector is the sum of the window
/// vectors weighted by their piece counts (at least 1), L2-normalised. A text of up to 254 pieces
/// is one window: exactly `SentenceTransformer.encode(text, normalize_embeddings=True)`.
///
/// The encoder runs on one dedicated thread (never the cooperative pool); callers suspend while
/// their texts are read, several windows stacked into each pass (``MiniLMConfiguration/batchPieces``). ``EmbeddingTask`` is ignored: the model embeds
/// queries and documents alike.
public final class MiniLMEmbedder: Embedder, Sendable {
    /// `all-minilm-l6-v2`.
    public var name: String { "all-minilm-l6-v2" }
    /// 384.
    public let dimensions: Int
    /// The configuration it was loaded with.
    public let configuration: MiniLMConfiguration
    /// The tokenizer, for callers that count pieces.
    public let tokenizer: WordPieceTokenizer
    private let executor: BlockingExecutor
    private let model: MiniLMModel  // run only on `executor`'s thread

    /// Loads the model in `configuration.directory`.
    public init(configuration: MiniLMConfiguration) throws(SentenceEmbeddingError) {
        let directory = configuration.directory
        let bert = try BertConfiguration(contentsOf: directory.appendingPathComponent("config.json"))
        let weights = try SafetensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
        self.tokenizer = try WordPieceTokenizer(vocabularyAt: directory.appendingPathComponent("vocab.txt"))
        self.model = try MiniLMModel(weights: weights, configuration: bert, lanes: configuration.threads)
        self.dimensions = bert.hiddenSize
        var configuration = configuration
        configuration.windowPieces = min(configuration.windowPieces, bert.maximumPositions - 2)
        self.configuration = configuration
        self.executor = BlockingExecutor(label: "minilm")
    }

    deinit {
        executor.shutdown()
    }

    /// One vector per text, in order (see the type's documentation for long texts). The windows
    /// of all texts are read in batches of up to ``MiniLMConfiguration/batchPieces`` word pieces,
    /// each batch one pass of the encoder.
    public func embed(_ texts: [String], task: EmbeddingTask) async throws(ProviderError) -> [[Float]] {
        let windowsByText = texts.map { windows(of: $0) }
        var all: [[Int32]] = []
        for windows in windowsByText { all += windows }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(all.count)
        var start = 0
        while start < all.count {
            if Task.isCancelled { throw ProviderError(.timeout, "embedding was cancelled") }
            var end = start, pieces = 0
            while end < all.count && (end == start || pieces + all[end].count <= configuration.batchPieces) {
                pieces += all[end].count
                end += 1
            }
            let batch = Array(all[start..<end])
            do {
                vectors += try await executor.run { [model] in model.sentenceVectors(batch) }
            } catch {
                throw ProviderError(.unavailable, "the local embedding model stopped")
            }
            start = end
        }
        var results: [[Float]] = []
        results.reserveCapacity(texts.count)
        var next = 0
        for windows in windowsByText {
            results.append(Self.combine(zip(windows, vectors[next..<(next + windows.count)]).map { ($0.count, $1) }))
            next += windows.count
        }
        return results
    }

    /// The model inputs of `text`: `[CLS] piece… [SEP]` per window.
    public func windows(of text: String) -> [[Int32]] {
        let pieces = tokenizer.pieceIDs(text)
        let size = configuration.windowPieces
        var windows: [[Int32]] = []
        var start = 0
        repeat {
            let end = min(start + size, pieces.count)
            windows.append([tokenizer.classifierID] + pieces[start..<end] + [tokenizer.separatorID])
            start = end
        } while start < pieces.count && windows.count < configuration.maximumWindows
        return windows
    }

    /// Σ max(1, pieces) · vector, normalised; `inputLength` counts `[CLS]`/`[SEP]`.
    static func combine(_ windows: [(inputLength: Int, vector: [Float])]) -> [Float] {
        guard let first = windows.first else { return [] }
        if windows.count == 1 { return first.vector }
        var sum = [Double](repeating: 0, count: first.vector.count)
        for (length, vector) in windows {
            let weight = Double(max(1, length - 2))
            for index in sum.indices { sum[index] += weight * Double(vector[index]) }
        }
        return MiniLMModel.normalized(sum)
    }
}
