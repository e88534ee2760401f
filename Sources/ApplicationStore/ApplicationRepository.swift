import Foundation
import Postgres

/// SQL over `job_posts` and `applications`; parameterised statements only.
///
/// Reads and inserts shared by the API and the pipeline live here; the pipeline's state changes are
/// in `ApplicationRepository+Processing.swift`, the API's listings in `ApplicationRepository+Listing.swift`.
public struct ApplicationRepository: Sendable {
    /// The client every statement goes through.
    public let client: PostgresClient

    /// Creates a repository over `client`.
    public init(client: PostgresClient) {
        self.client = client
    }

    /// Inserts `post`.
    public func insert(_ post: JobPost) async throws {
        _ = try await client.query(
            """
            INSERT INTO job_posts (id, title, description, seniority_level, embedding, embedding_model, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """,
            [post.id, post.title, post.description, post.seniorityLevel.rawValue, post.embedding, post.embeddingModel, post.createdAt, post.updatedAt]
        )
    }

    /// The job post `id`, or `nil`.
    public func jobPost(id: UUID) async throws -> JobPost? {
        let result = try await client.query("SELECT \(JobPost.columns) FROM job_posts WHERE id = $1", [id])
        return try result.first.map { row throws(PostgresError) in try JobPost(row: row) }
    }

    /// Whether job post `id` exists (reads no columns: the upload route's check).
    public func jobPostExists(id: UUID) async throws -> Bool {
        try await !client.query("SELECT 1 FROM job_posts WHERE id = $1", [id]).isEmpty
    }

    /// Inserts `application` (normally `PENDING`). A job post that does not exist fails with
    /// SQLSTATE `23503` (foreign key).
    public func insert(_ application: Application) async throws {
        _ = try await client.query(
            """
            INSERT INTO applications (id, job_post_id, candidate_name, email, seniority_level, status, original_filename,
                content_type, file_size, file_sha256, storage_key, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            """,
            [
                application.id, application.jobPostID, application.candidateName, application.email,
                application.seniorityLevel.rawValue, application.status.rawValue, application.originalFilename,
                application.contentType, application.fileSize, application.fileSHA256, application.storageKey,
                application.createdAt, application.updatedAt,
            ]
        )
    }

    /// The application `id`, or `nil`.
    public func application(id: UUID) async throws -> Application? {
        let result = try await client.query("SELECT \(Application.columns) FROM applications WHERE id = $1", [id])
        return try result.first.map { row throws(PostgresError) in try Application(row: row) }
    }
}
