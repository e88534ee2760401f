import Foundation
import Providers
import SentenceEmbedding
import Testing
import TestSupport

/// Ours against sentence-transformers on PyTorch: token ids and vectors of every text in
/// `Fixtures/embedding/reference.json` (made by `compat/embedding/make_reference.py`).
@Suite struct MiniLMParityTests {
    struct Reference: Decodable {
        struct Text: Decodable {
            var name: String
            var text: String
            var token_ids: [Int32]
            var vector: [Float]
        }
        var window_pieces: Int
        var dimensions: Int
        var texts: [Text]
    }

    static let reference: Reference = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/embedding/reference.json")
        return try! JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }()

    static let embedder: Result<MiniLMEmbedder, any Error> = Result {
        try MiniLMEmbedder(configuration: MiniLMConfiguration(directory: try TestEnvironment.embeddingModel()))
    }

    @Test func tokenIDsMatchTheReference() throws {
        let embedder = try Self.embedder.get()
        for text in Self.reference.texts {
            #expect(embedder.tokenizer.encode(text.text) == text.token_ids, "\(text.name)")
        }
    }

    @Test func vectorsMatchTheReference() async throws {
        let embedder = try Self.embedder.get()
        #expect(embedder.dimensions == Self.reference.dimensions)
        #expect(embedder.configuration.windowPieces == Self.reference.window_pieces)
        let vectors = try await embedder.embed(Self.reference.texts.map(\.text), task: .document)
        for (text, vector) in zip(Self.reference.texts, vectors) {
            #expect(vector.count == text.vector.count, "\(text.name)")
            guard vector.count == text.vector.count else { continue }
            var dot = 0.0, worst: Float = 0
            for index in vector.indices {
                dot += Double(vector[index]) * Double(text.vector[index])
                worst = max(worst, abs(vector[index] - text.vector[index]))
            }
            #expect(dot >= 0.9999, "\(text.name): cosine \(dot)")
            #expect(worst <= 1e-4, "\(text.name): largest component difference \(worst)")
        }
    }

    /// Stacking sequences into one pass changes nothing: each text alone, all in one batch, and in
    /// batches cut at 300 pieces encoded in two lanes side by side give the same vectors.
    @Test func batchingDoesNotChangeVectors() async throws {
        let together = try Self.embedder.get()
        let texts = Self.reference.texts.map(\.text)
        let small = try MiniLMEmbedder(configuration: MiniLMConfiguration(directory: try TestEnvironment.embeddingModel(), threads: 2, batchPieces: 300))
        let batched = try await together.embed(texts, task: .document)
        let cut = try await small.embed(texts + texts, task: .document)
        for (index, text) in texts.enumerated() {
            let alone = try await together.embed([text], task: .document)[0]
            for other in [batched[index], cut[index]] {
                #expect(zip(alone, other).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(Self.reference.texts[index].name)")
            }
        }
    }

    @Test func longTextsAreReadInWindows() throws {
        let embedder = try Self.embedder.get()
        for text in Self.reference.texts {
            let pieces = text.token_ids.count - 2
            let windows = embedder.windows(of: text.text)
            #expect(windows.count == max(1, (pieces + 253) / 254), "\(text.name)")
            #expect(windows.allSatisfy { $0.count <= 256 })
            #expect(windows.flatMap { $0.dropFirst().dropLast() } == Array(text.token_ids.dropFirst().dropLast()))
        }
        #expect(Self.reference.texts.contains { $0.token_ids.count - 2 > 508 }, "the fixture has a text of three windows")
    }

    @Test func aMissingModelFolderSaysWhichFile() {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("no-model-\(UUID())")
        #expect(throws: SentenceEmbeddingError(.missingFile, "cannot read config.json")) {
            try MiniLMEmbedder(configuration: MiniLMConfiguration(directory: directory))
        }
    }
}
