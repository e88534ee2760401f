import AppConfig
import Foundation
import NativeQueue
import Pickle
import Redis

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
        return JobStatusReport(id: job.id, mode: .native, status: job.status.rawValue, details: .native(job))
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
