import Foundation
import LocalProviders
import Providers
import SentenceEmbedding
import Testing
import TestSupport

/// The labelled set in `Fixtures/ranking/`: job posts, five candidates each, the one a recruiter
/// puts first. The semantic embedder must rank that one first for at least 90 % of the posts.
@Suite struct RankingFixtureTests {
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

    static func load() throws -> RankingSet {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/ranking/ranking.json")
        return try JSONDecoder().decode(RankingSet.self, from: Data(contentsOf: url))
    }

    /// The ids of the posts whose best candidate `embedder` ranks first (post text as the pipeline
    /// builds it: title, blank line, description).
    static func firstPlaces(_ set: RankingSet, _ embedder: any Embedder) async throws -> [String] {
        var hits: [String] = []
        for post in set.posts {
            let query = try await embedder.embed([post.title + "\n\n" + post.description], task: .query)[0]
            let documents = try await embedder.embed(post.candidates.map(\.resume), task: .document)
            let scored = zip(post.candidates, documents).map { ($0.id, cosineSimilarity(query, $1)) }
            if scored.max(by: { $0.1 < $1.1 })?.0 == post.best { hits.append(post.id) }
        }
        return hits
    }

    @Test func theSemanticEmbedderPutsTheRightCandidateFirst() async throws {
        let set = try Self.load()
        #expect(set.posts.count >= 10)
        #expect(set.posts.allSatisfy { post in post.candidates.count >= 5 && post.candidates.contains { $0.id == post.best } })
        let embedder = try MiniLMEmbedder(configuration: MiniLMConfiguration(directory: try TestEnvironment.embeddingModel()))
        let semantic = try await Self.firstPlaces(set, embedder)
        let lexical = try await Self.firstPlaces(set, LocalEmbedder())
        let share = Double(semantic.count) / Double(set.posts.count)
        print("ranking top-1: semantic \(semantic.count)/\(set.posts.count), hashed \(lexical.count)/\(set.posts.count)")
        #expect(share >= 0.9, "semantic top-1 \(semantic.count)/\(set.posts.count); missed: \(Set(set.posts.map(\.id)).subtracting(semantic).sorted())")
    }
}
