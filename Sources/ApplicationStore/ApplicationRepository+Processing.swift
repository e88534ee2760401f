import Foundation
import Postgres

/// What ``ApplicationRepository/beginProcessing(id:jobPostID:force:)`` started.
public struct ProcessingStart: Sendable {
    /// The application, now `PROCESSING`.
    public var application: Application
    /// Its job post without the embedding; `nil` when the post is gone.
    public var post: JobPost?
    /// The length of the post's cached embedding, `nil` when it has none.
    public var postEmbeddingDimensions: Int?

    /// Creates a start.
    public init(application: Application, post: JobPost?, postEmbeddingDimensions: Int? = nil) {
        self.application = application
        self.post = post
        self.postEmbeddingDimensions = postEmbeddingDimensions
    }
}

/// The pipeline's state changes: `PENDING → PROCESSING → COMPLETED | FAILED`.
extension ApplicationRepository {
    /// Marks the application `PROCESSING` and counts the attempt; returns the row as it is now,
    /// or `nil` when it does not exist.
    public func startProcessing(id: UUID) async throws -> Application? {
        let result = try await client.query(
            """
            UPDATE applications SET status = 'PROCESSING', attempts = attempts + 1, error_message = NULL, updated_at = now()
            WHERE id = $1 RETURNING \(Application.columns)
            """, [id])
        return try result.first.map { row throws(PostgresError) in try Application(row: row) }
    }

    /// The pipeline's first step in one statement: marks the application `PROCESSING` and counts
    /// the attempt — only if it exists, has a stored file, belongs to `jobPostID` (when given) and
    /// is not `COMPLETED` (unless `force`) — and reads its job post, whose embedding is left out
    /// (``ProcessingStart/postEmbeddingDimensions`` tells whether one is cached; callers keep it in
    /// memory rather than read 768 numbers per résumé). `nil` when any condition fails: the caller
    /// then reads the row to say which.
    public func beginProcessing(id: UUID, jobPostID: UUID?, force: Bool) async throws -> ProcessingStart? {
        let result = try await client.query(
            """
            WITH started AS (
                UPDATE applications SET status = 'PROCESSING', attempts = attempts + 1, error_message = NULL, updated_at = now()
                WHERE id = $1 AND storage_key IS NOT NULL AND ($2 OR status <> 'COMPLETED')
                    AND ($3::uuid IS NULL OR job_post_id = $3::uuid)
                RETURNING \(Application.columns)
            )
            SELECT started.*, \(JobPost.prefixedColumns(table: "p", embedding: "NULL::real[]")),
                cardinality(p.embedding) AS post_embedding_dimensions
            FROM started LEFT JOIN job_posts p ON p.id = started.job_post_id
            """, [id, force, jobPostID])
        guard let row = result.first else { return nil }
        let application = try Application(row: row)
        guard try row.decode("post_id", as: UUID?.self) != nil else { return ProcessingStart(application: application, post: nil) }
        return ProcessingStart(
            application: application, post: try JobPost(row: row, prefix: "post_"),
            postEmbeddingDimensions: try row.decode("post_embedding_dimensions", as: Int?.self))
    }

    /// Writes the pipeline's results and `COMPLETED` in one statement (one transaction): text,
    /// embedding and the `model` that made it, score, `processed_at`; clears any earlier error.
    /// Running it twice leaves the same row.
    public func complete(id: UUID, text: String, embedding: [Float], model: String, score: Double) async throws {
        _ = try await client.query(
            """
            UPDATE applications SET status = 'COMPLETED', extracted_text = $2, embedding = $3, embedding_model = $5,
                match_score = $4, error_message = NULL, processed_at = now(), updated_at = now()
            WHERE id = $1
            """, [id, text, embedding, score, model])
    }

    /// Marks the application `FAILED` with a readable reason (never `COMPLETED` rows).
    public func fail(id: UUID, reason: String) async throws {
        _ = try await client.query(
            """
            UPDATE applications SET status = 'FAILED', error_message = $2, updated_at = now()
            WHERE id = $1 AND status <> 'COMPLETED'
            """, [id, String(reason.prefix(2_000))])
    }

    /// Caches the job post's embedding made by `model`, unless another worker stored one of the
    /// same model first (a vector of another model is replaced); returns the embedding now in the row.
    public func cacheEmbedding(jobPostID: UUID, embedding: [Float], model: String) async throws -> [Float] {
        let result = try await client.query(
            """
            UPDATE job_posts SET
                embedding = CASE WHEN embedding IS NOT NULL AND embedding_model IS NOT DISTINCT FROM $3 THEN embedding ELSE $2 END,
                embedding_model = $3, updated_at = now()
            WHERE id = $1 RETURNING embedding
            """, [jobPostID, embedding, model])
        return try result.first?.decode("embedding", as: [Float]?.self) ?? embedding
    }

    /// Applications still `PENDING` that were created before `olderThan` (the sweeper's
    /// candidates), oldest first, at most `limit`.
    public func stalePending(olderThan: Date, limit: Int) async throws -> [(id: UUID, jobPostID: UUID)] {
        let result = try await client.query(
            """
            SELECT id, job_post_id FROM applications
            WHERE status = 'PENDING' AND created_at < $1
            ORDER BY status, created_at LIMIT $2
            """, [olderThan, limit])
        return try result.map { row throws(PostgresError) in (try row.decode("id", as: UUID.self), try row.decode("job_post_id", as: UUID.self)) }
    }
}
