import Foundation
import LocalProviders
import Providers
import RankingEvaluation
import SentenceEmbedding
import Testing
import TestSupport

/// The labelled set in `Fixtures/ranking/`: job posts, five candidates each, the one a recruiter
/// puts first. The semantic embedder must rank that one first for at least 90 % of the posts.
@Suite struct RankingFixtureTests {
    static func load() throws -> RankingSet {
        try RankingSet.load(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/ranking/ranking.json"))
    }

    /// The ids of the posts whose best candidate `embedder` ranks first.
    static func firstPlaces(_ set: RankingSet, _ embedder: any Embedder) async throws -> [String] {
        try await set.ranks(embedder).filter { $0.rank == 1 }.map(\.post.id)
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
