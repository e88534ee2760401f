import Foundation
import Postgres

/// How far the applications of one job post have come (the pipeline bench and the run script wait
/// on it).
public struct JobPostProgress: Sendable, Hashable {
    /// Applications `COMPLETED`.
    public var completed: Int
    /// Applications `FAILED`.
    public var failed: Int
    /// One failed application's `error_message`, if any failed.
    public var firstFailure: String?
}

extension ApplicationRepository {
    /// Counts the job post's `COMPLETED` and `FAILED` applications (with one failure's reason).
    public func progress(jobPostID: UUID) async throws -> JobPostProgress {
        let counts = try await client.query(
            "SELECT count(*) FILTER (WHERE status = 'COMPLETED'), count(*) FILTER (WHERE status = 'FAILED') FROM applications WHERE job_post_id = $1",
            [jobPostID])
        var progress = JobPostProgress(
            completed: try counts.first?.decode(0, as: Int.self) ?? 0, failed: try counts.first?.decode(1, as: Int.self) ?? 0)
        if progress.failed > 0 {
            let reason = try await client.query(
                "SELECT error_message FROM applications WHERE job_post_id = $1 AND status = 'FAILED' LIMIT 1", [jobPostID])
            progress.firstFailure = try reason.first?.decode(0, as: String?.self)
        }
        return progress
    }

    /// Each application of the job post with its `processed_at` in Unix seconds (`nil` until processed).
    public func processedTimes(jobPostID: UUID) async throws -> [(id: UUID, processedAt: Double?)] {
        try await client.query(
            "SELECT id, extract(epoch FROM processed_at)::float8 FROM applications WHERE job_post_id = $1", [jobPostID]
        ).map { (id: try $0.decode(0, as: UUID.self), processedAt: try $0.decode(1, as: Double?.self)) }
    }
}
