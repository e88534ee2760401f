import ArgumentParser
import FakeGemini
import Foundation
import Gemini
import LocalProviders
import Logging
import Providers
import RankingEvaluation
import SentenceEmbedding

/// `bench ranking`: ranking quality on the labelled set in `Fixtures/ranking/` — top-1 (the
/// recruiter's pick ranked first) and NDCG@3 — for the hashed and the semantic local embedder,
/// and Gemini through the local fake as a plumbing check only (its vectors are seeded noise).
struct RankingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ranking",
        abstract: "Top-1 and NDCG@3 of the hashed and semantic embedders (and Gemini via the fake, plumbing only) on Fixtures/ranking."
    )

    @Option(help: "The model folder.") var model = "./.models/all-minilm-l6-v2"

    func run() async throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "Fixtures/ranking/ranking.json"))
        let set = try JSONDecoder().decode(RankingSet.self, from: data)
        let gemini = try FakeGeminiServer(apiKey: "bench-fake-key", keepAlive: true)
        defer { gemini.stop() }
        var geminiConfiguration = GeminiConfiguration(apiKey: gemini.apiKey, model: gemini.model)
        geminiConfiguration.baseURL = gemini.baseURL
        let embedders: [(String, any Embedder)] = [
            ("hashed (LOCAL_EMBEDDER=hashed)", LocalEmbedder()),
            ("semantic (all-MiniLM-L6-v2)", try MiniLMEmbedder(configuration: MiniLMConfiguration(directory: URL(fileURLWithPath: model)))),
            ("Gemini via the fake (plumbing)", GeminiEmbedder(configuration: geminiConfiguration, logger: Logger(label: "bench.ranking"))),
        ]
        let kinds = Array(Set(set.posts.map(\.kind))).sorted()
        print("Ranking benchmark: \(set.posts.count) job posts × \(set.posts.map(\.candidates.count).min() ?? 0)+ candidates, one best candidate each")
        print("(NDCG@3 with one relevant candidate: 1/log2(rank + 1) when it is in the top 3, else 0; by kind: top-1)")
        print("")
        print(pad("embedder", 34) + pad("top-1", 10) + pad("NDCG@3", 9) + kinds.map { pad($0, 13) }.joined())
        for (name, embedder) in embedders {
            let ranks = try await set.ranks(embedder).map { (kind: $0.post.kind, rank: $0.rank) }
            let top1 = ranks.filter { $0.rank == 1 }.count
            let ndcg = ranks.map { RankingSet.ndcgAt3(rank: $0.rank) }.reduce(0, +) / Double(max(1, ranks.count))
            let byKind = kinds.map { kind in
                let of = ranks.filter { $0.kind == kind }
                return pad("\(of.filter { $0.rank == 1 }.count)/\(of.count)", 13)
            }
            print(pad(name, 34) + pad("\(top1)/\(ranks.count)", 10) + pad(String(format: "%.3f", ndcg), 9) + byKind.joined())
        }
    }
}
