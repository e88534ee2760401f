import ClientSupport
import Foundation
import Logging
import Pickle
import Redis
import RQ
import ServiceLifecycle
import Synchronization

/// Settings of an ``RQWorker``.
public struct RQWorkerConfiguration: Sendable {
    /// Worker name (`uuid4().hex` like RQ by default); must be unique among live workers.
    public var name: String
    /// Queue names in priority order. Default: `["resume_processing"]`.
    public var queues: [String]
    /// Exit when the queues are empty (`rq worker --burst`). Default: `false`.
    public var burst: Bool
    /// RQ's `worker_ttl`: the idle worker hash lives `workerTTL + 60` s. Default: `420`.
    public var workerTTL: Int
    /// How long one idle blocking dequeue waits before heartbeating again. Default: `.seconds(5)`.
    public var dequeueTimeout: Duration
    /// The payload serializer. Default: `.pickle`.
    public var serializer: RQSerializer
    /// The keyspace. Default: `rq:`.
    public var keys: RQKeys
    /// RQ's `job_monitoring_interval`: how often a running job's heartbeat refreshes the worker,
    /// execution and started-registry TTLs. Default: `.seconds(30)`.
    public var jobMonitoringInterval: Duration = .seconds(30)
    /// Jobs run at once in this process (each with its own execution record). Default: `1`.
    public var concurrency: Int
    /// Also run RQ's scheduler (`rq worker --with-scheduler`): take `rq:scheduler-lock:Q` and move
    /// due scheduled jobs (`enqueue_at`/`enqueue_in`, interval retries). Default: `false`.
    public var withScheduler: Bool
    /// How often registry maintenance runs (RQ's `maintenance_interval`); it also runs at start.
    /// Default: `.seconds(600)`.
    public var maintenanceInterval: Duration = .seconds(600)
    /// How often the idle heartbeat (worker TTL, `rq:suspended` check, queue length sample) runs at
    /// most. Default: `.seconds(1)`.
    public var heartbeatInterval: Duration = .seconds(1)
    /// A registered worker whose `rq:pubsub:W` channel has had no subscriber for this long is
    /// declared dead and its started jobs are retried (or failed) at once, instead of after RQ's
    /// 60–90 s started-registry expiry; an id left in the intermediate list this long is handled
    /// as RQ handles one stuck for a minute. `nil` turns both checks off. Default: `.seconds(15)`.
    public var vanishedWorkerGrace: Duration? = .seconds(15)
    /// How often the vanished-worker check runs. Default: `.seconds(5)`.
    public var vanishedWorkerCheckInterval: Duration = .seconds(5)

    /// Creates a configuration; see the properties for the defaults.
    public init(
        name: String = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
        queues: [String] = ["resume_processing"], burst: Bool = false, workerTTL: Int = 420,
        dequeueTimeout: Duration = .seconds(5), serializer: RQSerializer = .pickle, keys: RQKeys = .default,
        concurrency: Int = 1, withScheduler: Bool = false
    ) {
        precondition(!queues.isEmpty, "an RQ worker needs a queue")
        precondition(concurrency >= 1, "concurrency must be at least 1")
        self.name = name
        self.queues = queues
        self.burst = burst
        self.workerTTL = workerTTL
        self.dequeueTimeout = dequeueTimeout
        self.serializer = serializer
        self.keys = keys
        self.concurrency = concurrency
        self.withScheduler = withScheduler
    }
}

/// A Swift peer of Python's `rq worker`: registers in `rq:workers` and `rq:workers:Q`, dequeues
/// with `BLMOVE` into the intermediate list (one queue) or `BLPOP` (several), runs up to
/// `concurrency` jobs at once (each with its own execution record), writes the execution,
/// started-registry, job, result and registry records in RQ's transactions (`docs/rq-wire.md`,
/// "Worker records" to "Failure, retries and stops", and "Serving RQ 2.12 and 3.0 at once"), runs RQ's maintenance under the
/// `rq:clean_registries:Q` lock and, optionally, RQ's scheduler; and dies cleanly.
///
/// Shutdown: graceful shutdown stops dequeuing and lets running jobs finish; cancellation (a cold
/// shutdown, or the group's grace period running out) cancels them, and each is recorded as RQ
/// records an interrupted job — retried if it has `retries_left`, failed otherwise.
public final class RQWorker: Service, Sendable {
    private let redis: RedisClient
    private let handlers: JobHandlerRegistry
    private let configuration: RQWorkerConfiguration
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let counters = Mutex(NativeWorkerStatistics())
    /// Running jobs by execution id, and the executions a pubsub command asked to stop.
    private let running = Mutex(RunningJobs())
    private let metrics = WorkerMetrics(mode: "rq")
    /// Jobs dequeued and not yet recorded (the work loop's slot count).
    private let activeJobs = Atomic<Int>(0)

    private struct RunningJob {
        var jobID: String
        var task: Task<Result<PythonValue, JobFailure>, Never>?
        var queue: String
        var started: Date
        /// The job's `timeout` in seconds (≤ 0: none).
        var timeout: Int
        var deadline: ContinuousClock.Instant
    }

    private struct RunningJobs {
        var jobs: [String: RunningJob] = [:]
        var stopRequested: Set<String> = []
        /// Executions the job monitor cancelled because their deadline passed.
        var timedOut: Set<String> = []
    }

    /// Creates a worker.
    public init(redis: RedisClient, handlers: JobHandlerRegistry, configuration: RQWorkerConfiguration, logger: Logger) {
        self.redis = redis
        self.handlers = handlers
        self.configuration = configuration
        self.logger = logger
    }

    /// Counters so far (`retried` counts exception retries).
    public var statistics: NativeWorkerStatistics { counters.withLock { $0 } }

