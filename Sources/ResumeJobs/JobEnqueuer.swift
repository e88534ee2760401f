import AppConfig
import Foundation

/// Puts a résumé-processing job on the queue; one implementation per ``QueueMode``.
///
/// **Job ids are the application id** (lowercase UUID). Enqueueing the same application twice
/// therefore addresses the same job hash (`job:{id}` / `rq:job:{id}`) instead of creating a second
/// job, `GET /jobs/{application_id}` always finds the application's job, and a sweeper that
/// re-enqueues `PENDING` rows can check that job's status first.
public protocol JobEnqueuer: Sendable {
    /// The queue format.
    var mode: QueueMode { get }
    /// Enqueues `process_resume_async(application_id, job_post_id)` and returns the job id.
    func enqueue(applicationID: UUID, jobPostID: UUID) async throws -> String
    /// The job's queue-level state, or `nil` when no such job exists.
    func status(jobID: String) async throws -> JobStatusReport?
    /// Queue sizes sampled for `/metrics`: (metric name, labels, value).
    func queueSizes() async throws -> [(String, [(String, String)], Double)]
}

/// The dotted name of the résumé job, the same in both modes (the seed's function).
public let resumeJobFunction = "app.workers.async_resume_processor.process_resume_async"

/// The job id of an application's processing job: its id, lowercase.
public func resumeJobID(for applicationID: UUID) -> String { applicationID.uuidString.lowercased() }
