import AppConfig
import Foundation
import NativeQueue
import Pickle
import Redis
import RQ

/// The queue-level view of one job, for `GET /jobs/{job_id}`.
public struct JobStatusReport: Sendable {
    /// The job id.
    public var id: String
    /// The queue format it lives in.
    public var mode: QueueMode
    /// The queue's own status word (`queued`, `started`, `finished`, `failed`, …).
    public var status: String
    /// Everything else, as JSON members (timestamps, attempts, error, result).
    public var details: [(String, JSONValue)]
}

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

/// Native mode: `job:{id}` hash + `resume_processing_queue` list (``NativeQueueClient``).
public struct NativeJobEnqueuer: JobEnqueuer {
    /// The client.
    public let queue: NativeQueueClient
    /// Attempts before a job is dead-lettered. Default: `3`.
    public var maxAttempts: Int
    private let redis: RedisClient

    /// Creates the enqueuer on `redis`.
    public init(redis: RedisClient, keys: NativeQueueKeys = NativeQueueKeys(), maxAttempts: Int = 3) {
        self.redis = redis
        self.queue = NativeQueueClient(redis: redis, keys: keys)
        self.maxAttempts = maxAttempts
    }

    /// `.native`.
    public var mode: QueueMode { .native }

    /// Enqueues with args `[application_id, job_post_id]` as strings.
    public func enqueue(applicationID: UUID, jobPostID: UUID) async throws -> String {
        try await queue.enqueue(
            function: resumeJobFunction,
            args: [.string(applicationID.uuidString.lowercased()), .string(jobPostID.uuidString.lowercased())],
            maxAttempts: maxAttempts, id: resumeJobID(for: applicationID))
    }

    /// `HGETALL job:{id}`.
    public func status(jobID: String) async throws -> JobStatusReport? {
        guard let job = try await queue.job(jobID) else { return nil }
        var details: [(String, JSONValue)] = [
            ("function", .string(job.function)),
            ("args", .raw((try? PythonJSON.encode(.list(job.args))) ?? Array("[]".utf8))),
            ("attempts", .int(job.attempts)), ("max_attempts", .int(job.maxAttempts)),
            ("created_at", Timestamp.value(job.createdAt)), ("started_at", Timestamp.value(job.startedAt)),
            ("ended_at", Timestamp.value(job.endedAt)), ("worker", .optional(job.worker)),
            ("error", .optional(job.error.flatMap { $0.isEmpty ? nil : $0 })),
        ]
        details.append(("result", job.result.map { .raw((try? PythonJSON.encode($0)) ?? Array("null".utf8)) } ?? .null))
        return JobStatusReport(id: job.id, mode: .native, status: job.status.rawValue, details: details)
    }

    /// Waiting, delayed and dead-lettered counts.
    public func queueSizes() async throws -> [(String, [(String, String)], Double)] {
        let keys = queue.keys
        let replies = try await redis.pipeline([
            ["LLEN", RedisArgument(keys.queue)], ["ZCARD", RedisArgument(keys.delayed)], ["LLEN", RedisArgument(keys.dead)],
        ])
        let values = replies.map { Double($0.int ?? 0) }
        return [
            ("resume_queue_jobs", [("mode", "native"), ("state", "queued")], values[0]),
            ("resume_queue_jobs", [("mode", "native"), ("state", "delayed")], values[1]),
            ("resume_queue_jobs", [("mode", "native"), ("state", "dead")], values[2]),
        ]
    }
}

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
        var details: [(String, JSONValue)] = [
            ("function", .string(job.call.functionName)),
            ("args", .raw((try? PythonJSON.encode(.list(job.call.args))) ?? Array("[]".utf8))),
            ("origin", .optional(job.origin)),
            ("created_at", Timestamp.value(job.createdAt)), ("enqueued_at", Timestamp.value(job.enqueuedAt)),
            ("started_at", Timestamp.value(job.startedAt)), ("ended_at", Timestamp.value(job.endedAt)),
            ("worker", .optional(job.workerName)), ("retries_left", job.retriesLeft.map(JSONValue.int) ?? .null),
        ]
        if let result = try? await store.latestResult(jobID) {
            var members: [(String, JSONValue)] = [("type", .string(String(describing: result.kind)))]
            if let value = result.returnValue {
                members.append(("return_value", .raw((try? PythonJSON.encode(value)) ?? Array("null".utf8))))
            }
            if let exception = result.exceptionText { members.append(("exception", .string(String(exception.suffix(2000))))) }
            members.append(("created_at", Timestamp.value(result.createdAt)))
            details.append(("latest_result", .object(members)))
        } else {
            details.append(("latest_result", .null))
        }
        return JobStatusReport(id: job.id, mode: .rq, status: job.status.rawValue, details: details)
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
