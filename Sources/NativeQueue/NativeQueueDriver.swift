import ClientSupport
import Foundation
import Timestamps
import JobProcessing
import Logging
import Pickle
import Redis
import Synchronization

/// Settings of a ``NativeQueueDriver``.
public struct NativeDriverConfiguration: Sendable {
    /// Worker name, unique among live workers. Default: `<host>.<pid>.<random>`.
    public var name: String
    /// A job running longer is cancelled and failed as a timeout. Default: `.seconds(180)` (RQ's).
    public var jobTimeout: Duration
    /// Heartbeat lifetime; a worker silent this long is presumed dead and reaped. Default: `.seconds(20)`.
    public var heartbeatTTL: Duration
    /// How long one blocking fetch waits. Default: `.seconds(1)`.
    public var fetchTimeout: Duration

    /// Creates a configuration; see the properties for the defaults.
    public init(name: String = NativeDriverConfiguration.defaultName(), jobTimeout: Duration = .seconds(180),
                heartbeatTTL: Duration = .seconds(20), fetchTimeout: Duration = .seconds(1)) {
        self.name = name
        self.jobTimeout = jobTimeout
        self.heartbeatTTL = heartbeatTTL
        self.fetchTimeout = fetchTimeout
    }

    /// `<host>.<pid>.<6 hex>`.
    public static func defaultName() -> String {
        "\(ProcessInfo.processInfo.hostName).\(ProcessInfo.processInfo.processIdentifier).\(UUID().uuidString.prefix(6).lowercased())"
    }
}

/// The native queue format as a ``JobQueueDriver``: the heartbeat key and worker set, reliable
/// fetch into the worker's processing list, completion, retries through the delayed set, dead
/// letters, and the reaper — all through ``NativeQueueClient``. Unclassified failures are not
/// retried (only transient ones, while attempts are left).
public final class NativeQueueDriver: JobQueueDriver, Sendable {
    /// The queue operations.
    public let queue: NativeQueueClient
    private let redis: RedisClient
    private let configuration: NativeDriverConfiguration
    private let logger: Logger
    private let connection = Mutex<RedisConnection?>(nil)
    private let lastBeat = Mutex<ContinuousClock.Instant?>(nil)

    /// Creates a driver over `queue` (its client's Redis also serves the dequeue connection).
    public init(redis: RedisClient, queue: NativeQueueClient, configuration: NativeDriverConfiguration, logger: Logger) {
        self.redis = redis
        self.queue = queue
        self.configuration = configuration
        self.logger = logger
    }

    public var workerName: String { configuration.name }
    public var metricsMode: String { "native" }
    public var retriesUnclassifiedFailures: Bool { false }
    public var loopExecutor: (any TaskExecutor)? { connection.withLock { $0?.taskExecutor } }

    public func register() async throws {
        let dedicated = try await redis.makeDedicatedConnection()
        connection.withLock { $0 = dedicated }
        try await queue.heartbeat(worker: configuration.name, ttl: configuration.heartbeatTTL)
        logger.info("native worker started", metadata: ["worker.name": "\(configuration.name)", "worker.queue": "\(queue.keys.queue)"])
    }

    /// The heartbeat key and the queue length in one round trip; an activity change within a
    /// second of the last beat is not worth one more.
    public func heartbeat(_ activity: WorkerActivity) async throws -> DriverHeartbeat {
        let now = ContinuousClock.now
        let recent = lastBeat.withLock { last in
            if let last, now - last < .seconds(1) { return true }
            last = now
            return false
        }
        if recent { return DriverHeartbeat() }
        let replies = try await redis.pipeline(heartbeatCommands() + [["LLEN", RedisArgument(queue.keys.queue)]])
        return DriverHeartbeat(queueLengths: replies.last?.int.map { [queue.keys.queue: $0] } ?? [:])
    }

