import ClientSupport
import Foundation
import Logging
import NativeQueue
import Pickle
import Redis
import ServiceLifecycle
import Synchronization

/// Settings of a ``NativeWorker``.
public struct NativeWorkerConfiguration: Sendable {
    /// Worker name, unique among live workers. Default: `<host>.<pid>.<random>`.
    public var name: String
    /// Jobs run at once. Default: `4`.
    public var concurrency: Int
    /// A job running longer is cancelled and failed as a timeout. Default: `.seconds(180)` (RQ's).
    public var jobTimeout: Duration
    /// On graceful shutdown, how long running jobs may take before they are cancelled. Default: `.seconds(30)`.
    public var shutdownGrace: Duration
    /// How often the heartbeat, retry promotion and the reaper run. Default: `.seconds(5)`.
    public var maintenanceInterval: Duration
    /// Heartbeat lifetime; a worker silent this long is presumed dead. Default: `.seconds(20)`.
    public var heartbeatTTL: Duration
    /// How long one blocking fetch waits. Default: `.seconds(1)`.
    public var fetchTimeout: Duration
    /// Exit once the queue is empty (like `rq worker --burst`). Default: `false`.
    public var burst: Bool

    /// Creates a configuration; see the properties for the defaults.
    public init(
        name: String = NativeWorkerConfiguration.defaultName(), concurrency: Int = 4, jobTimeout: Duration = .seconds(180),
        shutdownGrace: Duration = .seconds(30), maintenanceInterval: Duration = .seconds(5), heartbeatTTL: Duration = .seconds(20),
        fetchTimeout: Duration = .seconds(1), burst: Bool = false
    ) {
        precondition(concurrency >= 1, "concurrency must be at least 1")
        precondition(heartbeatTTL > maintenanceInterval, "the heartbeat must outlive the maintenance interval")
        self.name = name
        self.concurrency = concurrency
        self.jobTimeout = jobTimeout
        self.shutdownGrace = shutdownGrace
        self.maintenanceInterval = maintenanceInterval
        self.heartbeatTTL = heartbeatTTL
        self.fetchTimeout = fetchTimeout
        self.burst = burst
    }

    /// `<host>.<pid>.<6 hex>`.
    public static func defaultName() -> String {
        "\(ProcessInfo.processInfo.hostName).\(ProcessInfo.processInfo.processIdentifier).\(UUID().uuidString.prefix(6).lowercased())"
    }
}

/// Outcome counters of a worker run.
public struct NativeWorkerStatistics: Sendable, Hashable {
    /// Jobs that returned.
    public var finished = 0
    /// Failures that will be retried.
    public var retried = 0
    /// Failures that went to the dead-letter list.
    public var deadLettered = 0

    /// Creates counters.
    public init(finished: Int = 0, retried: Int = 0, deadLettered: Int = 0) {
        self.finished = finished
        self.retried = retried
        self.deadLettered = deadLettered
    }
}

/// The native-mode worker: `concurrency` fetch loops over ``NativeQueueClient`` plus a maintenance
/// loop (heartbeat, due retries, reaper). A `Service`: graceful shutdown stops fetching, lets
/// running jobs finish for up to ``NativeWorkerConfiguration/shutdownGrace``, then cancels them;
/// jobs left in this worker's processing list go back to the queue when it retires.
public final class NativeWorker: Service, Sendable {
    private let queue: NativeQueueClient
    private let redis: RedisClient
    private let handlers: JobHandlerRegistry
    private let configuration: NativeWorkerConfiguration
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let counters = Mutex(NativeWorkerStatistics())
    private let metrics = WorkerMetrics(mode: "native")

    /// Creates a worker.
    public init(redis: RedisClient, queue: NativeQueueClient, handlers: JobHandlerRegistry, configuration: NativeWorkerConfiguration, logger: Logger) {
        self.redis = redis
        self.queue = queue
        self.handlers = handlers
        self.configuration = configuration
        self.logger = logger
    }

    /// Counters so far.
    public var statistics: NativeWorkerStatistics { counters.withLock { $0 } }

