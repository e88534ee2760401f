import Foundation
import Providers

/// The labelled ranking set in `Fixtures/ranking/ranking.json`: job posts, each with candidates and
/// the one a recruiter puts first. Shared by the ranking test and `bench ranking`.
public struct RankingSet: Decodable, Sendable {
    /// One job post.
    public struct Post: Decodable, Sendable {
        /// One candidate's résumé.
        public struct Candidate: Decodable, Sendable {
            /// Its id within the post.
            public var id: String
            /// The résumé text.
            public var resume: String
        }
        /// The post's id.
        public var id: String
        /// `paraphrase` (the best candidate describes the work in other words) or `ordinary`.
        public var kind: String
        /// The title.
        public var title: String
        /// The description.
        public var description: String
        /// The id of the best candidate.
        public var best: String
        /// The candidates.
        public var candidates: [Candidate]

        /// The text the pipeline embeds for the post: title, blank line, description.
        public var queryText: String { title + "\n\n" + description }
    }

    /// The posts.
    public var posts: [Post]

    /// Reads the set from `url`.
    public static func load(_ url: URL) throws -> RankingSet {
        try JSONDecoder().decode(RankingSet.self, from: Data(contentsOf: url))
    }

    /// The 1-based rank `embedder` gives each post's best candidate, in post order.
    public func ranks(_ embedder: any Embedder) async throws -> [(post: Post, rank: Int)] {
        var ranks: [(Post, Int)] = []
        for post in posts {
            let query = try await embedder.embed([post.queryText], task: .query)[0]
            let documents = try await embedder.embed(post.candidates.map(\.resume), task: .document)
            let scores = zip(post.candidates, documents).map { ($0.id, cosineSimilarity(query, $1)) }.sorted { $0.1 > $1.1 }
            ranks.append((post, (scores.firstIndex { $0.0 == post.best } ?? scores.count) + 1))
        }
        return ranks
    }

    /// NDCG@3 with one relevant item at `rank`: 1/log2(rank + 1) in the top 3, else 0.
    public static func ndcgAt3(rank: Int) -> Double {
        rank <= 3 ? 1 / log2(Double(rank) + 1) : 0
    }
}
