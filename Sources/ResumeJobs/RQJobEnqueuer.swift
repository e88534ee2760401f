import AppConfig
import Foundation
import Pickle
import RQ

/// RQ mode: Python RQ's wire format on `rq:queue:resume_processing` (``RQQueue``).
public struct RQJobEnqueuer: JobEnqueuer {
    /// The store (reads) on the same Redis.
    public let store: RQStore
    /// The queue name. Default: `resume_processing`.
    public var queueName: String
    /// `Retry(max=3, interval=[10, 30, 60])` by default: a job whose worker died (kill -9) is failed
    /// by RQ's abandoned-job cleanup and retried.
    public var retry: RQRetry
    /// The job timeout in seconds. Default: `180` (the queue default).
    public var timeout: Int

    /// Creates the enqueuer.
    public init(store: RQStore, queueName: String = "resume_processing", retry: RQRetry = RQRetry(maximum: 3, intervals: [10, 30, 60]), timeout: Int = 180) {
        self.store = store
        self.queueName = queueName
        self.retry = retry
        self.timeout = timeout
    }

    /// `.rq`.
    public var mode: QueueMode { .rq }

    /// `Queue('resume_processing').enqueue(process_resume_async, str(application_id), str(job_post_id), job_id=…, retry=…)`.
    public func enqueue(applicationID: UUID, jobPostID: UUID) async throws -> String {
        let call = RQCall(resumeJobFunction, args: [.string(applicationID.uuidString.lowercased()), .string(jobPostID.uuidString.lowercased())])
        let job = try await store.queue(queueName).enqueue(
            call, options: RQEnqueueOptions(jobID: resumeJobID(for: applicationID), timeout: timeout, retry: retry))
        return job.id
    }

    /// `Job.fetch` plus `latest_result()`.
    public func status(jobID: String) async throws -> JobStatusReport? {
        guard RQJob.isValidID(jobID), let job = try await store.fetchJob(jobID) else { return nil }
        let latest = try? await store.latestResult(jobID)
        return JobStatusReport(id: job.id, mode: .rq, status: job.status.rawValue, details: .rq(job, latestResult: latest))
    }

    /// Queue length and the registry sizes of the queue.
    public func queueSizes() async throws -> [(String, [(String, String)], Double)] {
        var sizes: [(String, [(String, String)], Double)] = [
            ("resume_queue_jobs", [("mode", "rq"), ("state", "queued")], Double(try await store.queue(queueName).count()))
        ]
        for registry in RQRegistry.allCases {
            let count = try await store.count(registry, queue: queueName)
            sizes.append(("resume_rq_registry_jobs", [("queue", queueName), ("registry", registry == .started ? "started" : registry.rawValue)], Double(count)))
        }
        return sizes
    }
}