    /// Runs until graceful shutdown (or, in burst mode, until the queue is empty).
    public func run() async throws {
        try await queue.heartbeat(worker: configuration.name, ttl: configuration.heartbeatTTL)
        logger.info("native worker started", metadata: [
            "worker.name": "\(configuration.name)", "worker.queue": "\(queue.keys.queue)", "worker.concurrency": "\(configuration.concurrency)",
        ])
        let grace = configuration.shutdownGrace
        var failure: (any Error)?
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withGracefulShutdownHandler {
                    try await self.runLoops()
                } onGracefulShutdown: {
                    self.stopping.store(true, ordering: .relaxed)
                }
            }
            group.addTask {
                // The grace watchdog: after a shutdown request, running jobs get `grace`, then the loops are cancelled.
                try? await gracefulShutdown()
                if Task.isCancelled { return }
                try? await Task.sleep(for: grace)
                if !Task.isCancelled { throw GraceExpired() }
            }
            // The first child to finish decides: loops done → stop the watchdog; watchdog fired → cancel the loops.
            do {
                try await group.next()
            } catch is GraceExpired {
                logger.warning("shutdown grace expired; cancelling running jobs", metadata: ["worker.name": "\(configuration.name)"])
            } catch {
                failure = error
            }
            group.cancelAll()
        }
        try await retire()
        if let failure { throw failure }
        logger.info("native worker stopped", metadata: ["worker.name": "\(configuration.name)"])
    }

    private struct GraceExpired: Error {}

    private func retire() async throws {
        // Shielded from cancellation: a cancelled worker still hands its unfinished jobs back.
        try await Task { try await queue.retire(worker: configuration.name) }.value
    }

    private func runLoops() async throws {
        // Recover dead workers' jobs and due retries before fetching, so a burst run sees them.
        let returned = try await queue.reapDeadWorkers(excluding: configuration.name)
        if !returned.isEmpty { logger.warning("returned jobs of dead workers", metadata: ["jobs": "\(returned)"]) }
        try await queue.promoteDue()
        try await withThrowingTaskGroup(of: Void.self) { group in
            let active = ActiveLoops(configuration.concurrency)
            for slot in 0..<configuration.concurrency {
                group.addTask {
                    defer { active.finishOne() }
                    try await self.fetchLoop(slot: slot)
                }
            }
            group.addTask {
                while !self.stopping.load(ordering: .relaxed), active.count > 0 {
                    do {
                        try await self.queue.heartbeat(worker: self.configuration.name, ttl: self.configuration.heartbeatTTL)
                        try await self.queue.promoteDue()
                        if let length = try await self.redis.send("LLEN", RedisArgument(self.queue.keys.queue)).int {
                            self.metrics.queueLength(self.queue.keys.queue, length)
                        }
                        let returned = try await self.queue.reapDeadWorkers(excluding: self.configuration.name)
                        if !returned.isEmpty { self.logger.warning("returned jobs of dead workers", metadata: ["jobs": "\(returned)"]) }
                    } catch is CancellationError {
                        return
                    } catch {
                        self.logger.warning("maintenance failed; will retry", metadata: ["error": "\(error)"])
                    }
                    // Sleep in short steps so that shutdown and the end of a burst are noticed promptly.
                    let clock = ContinuousClock()
                    let wake = clock.now.advanced(by: self.configuration.maintenanceInterval)
                    while clock.now < wake, !self.stopping.load(ordering: .relaxed), active.count > 0, !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Counts running fetch loops, so maintenance ends with the last one (burst mode).
    private final class ActiveLoops: Sendable {
        private let value: Mutex<Int>
        init(_ count: Int) { value = Mutex(count) }
        var count: Int { value.withLock { $0 } }
        func finishOne() { value.withLock { $0 -= 1 } }
    }

    private func fetchLoop(slot: Int) async throws {
        let connection = try await redis.makeDedicatedConnection()
        defer { connection.close() }
        var backoff = Duration.milliseconds(100)
        while !stopping.load(ordering: .relaxed) {
            let job: NativeJob?
            do {
                job = try await queue.dequeue(worker: configuration.name, on: connection, timeout: configuration.fetchTimeout)
                backoff = .milliseconds(100)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("fetch failed; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(1))
                continue
            }
            guard let job else {
                if configuration.burst, try await isDrained() { return }
                continue
            }
            await perform(job)
        }
    }

    private func isDrained() async throws -> Bool {
        let replies = try await redis.pipeline([["LLEN", RedisArgument(queue.keys.queue)], ["ZCARD", RedisArgument(queue.keys.delayed)]])
        if replies[0].int == 0 && replies[1].int != 0 { try await queue.promoteDue() }
        return replies[0].int == 0 && replies[1].int == 0
    }

    /// Runs one job under its timeout and records the outcome.
    private func perform(_ job: NativeJob) async {
        let clock = ContinuousClock()
        let start = clock.now
        let context = JobContext(jobID: job.id, functionName: job.function, args: job.args, kwargs: job.kwargs.map { ($0.key.stringValue ?? "", $0.value) })
        var metadata: Logger.Metadata = ["job.id": "\(job.id)", "job.function": "\(job.function)", "job.attempt": "\(job.attempts)"]
        logger.info("job started", metadata: metadata)
        metrics.jobStarted()
        defer { metrics.jobLeft() }
        let outcome: Result<PythonValue, JobFailure>
        if let problem = job.fieldProblem {
            // A count out of range (or not a number): dead-lettered with the reason, never run.
            outcome = .failure(JobFailure(type: "InvalidJobField", problem, isPermanent: true))
        } else if let handler = handlers.handler(for: job.function) {
            outcome = await Self.run(handler, context, timeout: configuration.jobTimeout)
        } else {
            outcome = .failure(JobHandlerRegistry.unknownFunction(job.function))
        }
        let seconds = (clock.now - start).seconds
        metadata["job.duration_ms"] = "\(Int((seconds * 1000).rounded()))"
        do {
            // An unstructured task, awaited at once: bookkeeping must not be lost to a cancellation
            // racing the job's end.
            try await Task {
                switch outcome {
                case .success(let value):
                    try await self.queue.complete(job, worker: self.configuration.name, result: value)
                    self.counters.withLock { $0.finished += 1 }
                    self.metrics.ended(outcome: "finished", seconds: seconds)
                    metadata["job.outcome"] = "finished"
                case .failure(let failure):
                    let retried = try await self.queue.fail(job, worker: self.configuration.name, error: failure.description, transient: failure.isTransient)
                    self.counters.withLock { retried ? ($0.retried += 1) : ($0.deadLettered += 1) }
                    self.metrics.ended(outcome: retried ? "retried" : "failed", seconds: seconds)
                    metadata["job.outcome"] = retried ? "retry scheduled" : "dead-lettered"
                    metadata["job.error"] = "\(failure.description.prefix(200))"
                }
                self.logger.info("job ended", metadata: metadata)
            }.value
        } catch {
            // The id stays in the processing list; the reaper or retire() returns it.
            logger.error("could not record job outcome", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
        }
    }

    /// Runs `handler`, racing a timeout; errors become ``JobFailure``s.
    static func run(_ handler: @escaping JobHandler, _ context: JobContext, timeout: Duration) async -> Result<PythonValue, JobFailure> {
        do {
            let value = try await withThrowingTaskGroup(of: PythonValue?.self) { group in
                group.addTask { try await handler(context) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { return PythonValue?.none }
                return first
            }
            guard let value else {
                return .failure(JobFailure(type: "JobTimeoutException", "Task exceeded maximum timeout value (\(timeout))", isTransient: true))
            }
            return .success(value)
        } catch let failure as JobFailure {
            return .failure(failure)
        } catch is CancellationError {
            return .failure(JobFailure(type: "ShutDownImminentException", "the worker was shut down while the job ran", isTransient: true))
        } catch {
            return .failure(JobFailure(type: String(describing: type(of: error)), "\(error)", isTransient: false))
        }
    }
}
