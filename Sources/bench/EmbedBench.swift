import ArgumentParser
import ClientSupport
import Foundation
import Providers
import SentenceEmbedding

/// `bench embed`: all-MiniLM-L6-v2 throughput, ours (Swift + OpenBLAS) against sentence-transformers
/// on PyTorch CPU in the same run, same texts, same thread count.
struct EmbedBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Local embedding throughput (word pieces/s, texts/s) vs sentence-transformers on PyTorch, 1 and 2 threads."
    )

    @Option(help: "The model folder.") var model = "./.models/all-minilm-l6-v2"
    @Option(help: "A Python with torch and sentence-transformers (compat/embedding/requirements.txt).") var python = "python3"
    @Option(help: "Alternating rounds; medians are reported.") var rounds = 3
    @Option(help: "Copies of the text set per round.") var copies = 4

    /// Texts of at most 254 pieces (one window, so both sides do the same work): the parity
    /// fixture's and the ranking set's.
    func texts(_ tokenizer: WordPieceTokenizer) throws -> [String] {
        var texts: [String] = []
        let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        if let data = try? Data(contentsOf: root.appendingPathComponent("Fixtures/embedding/reference.json")),
           let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let entries = object["texts"] as? [[String: Any]] {
            texts += entries.compactMap { $0["text"] as? String }
        }
        if let data = try? Data(contentsOf: root.appendingPathComponent("Fixtures/ranking/ranking.json")),
           let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let posts = object["posts"] as? [[String: Any]] {
            for post in posts {
                texts.append("\(post["title"] ?? "")\n\n\(post["description"] ?? "")")
                texts += (post["candidates"] as? [[String: Any]] ?? []).compactMap { $0["resume"] as? String }
            }
        }
        texts = texts.filter { !$0.isEmpty && tokenizer.pieceIDs($0).count <= 254 }
        guard !texts.isEmpty else { throw ValidationError("no texts: run from the repository root") }
        return Array(repeating: texts, count: copies).flatMap { $0 }
    }

    func run() async throws {
        let directory = URL(fileURLWithPath: model)
        print("Embedding benchmark: all-MiniLM-L6-v2, ours (Swift + OpenBLAS) vs sentence-transformers (PyTorch CPU), \(rounds) rounds (medians)")
        print("")
        print(pad("threads", 9) + pad("texts", 7) + pad("pieces", 9) + pad("ours pieces/s", 15) + pad("PyTorch pieces/s", 18)
            + pad("ours texts/s", 14) + pad("PyTorch texts/s", 17) + "ratio")
        for threads in [1, 2] {
            let embedder = try MiniLMEmbedder(configuration: MiniLMConfiguration(directory: directory, threads: threads))
            let texts = try self.texts(embedder.tokenizer)
            let pieces = texts.reduce(0) { $0 + embedder.tokenizer.encode($1).count }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("embed-\(UUID().uuidString).json")
            try JSONSerialization.data(withJSONObject: texts).write(to: path)
            defer { try? FileManager.default.removeItem(at: path) }
            _ = try await embedder.embed(Array(texts.prefix(8)), task: .document)  // warm-up
            let peerOutput = try runProcess(
                python, [URL(fileURLWithPath: "compat/embedding/bench_peer.py").path, model, path.path, String(threads), String(rounds)])
            let theirs = peerOutput.split(separator: "\n").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard theirs.count == rounds else { throw ValidationError("unexpected peer output: \(peerOutput)") }
            var ours: [Double] = []
            let clock = ContinuousClock()
            for _ in 0..<rounds {
                let start = clock.now
                _ = try await embedder.embed(texts, task: .document)
                ours.append((clock.now - start).seconds)
            }
            let o = median(ours), t = median(theirs)
            print(pad("\(threads)", 9) + pad("\(texts.count)", 7) + pad("\(pieces)", 9) + pad(format(Double(pieces) / o), 15)
                + pad(format(Double(pieces) / t), 18) + pad(format(Double(texts.count) / o), 14) + pad(format(Double(texts.count) / t), 17)
                + String(format: "%.2f", t / o))
        }
    }
}
