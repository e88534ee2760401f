import ClientSupport
import Foundation
import Timestamps
import JobProcessing
import Logging
import Pickle
import Redis
import Synchronization

/// Python RQ's worker side as a `JobQueueDriver`: a Swift peer of `rq worker`.
///
/// It registers in `rq:workers` and `rq:workers:Q`, dequeues with `BLMOVE` into the intermediate
/// list (one queue) or `BLPOP` (several), writes the execution, started-registry, job, result and
/// registry records in RQ's transactions (`docs/rq-wire.md`, "Worker records" to "Failure,
/// retries and stops", and "Serving RQ 2.12 and 3.0 at once"), sends the busy heartbeats, runs
/// RQ's maintenance under the `rq:clean_registries:Q` lock, listens on `rq:pubsub:W`, optionally
/// runs RQ's scheduler, and dies cleanly. Unclassified failures are retried while the job has
/// `retries_left`, as Python RQ retries any exception.
public final class RQWorkerDriver: JobQueueDriver, Sendable {
    let redis: RedisClient
    let configuration: RQDriverConfiguration
    let logger: Logger
    let store: RQStore
    private let connection = Mutex<RedisConnection?>(nil)
    /// The queue that gave the last job, for ``RQDequeueStrategy/roundRobin``.
    let lastQueue = Mutex<String?>(nil)
    /// Callback names already reported as missing (each is logged once).
    let missingCallbacks = Mutex<Set<String>>([])
    /// Sends the jobs' webhooks beside the slots.
    let webhooks: RQWebhookSender

    /// A queue's id taken off the queue, with the time and execution id its start will record.
    public struct Ticket: Sendable {
        let queue: String
        let id: String
        let start: ExecutionStart
    }

    /// A started job: its parsed hash (status `started`), its queue and execution.
    public struct Lease: Sendable {
        var job: RQJob
        let queue: String
        let start: ExecutionStart
    }

    /// The identity and time of one execution, fixed before its start script runs.
    struct ExecutionStart: Sendable {
        let executionID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let date = Date()
        var isoText: String { WireTime.format(date) }
    }

    /// Creates a driver.
    public init(redis: RedisClient, configuration: RQDriverConfiguration, logger: Logger) {
        self.redis = redis
        self.configuration = configuration
        self.logger = logger
        self.store = RQStore(redis: redis, keys: configuration.keys, serializer: configuration.serializer)
        self.webhooks = RQWebhookSender(logger: logger)
    }

    public var workerName: String { configuration.name }
    public var metricsMode: String { "rq" }
    public var retriesUnclassifiedFailures: Bool { true }
    public var loopExecutor: (any TaskExecutor)? { connection.withLock { $0?.taskExecutor } }

    var keys: RQKeys { configuration.keys }
    var workerKey: RedisArgument { RedisArgument(keys.worker(configuration.name)) }
    var workerExecutionsKey: RedisArgument { RedisArgument(keys.workerExecutions(configuration.name)) }
    /// One queue: dequeued through the intermediate list (`BLMOVE`), as RQ does.
    var single: Bool { configuration.queues.count == 1 }

    func dedicated() throws -> RedisConnection {
        guard let connection = connection.withLock({ $0 }) else { throw RQError(.invalidArgument, "the RQ worker is not registered") }
        return connection
    }

    // MARK: Birth, heartbeat, death

    /// Refuses a live worker of the same name; then the birth transaction.
    public func register() async throws {
        // `rq worker` refuses to start while `rq suspend` is in force, burst or not (exit 1).
        if try await redis.send("EXISTS", RedisArgument(keys.suspended)).int == 1 {
            throw RQError(.suspended, "RQ is currently suspended, to resume job execution run \"rq resume\"")
        }
        let key = keys.worker(configuration.name)
        let exists = try await redis.send("EXISTS", RedisArgument(key)).int == 1
        if exists, try await redis.send("HEXISTS", RedisArgument(key), "death").int == 0 {
            throw RQError(.invalidArgument, "There exists an active worker named '\(configuration.name)' already")
        }
        _ = try await redis.transaction(registrationCommands(ipAddress: await clientAddress()))
        let dedicated = try await redis.makeDedicatedConnection()
        connection.withLock { $0 = dedicated }
        if configuration.withScheduler && configuration.burst { try await runSchedulerOnce() }
        logger.info("rq worker started", metadata: ["worker.name": "\(configuration.name)", "worker.queues": "\(configuration.queues)"])
    }