    private var keys: RQKeys { configuration.keys }
    private var workerKey: RedisArgument { RedisArgument(keys.worker(configuration.name)) }

    /// Runs until graceful shutdown (warm: the running job finishes) or, with `burst`, until empty.
    public func run() async throws {
        try await register()
        var failure: (any Error)?
        do {
            try await withGracefulShutdownHandler {
                // Commands arrive on rq:pubsub:W while the loop works (docs/rq-wire.md, "Pub/sub commands").
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await self.listenForCommands() }
                    group.addTask { await self.monitorJobs() }
                    if self.configuration.withScheduler {
                        group.addTask { try await self.runScheduler() }
                    }
                    try await self.workLoop()
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                self.stopping.store(true, ordering: .relaxed)
            }
        } catch {
            failure = error
        }
        // An unstructured task, awaited at once, so that a cancelled (cold-stopped) worker still
        // deregisters: `die()` must not inherit the cancellation.
        do {
            try await Task { try await self.die() }.value
        } catch where failure != nil {
            // The work loop's error is the one worth reporting.
        }
        if let failure { throw failure }
    }

    // MARK: Birth, heartbeat, death

    private func register() async throws {
        let key = keys.worker(configuration.name)
        let exists = try await redis.send("EXISTS", RedisArgument(key)).int == 1
        if exists, try await redis.send("HEXISTS", RedisArgument(key), "death").int == 0 {
            throw RQError(.invalidArgument, "There exists an active worker named '\(configuration.name)' already")
        }
        _ = try await redis.transaction(registrationCommands())
        logger.info("rq worker started", metadata: ["worker.name": "\(configuration.name)", "worker.queues": "\(configuration.queues)"])
    }

    /// The birth transaction: the full worker hash, both worker sets, the idle TTL.
    private func registrationCommands() -> [RedisCommand] {
        let key = keys.worker(configuration.name)
        let now = RQTime.format(Date())
        var commands: [RedisCommand] = [
            ["DEL", RedisArgument(key)],
            ["HSET", RedisArgument(key), "birth", RedisArgument(now), "last_heartbeat", RedisArgument(now),
             "queues", RedisArgument(configuration.queues.joined(separator: ",")),
             "pid", RedisArgument(Int(ProcessInfo.processInfo.processIdentifier)),
             "hostname", RedisArgument(ProcessInfo.processInfo.hostName), "ip_address", "unknown",
             "version", "2.12.0", "python_version", "resume-processor (Swift)", "state", "started"],
            ["SADD", RedisArgument(keys.workers), RedisArgument(key)],
        ]
        for queue in configuration.queues {
            commands.append(["SADD", RedisArgument(keys.workers(queue: queue)), RedisArgument(key)])
        }
        commands.append(["EXPIRE", RedisArgument(key), RedisArgument(configuration.workerTTL + 60)])
        return commands
    }

    private func die() async throws {
        var commands: [RedisCommand] = [
            ["HSET", workerKey, "death", RedisArgument(RQTime.format(Date())), "state", "dead"],
            ["EXPIRE", workerKey, "60"],
            ["DEL", RedisArgument(keys.workerExecutions(configuration.name))],
            ["SREM", RedisArgument(keys.workers), workerKey],
        ]
        for queue in configuration.queues {
            commands.append(["SREM", RedisArgument(keys.workers(queue: queue)), workerKey])
        }
        _ = try await redis.transaction(commands)
        logger.info("rq worker stopped", metadata: ["worker.name": "\(configuration.name)"])
    }

    /// One task watching every running job: cancels a job whose `timeout` passed (recorded as
    /// RQ's `JobTimeoutException`) and sends the busy heartbeats (docs/rq-wire.md, "Busy heartbeats") every
    /// `jobMonitoringInterval`, so RQ never takes a long job for abandoned.
    private func monitorJobs() async {
        let clock = ContinuousClock()
        var nextHeartbeat = clock.now.advanced(by: configuration.jobMonitoringInterval)
        var nextReclaim = clock.now.advanced(by: configuration.vanishedWorkerCheckInterval)
        let store = RQStore(redis: redis, keys: keys, serializer: configuration.serializer)
        let tick = min(Duration.milliseconds(100), configuration.jobMonitoringInterval)
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            let now = clock.now
            if let grace = configuration.vanishedWorkerGrace, now >= nextReclaim {
                nextReclaim = now.advanced(by: configuration.vanishedWorkerCheckInterval)
                await reclaimVanishedWorkers(store, grace: grace)
            }
            let snapshot = running.withLock { state -> [(String, RunningJob)] in
                for (executionID, job) in state.jobs where job.deadline <= now && !state.timedOut.contains(executionID) {
                    state.timedOut.insert(executionID)
                    job.task?.cancel()
                }
                return Array(state.jobs)
            }
            guard now >= nextHeartbeat else { continue }
            nextHeartbeat = now.advanced(by: configuration.jobMonitoringInterval)
            for (executionID, job) in snapshot {
                let elapsed = RQLimits.saturatingInt(Date().timeIntervalSince(job.started))
                let ttl = (job.timeout > 0 ? max(0, min(RQLimits.adding(job.timeout, -elapsed), 30)) : 30) + 60
                try? await busyHeartbeat(jobID: job.jobID, executionID: executionID, queue: job.queue, ttl: ttl)
            }
        }
    }

    /// Runs a handler, mapping what it throws to a ``JobFailure`` (cancellation: the worker is
    /// shutting down, or the monitor or a stop command stopped the job; the caller tells which).
    private static func call(_ handler: JobHandler, _ context: JobContext) async -> Result<PythonValue, JobFailure> {
        do {
            return .success(try await handler(context))
        } catch let failure as JobFailure {
            return .failure(failure)
        } catch is CancellationError {
            return .failure(JobFailure(type: "ShutDownImminentException", "the worker was shut down while the job ran", isTransient: true))
        } catch {
            return .failure(JobFailure(type: String(describing: type(of: error)), "\(error)"))
        }
    }

    /// Commands arrive on `rq:pubsub:W` while the loop works (`docs/rq-wire.md`, "Pub/sub commands"); a lost
    /// subscription (Redis restarting) is renewed with backoff until the worker stops.
    private func listenForCommands() async {
        let backoff = Backoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1))
        var failures = 0
        while !Task.isCancelled {
            do {
                try await redis.subscribe(to: [keys.pubsub(configuration.name)]) { messages in
                    for try await message in messages {
                        failures = 0
                        self.handleCommand(message.payload)
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                let delay = backoff.delay(afterAttempt: failures)
                failures += 1
                logger.warning("pubsub subscription lost; renewing", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// `shutdown` (warm), `kill-horse`, `stop-job` (matching job id) and 3.0's `stop-execution`
    /// (matching execution id); anything else is ignored, as RQ does.
    private func handleCommand(_ payload: [UInt8]) {
        guard let value = try? PythonJSON.decode(payload), let command = value["command"]?.stringValue else { return }
        logger.info("received pubsub command", metadata: ["rq.command": "\(command)"])
        switch command {
        case "shutdown":
            stopping.store(true, ordering: .relaxed)
        case "kill-horse", "stop-job", "stop-execution":
            running.withLock { state in
                for (executionID, job) in state.jobs {
                    if command == "stop-job", value["job_id"]?.stringValue != job.jobID { continue }
                    if command == "stop-execution", value["execution_id"]?.stringValue != executionID { continue }
                    state.stopRequested.insert(executionID)
                    job.task?.cancel()
                }
            }
        default:
            return
        }
    }

    // MARK: The loop

    private func workLoop() async throws {
        let connection = try await redis.makeDedicatedConnection()
        defer { connection.close() }
        let single = configuration.queues.count == 1
        let store = RQStore(redis: redis, keys: keys, serializer: configuration.serializer)
        let clock = ContinuousClock()
        var nextMaintenance = clock.now
        var nextHeartbeat = clock.now
        var lastState = ""
        let backoff = Backoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1))
        var failures = 0
        // Slots: `active` jobs run as children of a discarding group; each signals `slotFreed` when
        // it ends, so the loop can wait for room without collecting results.
        let (slotFreed, slotSignal) = AsyncStream<Void>.makeStream()
        var slots = slotFreed.makeAsyncIterator()
        // The loop runs on its connection's own thread: its dequeues and job starts then need no hop
        // between threads (the jobs themselves are started on the global executor, below).
        try await withTaskExecutorPreference(connection.taskExecutor) {
            try await withThrowingDiscardingTaskGroup { group in
                while !stopping.load(ordering: .relaxed) {
                    try Task.checkCancellation()
                    do {
                        if clock.now >= nextMaintenance {
                            nextMaintenance = clock.now.advanced(by: configuration.maintenanceInterval)
                            await maintain(store)
                        }
                        if self.activeJobs.load(ordering: .relaxed) >= configuration.concurrency {
                            // Every slot is busy: wait for a job to end before dequeuing more.
                            _ = await slots.next()
                            continue
                        }
                        // Idle heartbeat and suspension check, at most once per heartbeat interval and on
                        // every state change, in one transaction as RQ does.
                        let inFlight = self.activeJobs.load(ordering: .relaxed)
                        let state = inFlight == 0 ? "idle" : "busy"
                        if clock.now >= nextHeartbeat || state != lastState {
                            nextHeartbeat = clock.now.advanced(by: configuration.heartbeatInterval)
                            lastState = state
                            if try await heartbeatAndCheckSuspended(state: state) {
                                if configuration.burst && inFlight == 0 { return }
                                lastState = "suspended"
                                try await Task.sleep(for: .seconds(1))
                                continue
                            }
                            if let length = try? await connection.send("LLEN", RedisArgument(keys.queue(configuration.queues[0]))).int {
                                metrics.queueLength(configuration.queues[0], length)
                            }
                        }
                        // Up to every free slot at once: one blocking pop, then non-blocking pops for the
                        // rest in the same round trip, then every hash in one more.
                        let room = configuration.concurrency - self.activeJobs.load(ordering: .relaxed)
                        let popped = try await dequeue(on: connection, single: single, block: !configuration.burst, limit: room)
                        guard !popped.isEmpty else {
                            if configuration.burst {
                                // Empty: a burst worker leaves once its running jobs ended (they may
                                // release dependents or retry, so look once more after each).
                                if self.activeJobs.load(ordering: .relaxed) == 0 { return }
                                _ = await slots.next()
                            }
                            continue
                        }
                        failures = 0
                        // The ids are in hand (popped, or in the intermediate list): start them and read
                        // their hashes in one pipelined round trip (one atomic script per job), even
                        // through a Redis outage rather than drop them.
                        let starts = popped.map { queue, id in
                            (queue: queue, id: id, start: ExecutionStart(executionID: UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()))
                        }
                        let scripts = starts.map { startScript($0.id, queue: $0.queue, start: $0.start, single: single) }
                        var replies: [RedisReply] = []
                        try await persistently("job start") {
                            replies = try await connection.pipeline(scripts)
                            // Replies come back in place; a passing server condition (LOADING after
                            // a restart) means the scripts did not run: all of them again (each is
                            // idempotent), not "missing hash".
                            for reply in replies {
                                if case .error(let message) = reply, RedisClientError.isTransientServerError(message) {
                                    throw RedisClientError(.serverError, message)
                                }
                            }
                        }
                        for (item, reply) in zip(starts, replies) {
                            let fields = reply.fieldMap
                            guard !fields.isEmpty else { continue }  // a missing hash is skipped, as RQ does
                            let job: RQJob
                            do {
                                job = try RQJob(id: item.id, hash: fields, serializer: configuration.serializer)
                            } catch {
                                logger.error("job hash unreadable; failing it", metadata: ["job.id": "\(item.id)", "error": "\(error)"])
                                try await failUnreadable(item.id, queue: item.queue, reason: (error as? RQError)?.message ?? "\(error)", single: single, start: item.start)
                                continue
                            }
                            self.activeJobs.add(1, ordering: .relaxed)
                            lastState = "busy"
                            group.addTask(executorPreference: globalConcurrentExecutor) {
                                defer {
                                    self.activeJobs.subtract(1, ordering: .relaxed)
                                    slotSignal.yield()
                                }
                                try await self.perform(job, queue: item.queue, single: single, start: item.start)
                            }
                        }
                    } catch let error as RedisClientError where error.isTransient || error.code == .serverError {
                        // Redis went away (or refuses for now, e.g. OOM): the connections reconnect by
                        // themselves; wait and carry on rather than let the worker die.
                        // A job dequeued just before stays in the intermediate list and is recovered by
                        // maintenance (retried or failed like RQ's stuck-intermediate rule).
                        let delay = backoff.delay(afterAttempt: failures)
                        failures += 1
                        logger.warning("redis unavailable; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                        try await Task.sleep(for: delay)
                    }
                }
                // Warm shutdown: the group waits for the running jobs; cancellation cuts them short.
            }
        }
        slotSignal.finish()
    }

    /// Dequeues up to `limit` ids. One queue: `BLMOVE` into the intermediate list (`LMOVE` when
    /// not blocking), then further `LMOVE`s pipelined in one round trip — each move atomic, as in
    /// RQ. Several queues: one `BLPOP` in priority order (`LPOP` each when not blocking). Empty
    /// when nothing is queued.
    private func dequeue(on connection: RedisConnection, single: Bool, block: Bool, limit: Int) async throws -> [(String, String)] {
        let seconds = RedisArgument(max(1, Int(configuration.dequeueTimeout.components.seconds)))
        if single {
            let name = configuration.queues[0]
            let move: RedisCommand = ["LMOVE", RedisArgument(keys.queue(name)), RedisArgument(keys.intermediate(name)), "LEFT", "RIGHT"]
            var ids: [String] = []
            var more = limit
            if block {
                let reply = try await connection.sendBlocking(
                    ["BLMOVE", RedisArgument(keys.queue(name)), RedisArgument(keys.intermediate(name)), "LEFT", "RIGHT", seconds],
                    timeout: configuration.dequeueTimeout)
                guard let first = reply.string else { return [] }
                ids.append(first)
                more -= 1
            }
            if more > 0 {
                ids += try await connection.pipeline(Array(repeating: move, count: more)).compactMap(\.string)
            }
            return ids.map { (name, $0) }
        }
        if !block {
            for name in configuration.queues {
                if let value = try await connection.send("LPOP", RedisArgument(keys.queue(name))).string { return [(name, value)] }
            }
            return []
        }
        let reply = try await connection.sendBlocking(
            ["BLPOP"] + configuration.queues.map { RedisArgument(keys.queue($0)) } + [seconds], timeout: configuration.dequeueTimeout)
        guard let parts = reply.array, parts.count == 2, let key = parts[0].string, let value = parts[1].string else { return [] }
        return [(String(key.dropFirst(keys.queuePrefix.count)), value)]
    }

    /// `MULTI; HSET last_heartbeat [state]; EXPIRE; EXISTS rq:suspended; EXEC`. Returns whether
    /// the worker is suspended (then its state says so).
    private func heartbeatAndCheckSuspended(state: String) async throws -> Bool {
        let ttl = RedisArgument(configuration.workerTTL + 60)
        if try await redis.send("SISMEMBER", RedisArgument(keys.workers), workerKey).int == 0 {
            // Redis lost our registration (restarted without persistence, or flushed): born again.
            logger.warning("worker registration missing in Redis; registering again", metadata: ["worker.name": "\(configuration.name)"])
            _ = try await redis.transaction(registrationCommands())
        }
        let replies = try await redis.transaction([
            ["HSET", workerKey, "last_heartbeat", RedisArgument(RQTime.format(Date())), "state", RedisArgument(state)],
            ["EXPIRE", workerKey, ttl],
            ["EXPIRE", RedisArgument(keys.workerExecutions(configuration.name)), ttl],
            ["EXISTS", RedisArgument(keys.suspended)],
        ])
        guard replies?.last?.int == 1 else { return false }
        _ = try await redis.send("HSET", workerKey, "state", "suspended")
        return true
    }

    /// RQ's maintenance pass; failures are logged, never fatal (the next pass tries again).
    /// Jobs of workers whose command channel went silent (killed, host gone) are retried or failed
    /// after `grace` instead of RQ's 60–90 s (``RQStore/reclaimVanishedWorkers(queue:grace:excluding:now:)``).
    private func reclaimVanishedWorkers(_ store: RQStore, grace: Duration) async {
        for queue in configuration.queues {
            do {
                let report = try await store.reclaimVanishedWorkers(queue: queue, grace: grace, excluding: configuration.name)
                if !report.workers.isEmpty {
                    logger.warning("workers vanished; their jobs were reclaimed", metadata: [
                        "rq.queue": "\(queue)", "workers": "\(report.workers)", "jobs.retried": "\(report.retried.count)",
                        "jobs.failed": "\(report.failed.count)",
                    ])
                }
                if let (_, stuck) = try await store.cleanStuckIntermediate(queue: queue, workerName: configuration.name, stuckAfter: grace),
                   !stuck.isEmpty {
                    logger.warning("ids stuck in the intermediate list were retried or failed", metadata: [
                        "rq.queue": "\(queue)", "jobs": "\(stuck.count)",
                    ])
                }
            } catch is CancellationError {
                return
            } catch {
                logger.debug("vanished-worker check failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    private func maintain(_ store: RQStore) async {
        do {
            let report = try await store.runMaintenance(queues: configuration.queues, workerName: configuration.name)
            if !report.retried.isEmpty || !report.failed.isEmpty || report.prunedWorkers > 0 || report.intermediateRemoved > 0 {
                logger.info("maintenance", metadata: [
                    "rq.queues": "\(report.queues)", "jobs.retried": "\(report.retried.count)", "jobs.failed": "\(report.failed.count)",
                    "workers.pruned": "\(report.prunedWorkers)", "intermediate.removed": "\(report.intermediateRemoved)",
                ])
            }
        } catch is CancellationError {
            return
        } catch {
            logger.warning("maintenance failed; will retry next interval", metadata: ["error": "\(error)"])
        }
    }

    /// `--with-scheduler`: every second, heartbeat the scheduler hash and its locks and move due
    /// jobs of the queues it owns; every 10 s try to take the locks it does not own (a dead
    /// scheduler's lock expires after 61 s). Locks are released when the worker stops.
    private func runScheduler() async throws {
        let store = RQStore(redis: redis, keys: keys, serializer: configuration.serializer)
        let scheduler = RQScheduler(name: configuration.name, queues: configuration.queues, store: store)
        var owned = Set<String>()
        do {
            try await schedule(scheduler, owned: &owned)
        } catch {
            await Self.release(scheduler, owned: owned)
            throw error
        }
        await Self.release(scheduler, owned: owned)
    }

    /// Releases the scheduler's locks and deletes its record before the worker goes on stopping.
    private static func release(_ scheduler: RQScheduler, owned: Set<String>) async {
        // Unstructured on purpose, and awaited: the worker is stopping, so this task is cancelled
        // and its own Redis calls would refuse to start; a separate task still reaches Redis, and
        // awaiting it means the process does not exit halfway (lock released, record left). Bounded
        // by the Redis client's reconnect budget; if it fails, the lock expires within 61 s.
        await Task { try? await scheduler.stop(owned: owned) }.value
    }

    /// The scheduler's ticks until the worker stops; `owned` tracks the queues whose lock it holds.
    private func schedule(_ scheduler: RQScheduler, owned: inout Set<String>) async throws {
        var lastAcquire = ContinuousClock.now.advanced(by: .seconds(-60))
        while !Task.isCancelled && !stopping.load(ordering: .relaxed) {
            do {
                if owned.count < configuration.queues.count, ContinuousClock.now - lastAcquire >= .seconds(10) {
                    lastAcquire = .now
                    let acquired = try await scheduler.acquireLocks(configuration.queues.filter { !owned.contains($0) })
                    if !acquired.isEmpty { logger.info("scheduler lock acquired", metadata: ["rq.queues": "\(acquired.sorted())"]) }
                    owned.formUnion(acquired)
                }
                owned = try await scheduler.heartbeat(owned: owned)
                for queue in owned.sorted() {
                    let moved = try await scheduler.enqueueDueJobs(queue: queue)
                    if !moved.isEmpty { logger.debug("scheduled jobs enqueued", metadata: ["rq.queue": "\(queue)", "jobs": "\(moved.count)"]) }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("scheduler tick failed; retrying", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: .seconds(scheduler.interval))
        }
    }

    // MARK: One job

    private func perform(_ job: RQJob, queue: String, single: Bool, start: ExecutionStart) async throws {
        var job = job
        let executionID = start.executionID
        let timeout = job.timeout ?? 180
        let started = start.date
        let member = "\(job.id):\(executionID)"
        let executionKey = RedisArgument(keys.execution(job: job.id, execution: executionID))
        let ts = start.isoText
        metrics.jobStarted()
        defer { metrics.jobLeft() }
        job.status = .started
        job.startedAt = RQTime.parse(ts)
        job.lastHeartbeat = job.startedAt
        job.workerName = configuration.name

        let context = JobContext(jobID: job.id, functionName: job.call.functionName, args: job.call.args, kwargs: job.call.kwargs)
        logger.info("job started", metadata: ["job.id": "\(job.id)", "job.function": "\(job.call.functionName)", "rq.queue": "\(queue)"])
        var outcome: Result<PythonValue, JobFailure>
        if let problem = job.fieldProblems.first {
            // A number out of range (see `RQLimits`): failed with the reason, never run; its
            // `failure_ttl` (if that was the bad field) defaults to one year, as RQ's does.
            logger.warning("job field out of range; failing it", metadata: ["job.id": "\(job.id)", "problem": "\(problem)"])
            outcome = .failure(JobFailure(type: "InvalidJobField", problem.description, isPermanent: true))
        } else if let handler = handlers.handler(for: job.call.functionName) {
            let limit: Duration = timeout > 0 ? .seconds(timeout) : .seconds(365 * 86_400)
            // Unstructured on purpose: the pubsub listener (stop-job) and the job monitor (timeout)
            // need this handle to stop this one job without touching the worker. Cancelling the
            // worker cancels it too. Busy heartbeats and deadlines are the job monitor's, one task
            // for all running jobs (see `monitorJobs`), not two tasks and two timers per job.
            let task = Task { await Self.call(handler, context) }
            running.withLock {
                $0.jobs[executionID] = RunningJob(
                    jobID: job.id, task: task, queue: queue, started: started, timeout: timeout,
                    deadline: ContinuousClock.now.advanced(by: limit))
            }
            outcome = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
            if running.withLock({ $0.timedOut.remove(executionID) != nil }) {
                outcome = .failure(JobFailure(type: "JobTimeoutException", "Task exceeded maximum timeout value (\(limit))", isTransient: true))
            }
        } else {
            outcome = .failure(JobHandlerRegistry.unknownFunction(job.call.functionName))
        }
        // Leave the running set.
        let stoppedByUser = running.withLock { state in
            state.jobs[executionID] = nil
            return state.stopRequested.remove(executionID) != nil
        }
        if stoppedByUser { outcome = .failure(JobFailure(type: "StopRequested", "Job stopped by user, work-horse terminated.")) }
        let ended = Date()
        let working = ended.timeIntervalSince(started)
        job.endedAt = RQTime.parse(RQTime.format(ended))
        job.lastHeartbeat = job.endedAt
        let cleanup: [RedisCommand] = [
            ["DEL", executionKey],
            ["ZREM", RedisArgument(keys.started(queue)), RedisArgument(member)],
            ["ZREM", RedisArgument(keys.executions(job.id)), RedisArgument(executionID)],
            ["SREM", RedisArgument(keys.workerExecutions(configuration.name)), RedisArgument(member)],
        ]
        // `current_job` names this job only while it runs; with concurrent jobs it then moves to
        // one still in the executions set, decided inside Redis so that ends racing each other
        // never leave it naming a finished (possibly deleted) job.
        let handOver: RedisCommand = ["EVAL", RedisArgument(Self.handOverCurrentJobScript), "2", workerKey,
                                      RedisArgument(keys.workerExecutions(configuration.name)), RedisArgument(job.id)]
        var commands: [RedisCommand] = []
        var outcomeLabel = "finished"
        switch outcome {
        case .success(let value):
            job.status = .finished
            let resultTTL = job.resultTTL ?? 500
            commands.append(["HINCRBY", workerKey, "successful_job_count", "1"])
            commands.append(["HINCRBYFLOAT", workerKey, "total_working_time", RedisArgument(String(working))])
            if resultTTL == 0 {
                commands.append(["DEL", RedisArgument(keys.job(job.id)), RedisArgument(keys.dependents(job.id)), RedisArgument(keys.dependencies(job.id))])
                commands.append(["DEL", RedisArgument(keys.executions(job.id))])
            } else {
                commands.append(["HSET", RedisArgument(keys.job(job.id)), "status", "finished"])
                commands.append(try RQTransitions.saveCommand(job, keys: keys, serializer: configuration.serializer, includeMeta: false))
                let result = try RQResult.streamFields(
                    kind: .successful, workerName: configuration.name, returnValue: value, executionID: executionID,
                    executionStartedAt: started, executionEndedAt: ended, serializer: configuration.serializer)
                commands += RQTransitions.resultCommands(job.id, fields: result, ttl: resultTTL, keys: keys)
                let score = resultTTL < 0 ? "+inf" : String(RQLimits.score(ended, plus: resultTTL))
                commands.append(["ZADD", RedisArgument(keys.finished(queue)), RedisArgument(score), RedisArgument(job.id)])
                commands += RQTransitions.expireCommands(job.id, ttl: resultTTL, keys: keys)
            }
            commands += cleanup
            counters.withLock { $0.finished += 1 }
        case .failure(let failure):
            let text = "Traceback (most recent call last):\n  (raised in the Swift worker \(configuration.name))\n\(failure.description)\n"
            if stoppedByUser {
                commands += try RQTransitions.fail(
                    &job, excString: failure.message, workerName: configuration.name, executionID: executionID,
                    executionStartedAt: started, now: ended, keys: keys, serializer: configuration.serializer)
                job.status = .stopped
                outcomeLabel = "stopped"
                commands.append(["HSET", RedisArgument(keys.job(job.id)), "status", "stopped"])
                counters.withLock { $0.deadLettered += 1 }
            } else if let left = job.retriesLeft, left > 0, !failure.isPermanent {
                commands += try RQTransitions.retry(&job, now: ended, keys: keys, serializer: configuration.serializer)
                outcomeLabel = "retried"
                counters.withLock { $0.retried += 1 }
            } else {
                commands += try RQTransitions.fail(
                    &job, excString: text, workerName: configuration.name, executionID: executionID,
                    executionStartedAt: started, executionEndedAt: ended, now: ended, keys: keys, serializer: configuration.serializer)
                outcomeLabel = "failed"
                counters.withLock { $0.deadLettered += 1 }
            }
            commands += cleanup
            commands.append(["HINCRBY", workerKey, "failed_job_count", "1"])
            commands.append(["HINCRBYFLOAT", workerKey, "total_working_time", RedisArgument(String(working))])
        }
        // An unstructured task, awaited at once: the outcome is recorded even if shutdown cancels us
        // now, so a finished job never looks abandoned. Children are released in the same
        // transaction, under WATCH of the parent's dependents set.
        let finalCommands = commands
        let parentStatus = job.status
        let store = RQStore(redis: redis, keys: keys, serializer: configuration.serializer)
        let dependentsKey = keys.dependents(job.id)
        let jobID = job.id
        let executionKeyName = keys.execution(job: job.id, execution: executionID)
        let outcomeName = outcomeLabel
        try await Task {
            var attempt = 0
            try await self.persistently("job end") {
                attempt += 1
                // The common case — no children — in one round trip: a script that checks the
                // dependents set and applies the same commands atomically (readers cannot tell it
                // from the MULTI). With children, the WATCH path below releases them.
                var arguments: [RedisArgument] = [attempt > 1 ? "1" : "0", RedisArgument(jobID), RedisArgument(finalCommands.count)]
                for command in finalCommands {
                    arguments.append(RedisArgument(command.count))
                    arguments += command
                }
                let script = Self.finish.command(
                    keys: [RedisArgument(dependentsKey), RedisArgument(executionKeyName), workerKey,
                           RedisArgument(self.keys.workerExecutions(self.configuration.name))],
                    arguments: arguments)
                switch try await self.redis.send(script).int {
                case 1, 2: return
                default: break
                }
                for _ in 0..<16 {
                    let committed = try await self.redis.withConnection { connection -> Bool in
                        // WATCH, the dependents and the execution record in one round trip, then
                        // the MULTI: two round trips for a job without children.
                        let replies = try await connection.pipeline([
                            ["WATCH", RedisArgument(dependentsKey), RedisArgument(executionKeyName)],
                            ["SMEMBERS", RedisArgument(dependentsKey)],
                            ["EXISTS", RedisArgument(executionKeyName)],
                        ])
                        do {
                            // After a lost reply, the execution record's absence means the earlier
                            // EXEC went through: never record an outcome twice.
                            if attempt > 1, replies[2].int == 0 {
                                _ = try await connection.send("UNWATCH")
                                return true
                            }
                            let hasChildren = !(replies[1].array ?? []).isEmpty
                            let release = hasChildren && (parentStatus == .finished || parentStatus == .failed)
                                ? try await store.releaseDependentsCommands(of: jobID, parentStatus: parentStatus, on: connection)
                                : []
                            return try await connection.transaction(release + finalCommands + [handOver]) != nil
                        } catch {
                            _ = try? await connection.send("UNWATCH")
                            throw error
                        }
                    }
                    if committed { return }
                }
                throw RQError(.invalidArgument, "dependents of \(jobID) kept changing while finishing it")
            }
        }.value
        metrics.ended(outcome: outcomeName, seconds: working)
        logger.info("job ended", metadata: [
            "job.id": "\(job.id)", "job.function": "\(job.call.functionName)", "job.outcome": "\(outcomeName)",
            "job.duration_ms": "\(Int(working * 1000))", "rq.queue": "\(queue)",
        ])
    }

    /// Runs a Redis write that must happen (a job's start or end record), retrying transient
    /// connection failures with capped backoff for up to about five minutes.
    private func persistently(_ what: String, _ operation: () async throws -> Void) async throws {
        let backoff = Backoff(initialDelay: .milliseconds(50), maximumDelay: .seconds(1))
        var attempt = 0
        while true {
            do {
                return try await operation()
            } catch let error as RedisClientError where error.isTransient && attempt < 60 {
                let delay = backoff.delay(afterAttempt: attempt)
                attempt += 1
                logger.warning("redis unavailable while recording \(what); retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// KEYS: dependents set, execution hash, worker hash, worker executions set. ARGV: `1` to
    /// check that the execution still exists (a retry after a lost reply), the job id, the number
    /// of commands, then each command as its argument count and arguments. Returns 0 (the job has
    /// children: use the WATCH path), 2 (already recorded) or 1 (applied, `current_job` handed over).
    static let finishScript = """
        if redis.call('SCARD', KEYS[1]) > 0 then return 0 end
        if ARGV[1] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then return 2 end
        local i = 4
        for _ = 1, tonumber(ARGV[3]) do
            local count = tonumber(ARGV[i])
            redis.call(unpack(ARGV, i + 1, i + count))
            i = i + count + 1
        end
        \(handOverLua(worker: "KEYS[3]", executions: "KEYS[4]", job: "ARGV[2]"))
        return 1
        """

    /// The identity and time of one execution, fixed before its start script runs.
    struct ExecutionStart: Sendable {
        let executionID: String
        let date = Date()
        var isoText: String { RQTime.format(date) }
    }

    /// The start of a job as one atomic script (RQ's execution-start and job-start transactions,
    /// same records, same order), returning the job hash — or nothing for a missing hash, whose
    /// id is then only removed from the intermediate list.
    private func startScript(_ id: String, queue: String, start: ExecutionStart, single: Bool) -> RedisCommand {
        Self.startJob.command(
            keys: [
                RedisArgument(keys.job(id)), RedisArgument(keys.execution(job: id, execution: start.executionID)),
                RedisArgument(keys.executions(id)), RedisArgument(keys.started(queue)),
                RedisArgument(keys.workerExecutions(configuration.name)), workerKey, RedisArgument(keys.intermediate(queue)),
            ],
            arguments: [
                RedisArgument(id), RedisArgument(start.executionID), RedisArgument(RQTime.floatSeconds(start.date)),
                RedisArgument(start.isoText), RedisArgument(RQTime.unixSeconds(start.date)), RedisArgument(configuration.name),
                single ? "1" : "0",
            ])
    }

    /// ``startJobScript``, sent by its SHA-1.
    static let startJob = RedisScript(startJobScript)
    /// ``finishScript``, sent by its SHA-1.
    static let finish = RedisScript(finishScript)

    /// KEYS: job, execution, executions zset, `rq:wip:Q`, worker executions, worker, intermediate
    /// list. ARGV: job id, execution id, now as float seconds, now as RQ timestamp, now as Unix
    /// seconds, worker name, `1` when dequeued through the intermediate list. TTLs as RQ: the job's
    /// `timeout` (default 180; ≤ 0 means none) capped at 30, plus 60.
    static let startJobScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then
            if ARGV[7] == '1' then redis.call('LREM', KEYS[7], 1, ARGV[1]) end
            return false
        end
        local timeout = tonumber(redis.call('HGET', KEYS[1], 'timeout') or '') or 180
        local ttl = (timeout > 0 and math.min(timeout, 30) or 30) + 60
        local now = tonumber(ARGV[5])
        local member = ARGV[1] .. ':' .. ARGV[2]
        redis.call('HSET', KEYS[2], 'id', ARGV[2], 'job_id', ARGV[1], 'created_at', ARGV[3], 'last_heartbeat', ARGV[3], 'worker_name', ARGV[6])
        redis.call('EXPIRE', KEYS[2], ttl)
        redis.call('ZADD', KEYS[3], now + ttl + 60, ARGV[2])
        redis.call('EXPIRE', KEYS[3], ttl + 60)
        redis.call('ZADD', KEYS[4], now + ttl, member)
        redis.call('SADD', KEYS[5], member)
        redis.call('EXPIRE', KEYS[5], ttl + 60)
        redis.call('HSET', KEYS[6], 'state', 'busy', 'current_job', ARGV[1], 'current_job_working_time', '0', 'last_heartbeat', ARGV[4])
        redis.call('EXPIRE', KEYS[6], ttl)
        redis.call('HSET', KEYS[1], 'last_heartbeat', ARGV[4], 'status', 'started', 'started_at', ARGV[4], 'worker_name', ARGV[6])
        redis.call('PERSIST', KEYS[1])
        if ARGV[7] == '1' then redis.call('LREM', KEYS[7], 1, ARGV[1]) end
        return redis.call('HGETALL', KEYS[1])
        """

    /// KEYS: worker hash, worker executions set; ARGV: the ending job's id. If `current_job` is
    /// that job, it becomes another running execution's job id, or is removed when none is left.
    static let handOverCurrentJobScript = """
        \(handOverLua(worker: "KEYS[1]", executions: "KEYS[2]", job: "ARGV[1]"))
        return 0
        """

    /// The Lua of the `current_job` hand-over, shared by both scripts that end a job: if the
    /// worker hash's `current_job` is `job`, it becomes the job id of another member of the
    /// worker's executions set (`ID:E`), or is removed when the set is empty.
    private static func handOverLua(worker: String, executions: String, job: String) -> String {
        """
        if redis.call('HGET', \(worker), 'current_job') == \(job) then
            local member = redis.call('SRANDMEMBER', \(executions))
            if member then
                local separator = string.find(member, ':', 1, true)
                redis.call('HSET', \(worker), 'current_job', separator and string.sub(member, 1, separator - 1) or member)
            else
                redis.call('HDEL', \(worker), 'current_job')
            end
        end
        """
    }

    /// One busy heartbeat, 3.0's form (`ZADD … XX`), which 2.12 reads the same.
    private func busyHeartbeat(jobID: String, executionID: String, queue: String, ttl: Int) async throws {
        let now = Date()
        let seconds = RQTime.unixSeconds(now)
        let executionKey = RedisArgument(keys.execution(job: jobID, execution: executionID))
        _ = try await redis.transaction([
            ["HSET", workerKey, "last_heartbeat", RedisArgument(RQTime.format(now))],
            ["EXPIRE", workerKey, RedisArgument(ttl)],
            ["EXPIRE", RedisArgument(keys.workerExecutions(configuration.name)), RedisArgument(ttl)],
            ["HSET", executionKey, "last_heartbeat", RedisArgument(RQTime.floatSeconds(now))],
            ["EXPIRE", executionKey, RedisArgument(ttl)],
            ["ZADD", RedisArgument(keys.started(queue)), "XX", RedisArgument(seconds + ttl), RedisArgument("\(jobID):\(executionID)")],
            ["ZADD", RedisArgument(keys.executions(jobID)), "XX", RedisArgument(seconds + ttl + 60), RedisArgument(executionID)],
            ["EXPIRE", RedisArgument(keys.executions(jobID)), RedisArgument(ttl + 60)],
            ["HSET", RedisArgument(keys.job(jobID)), "last_heartbeat", RedisArgument(RQTime.format(now))],
        ])
    }

    /// A hash that cannot be parsed: failed with the reason instead of crashing the worker.
    private func failUnreadable(_ id: String, queue: String, reason: String, single: Bool, start: ExecutionStart? = nil) async throws {
        let ttl = RQTransitions.defaultFailureTTL
        var commands: [RedisCommand] = []
        if let start {
            // Undo the execution the start script recorded.
            let member = RedisArgument("\(id):\(start.executionID)")
            commands += [
                ["DEL", RedisArgument(keys.execution(job: id, execution: start.executionID))],
                ["ZREM", RedisArgument(keys.started(queue)), member],
                ["ZREM", RedisArgument(keys.executions(id)), RedisArgument(start.executionID)],
                ["SREM", RedisArgument(keys.workerExecutions(configuration.name)), member],
                ["EVAL", RedisArgument(Self.handOverCurrentJobScript), "2", workerKey,
                 RedisArgument(keys.workerExecutions(configuration.name)), RedisArgument(id)],
            ]
        }
        commands += [
            ["HSET", RedisArgument(keys.job(id)), "status", "failed", "ended_at", RedisArgument(RQTime.format(Date()))],
            ["ZADD", RedisArgument(keys.failed(queue)), RedisArgument(RQLimits.score(Date(), plus: ttl)), RedisArgument(id)],
        ]
        let result = try RQResult.streamFields(kind: .failed, workerName: configuration.name,
                                               exceptionText: "DeserializationError: \(reason)", serializer: configuration.serializer)
        commands += RQTransitions.resultCommands(id, fields: result, ttl: nil, keys: keys)
        if single { commands.append(["LREM", RedisArgument(keys.intermediate(queue)), "1", RedisArgument(id)]) }
        _ = try await redis.transaction(commands)
        counters.withLock { $0.deadLettered += 1 }
    }
}