    private func heartbeatCommands() -> [RedisCommand] {
        [
            ["SADD", RedisArgument(queue.keys.workers), RedisArgument(configuration.name)],
            ["SET", RedisArgument(queue.keys.heartbeat(configuration.name)), RedisArgument(WireTime.format(Date())),
             "PX", RedisArgument(Int(configuration.heartbeatTTL.seconds * 1000))],
        ]
    }

    public func dequeue(upTo limit: Int, wait: Bool) async throws -> [String] {
        try await queue.take(worker: configuration.name, on: dedicated(), limit: limit, wait: wait ? configuration.fetchTimeout : nil)
    }

    public func start(_ tickets: [String]) async throws -> JobStarts<NativeJob> {
        let (jobs, failed) = try await queue.start(tickets, worker: configuration.name, on: dedicated())
        return JobStarts(jobs: jobs.map(claim), failed: failed)
    }

    private func claim(_ job: NativeJob) -> ClaimedJob<NativeJob> {
        ClaimedJob(
            lease: job,
            context: JobContext(jobID: job.id, functionName: job.function, args: job.args,
                                kwargs: job.kwargs.map { ($0.key.stringValue ?? "", $0.value) }),
            executionID: "\(job.id):\(job.attempts)", retriesLeft: max(0, job.maxAttempts - job.attempts),
            timeout: configuration.jobTimeout,
            // A count out of range (or not a number): dead-lettered with the reason, never run.
            rejection: job.fieldProblem.map { JobFailure(type: "InvalidJobField", $0, kind: .permanent) },
            logMetadata: ["job.attempt": "\(job.attempts)"])
    }

    /// Running jobs keep the worker's heartbeat key alive (the idle heartbeat waits while every
    /// slot is busy).
    public func heartbeat(running: [ClaimedJob<NativeJob>]) async {
        do {
            _ = try await redis.pipeline(heartbeatCommands())
        } catch {
            logger.warning("heartbeat failed; will retry", metadata: ["error": "\(error)"])
        }
    }

    public func finish(_ job: ClaimedJob<NativeJob>, as disposition: JobDisposition, endedAt: Date) async throws -> JobDisposition {
        switch disposition {
        case .finished(let value):
            try await queue.complete(job.lease, worker: configuration.name, result: value)
        case .retry(let failure):
            try await queue.fail(job.lease, worker: configuration.name, error: failure.description, retry: true, now: endedAt)
        case .failed(let failure), .stopped(let failure):
            try await queue.fail(job.lease, worker: configuration.name, error: failure.description, retry: false, now: endedAt)
        }
        return disposition
    }

    /// Due retries back to the queue, then the reaper.
    public func maintain() async {
        do {
            try await queue.promoteDue()
            let returned = try await queue.reapDeadWorkers(excluding: configuration.name)
            if !returned.isEmpty { logger.warning("returned jobs of dead workers", metadata: ["jobs": "\(returned)"]) }
        } catch is CancellationError {
            return
        } catch {
            logger.warning("maintenance failed; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// Nothing queued and no retry waiting (a due one is promoted on the way).
    public func isDrained() async throws -> Bool {
        let replies = try await redis.pipeline([["LLEN", RedisArgument(queue.keys.queue)], ["ZCARD", RedisArgument(queue.keys.delayed)]])
        if replies[0].int == 0 && replies[1].int != 0 { try await queue.promoteDue() }
        return replies[0].int == 0 && replies[1].int == 0
    }

    /// Any error but a cancellation: the fetch is retried with backoff.
    public func isRecoverable(_ error: any Error) -> Bool { !(error is CancellationError) }

    public func runCompanions(_ control: JobProcessorControl) async throws {}

    /// Unfinished jobs back to the queue, the worker out of the set.
    public func deregister() async throws {
        let dedicated = connection.withLock { connection in
            defer { connection = nil }
            return connection
        }
        dedicated?.close()
        try await queue.retire(worker: configuration.name)
        logger.info("native worker stopped", metadata: ["worker.name": "\(configuration.name)"])
    }

    private func dedicated() throws -> RedisConnection {
        guard let connection = connection.withLock({ $0 }) else { throw NativeQueueError("the driver is not registered") }
        return connection
    }
}
