import ArgumentParser
import FakeGemini
import Foundation
import Gemini
import LocalProviders
import Logging
import Providers
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

    struct RankingSet: Decodable {
        struct Post: Decodable {
            struct Candidate: Decodable {
                var id: String
                var resume: String
            }
            var id: String
            var kind: String
            var title: String
            var description: String
            var best: String
            var candidates: [Candidate]
        }
        var posts: [Post]
    }

    /// The 1-based rank `embedder` gives each post's best candidate (query: title, blank line,
    /// description, as the pipeline builds it), by post kind.
    static func ranks(_ set: RankingSet, _ embedder: any Embedder) async throws -> [(kind: String, rank: Int)] {
        var ranks: [(String, Int)] = []
        for post in set.posts {
            let query = try await embedder.embed([post.title + "\n\n" + post.description], task: .query)[0]
            let documents = try await embedder.embed(post.candidates.map(\.resume), task: .document)
            let scores = zip(post.candidates, documents).map { ($0.id, cosineSimilarity(query, $1)) }.sorted { $0.1 > $1.1 }
            ranks.append((post.kind, (scores.firstIndex { $0.0 == post.best } ?? scores.count) + 1))
        }
        return ranks
    }

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
            let ranks = try await Self.ranks(set, embedder)
            let top1 = ranks.filter { $0.rank == 1 }.count
            let ndcg = ranks.map { $0.rank <= 3 ? 1 / log2(Double($0.rank) + 1) : 0 }.reduce(0, +) / Double(max(1, ranks.count))
            let byKind = kinds.map { kind in
                let of = ranks.filter { $0.kind == kind }
                return pad("\(of.filter { $0.rank == 1 }.count)/\(of.count)", 13)
            }
            print(pad(name, 34) + pad("\(top1)/\(ranks.count)", 10) + pad(String(format: "%.3f", ndcg), 9) + byKind.joined())
        }
    }
}
