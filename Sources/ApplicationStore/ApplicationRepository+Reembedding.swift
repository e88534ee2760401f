import Foundation
import Postgres

/// A `COMPLETED` application whose embedding another model made.
public struct StaleEmbedding: Sendable, Hashable {
    /// The application.
    public var id: UUID
    /// Its job post.
    public var jobPostID: UUID
    /// The text to embed again.
    public var text: String
}

/// What `worker reembed` reads and writes after a change of embedder.
extension ApplicationRepository {
    /// Job posts (all, or `jobPostID`) with a cached vector not made by `model`.
    public func jobPostsWithStaleEmbeddings(model: String, jobPostID: UUID?) async throws -> [UUID] {
        let result = try await client.query(
            """
            SELECT id FROM job_posts WHERE embedding IS NOT NULL AND embedding_model IS DISTINCT FROM $1
                AND ($2::uuid IS NULL OR id = $2::uuid) ORDER BY id
            """, [model, jobPostID])
        return try result.map { row throws(PostgresError) in try row.decode("id", as: UUID.self) }
    }

    /// How many `COMPLETED` applications (all, or of `jobPostID`) have an embedding not made by `model`.
    public func countStaleEmbeddings(model: String, jobPostID: UUID?) async throws -> Int {
        let result = try await client.query(
            """
            SELECT count(*) AS n FROM applications WHERE status = 'COMPLETED' AND extracted_text IS NOT NULL
                AND embedding_model IS DISTINCT FROM $1 AND ($2::uuid IS NULL OR job_post_id = $2::uuid)
            """, [model, jobPostID])
        return try result.first?.decode("n", as: Int.self) ?? 0
    }

    /// The next `limit` of them in id order after `after`.
    public func staleEmbeddings(model: String, jobPostID: UUID?, after: UUID?, limit: Int) async throws -> [StaleEmbedding] {
        let result = try await client.query(
            """
            SELECT id, job_post_id, extracted_text FROM applications
            WHERE status = 'COMPLETED' AND extracted_text IS NOT NULL AND embedding_model IS DISTINCT FROM $1
                AND ($2::uuid IS NULL OR job_post_id = $2::uuid) AND ($3::uuid IS NULL OR id > $3::uuid)
            ORDER BY id LIMIT \(max(1, limit))
            """, [model, jobPostID, after])
        return try result.map { row throws(PostgresError) in
            StaleEmbedding(id: try row.decode("id"), jobPostID: try row.decode("job_post_id"), text: try row.decode("extracted_text"))
        }
    }

    /// Replaces a `COMPLETED` row's embedding, model and score (a row reprocessed meanwhile is left alone).
    public func replaceEmbedding(applicationID: UUID, embedding: [Float], model: String, score: Double) async throws {
        _ = try await client.query(
            """
            UPDATE applications SET embedding = $2, embedding_model = $3, match_score = $4, updated_at = now()
            WHERE id = $1 AND status = 'COMPLETED'
            """, [applicationID, embedding, model, score])
    }
}
