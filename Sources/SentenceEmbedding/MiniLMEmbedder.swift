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
/// their texts are read, one text after another. ``EmbeddingTask`` is ignored: the model embeds
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
        self.model = try MiniLMModel(weights: weights, configuration: bert)
        self.dimensions = bert.hiddenSize
        var configuration = configuration
        configuration.windowPieces = min(configuration.windowPieces, bert.maximumPositions - 2)
        self.configuration = configuration
        self.executor = BlockingExecutor(label: "minilm")
        let threads = configuration.threads
        executor.submit { LinearAlgebra.setThreads(threads) }
    }

    deinit {
        executor.shutdown()
    }

    /// One vector per text, in order (see the type's documentation for long texts).
    public func embed(_ texts: [String], task: EmbeddingTask) async throws(ProviderError) -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        for text in texts {
            if Task.isCancelled { throw ProviderError(.timeout, "embedding was cancelled") }
            let windows = self.windows(of: text)
            do {
                vectors.append(try await executor.run { [model] in Self.combine(windows.map { ($0.count, model.sentenceVector($0)) }) })
            } catch {
                throw ProviderError(.unavailable, "the local embedding model stopped")
            }
        }
        return vectors
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
