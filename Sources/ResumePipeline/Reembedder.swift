import ApplicationStore
import Foundation
import Logging
import Providers

/// Recomputes stored embeddings and scores after a change of embedder (`worker reembed`).
///
/// First the job posts whose cached vector another model made, then every `COMPLETED`
/// application whose embedding another model made, in id order and batches of ``batchSize``.
/// Only rows of another model are read, so a second run does nothing and an interrupted run goes
/// on where it stopped.
public struct Reembedder: Sendable {
    /// Where the rows are.
    public let repository: ApplicationRepository
    /// The embedder now configured.
    public let embedder: any Embedder
    /// Texts embedded per call. Default 16.
    public var batchSize = 16
    let logger: Logger

    /// Creates a reembedder.
    public init(repository: ApplicationRepository, embedder: any Embedder, logger: Logger) {
        self.repository = repository
        self.embedder = embedder
        self.logger = logger
    }

    /// What a run did.
    public struct Summary: Sendable, Equatable {
        /// Job post vectors recomputed.
        public var posts = 0
        /// Applications re-embedded and re-scored.
        public var applications = 0

        /// A summary with these counts.
        public init(posts: Int = 0, applications: Int = 0) {
            self.posts = posts
            self.applications = applications
        }
    }

    /// Runs over all posts, or `jobPostID`'s; `progress` gets `(done, total)` after each batch.
    public func run(jobPostID: UUID?, progress: @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> Summary {
        let model = embedder.name
        var summary = Summary()
        var postVectors: [UUID: [Float]] = [:]
        func postVector(_ id: UUID) async throws -> [Float] {
            if let vector = postVectors[id] { return vector }
            guard let post = try await repository.jobPost(id: id) else { throw PipelineError(.unknownJobPost, "job post \(id) is gone", isTransient: false) }
            let vector: [Float]
            if let stored = post.embedding(madeBy: embedder) {
                vector = stored
            } else {
                let fresh = try await embedder.embed([post.embeddingText], task: .query)[0]
                vector = try await repository.cacheEmbedding(jobPostID: id, embedding: fresh, model: model)
                summary.posts += 1
            }
            postVectors[id] = vector
            return vector
        }
        for id in try await repository.jobPostsWithStaleEmbeddings(model: model, jobPostID: jobPostID) {
            _ = try await postVector(id)
        }
        let total = try await repository.countStaleEmbeddings(model: model, jobPostID: jobPostID)
        var after: UUID?
        while true {
            let batch = try await repository.staleEmbeddings(model: model, jobPostID: jobPostID, after: after, limit: batchSize)
            guard let last = batch.last else { break }
            let vectors = try await embedder.embed(batch.map(\.text), task: .document)
            for (row, vector) in zip(batch, vectors) {
                let post = try await postVector(row.jobPostID)
                try await repository.replaceEmbedding(applicationID: row.id, embedding: vector, model: model, score: cosineSimilarity(vector, post))
                summary.applications += 1
            }
            after = last.id
            progress(summary.applications, total)
        }
        logger.info("re-embedded", metadata: ["model": "\(model)", "posts": "\(summary.posts)", "applications": "\(summary.applications)"])
        return summary
    }
}