    /// `ip_address` as RQ 3.0 finds it: the `addr` Redis reports for our connection
    /// (`CLIENT INFO`; 2.12 reads the same from `CLIENT LIST`), `unknown` when it cannot tell.
    private func clientAddress() async -> String {
        guard let info = try? await redis.send("CLIENT", "INFO").string else { return "unknown" }
        let field = info.split(separator: " ").first { $0.hasPrefix("addr=") }
        return field.map { String($0.dropFirst(5)) }.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
    }

    /// The birth transaction: the full worker hash, both worker sets, the idle TTL.
    private func registrationCommands(ipAddress: String) -> [RedisCommand] {
        let key = keys.worker(configuration.name)
        let now = WireTime.format(Date())
        var commands: [RedisCommand] = [
            ["DEL", RedisArgument(key)],
            ["HSET", RedisArgument(key), "birth", RedisArgument(now), "last_heartbeat", RedisArgument(now),
             "queues", RedisArgument(configuration.queues.joined(separator: ",")),
             "pid", RedisArgument(Int(ProcessInfo.processInfo.processIdentifier)),
             "hostname", RedisArgument(ProcessInfo.processInfo.hostName), "ip_address", RedisArgument(ipAddress),
             "version", RedisArgument(configuration.recordVersion.versionField), "python_version", RedisArgument(RQWorkerRecord.pythonVersion),
             "state", "started"],
            ["SADD", RedisArgument(keys.workers), RedisArgument(key)],
        ]
        for queue in configuration.queues {
            commands.append(["SADD", RedisArgument(keys.workers(queue: queue)), RedisArgument(key)])
        }
        commands.append(["EXPIRE", RedisArgument(key), RedisArgument(configuration.workerTTL + 60)])
        return commands
    }

    /// `MULTI; HSET last_heartbeat state; EXPIRE; EXISTS rq:suspended; EXEC` as RQ does, then the
    /// first queue's length. A lost registration (Redis restarted empty) is written again first;
    /// when suspended, the state says so.
    public func heartbeat(_ activity: WorkerActivity) async throws -> DriverHeartbeat {
        let ttl = RedisArgument(configuration.workerTTL + 60)
        if try await redis.send("SISMEMBER", RedisArgument(keys.workers), workerKey).int == 0 {
            logger.warning("worker registration missing in Redis; registering again", metadata: ["worker.name": "\(configuration.name)"])
            _ = try await redis.transaction(registrationCommands(ipAddress: await clientAddress()))
        }
        let replies = try await redis.transaction([
            ["HSET", workerKey, "last_heartbeat", RedisArgument(WireTime.format(Date())), "state", RedisArgument(activity.rawValue)],
            ["EXPIRE", workerKey, ttl],
            ["EXPIRE", workerExecutionsKey, ttl],
            ["EXISTS", RedisArgument(keys.suspended)],
        ])
        if replies?.last?.int == 1 {
            _ = try await redis.send("HSET", workerKey, "state", "suspended")
            return DriverHeartbeat(paused: true)
        }
        let first = configuration.queues[0]
        let length = try? await redis.send("LLEN", RedisArgument(keys.queue(first))).int
        return DriverHeartbeat(queueLengths: length.map { [first: $0] } ?? [:])
    }

    /// The death transaction, as RQ's `register_death`: `death`, a 60 s TTL, out of both worker sets (the
    /// last `state` stays, as in Python: RQ has no `dead` state).
    public func deregister() async throws {
        connection.withLock { connection in
            connection?.close()
            connection = nil
        }
        var commands: [RedisCommand] = [
            ["HSET", workerKey, "death", RedisArgument(WireTime.format(Date()))],
            ["EXPIRE", workerKey, "60"],
            ["DEL", workerExecutionsKey],
            ["SREM", RedisArgument(keys.workers), workerKey],
        ]
        for queue in configuration.queues {
            commands.append(["SREM", RedisArgument(keys.workers(queue: queue)), workerKey])
        }
        // Through a failover's refusals too (NOREPLICAS until the old master rejoins), or the
        // record would stay in the workers set until its TTL and the exit status say failure.
        try await persistently("worker deregistration") { _ = try await redis.transaction(commands) }
        logger.info("rq worker stopped", metadata: ["worker.name": "\(configuration.name)"])
    }

    /// Redis went away or refuses for now (OOM, LOADING): the clients reconnect by themselves. A
    /// job dequeued just before stays in the intermediate list and is recovered by maintenance.
    public func isRecoverable(_ error: any Error) -> Bool {
        guard let error = error as? RedisClientError else { return false }
        return error.isTransient || error.code == .serverError
    }

    /// RQ's burst rule: an empty dequeue with nothing running ends the worker.
    public func isDrained() async throws -> Bool { true }
}

/// What the worker hash says about the worker's software.
enum RQWorkerRecord {
    /// The `python_version` field: says what this worker is.
    static let pythonVersion = "resume-processor (Swift)"
}
