import Foundation
import Timestamps
import Pickle
import Redis

/// RQ's `Retry(max, interval)`: how many times a failing job is retried, and after how long.
public struct RQRetry: Sendable, Hashable {
    /// `max`: retries allowed (≥ 1).
    public var maximum: Int
    /// `interval`: seconds before each retry; the last one repeats. `[0]` retries at once.
    public var intervals: [Int]

    /// `Retry(max: maximum, interval: intervals)`.
    public init(maximum: Int, intervals: [Int] = [0]) {
        self.maximum = maximum
        self.intervals = intervals.isEmpty ? [0] : intervals
    }
}

/// The options of `Queue.enqueue` (`docs/rq-wire.md`, "Enqueue").
public struct RQEnqueueOptions: Sendable {
    /// `job_id`; a fresh `uuid4` when `nil`.
    public var jobID: String?
    /// `timeout` in seconds; the queue default (180) when `nil`; `-1` for none.
    public var timeout: Int?
    /// `result_ttl`; the worker default (500 s) when `nil`.
    public var resultTTL: Int?
    /// `failure_ttl`; one year when `nil`.
    public var failureTTL: Int?
    /// `ttl`: how long the job may wait before it is dropped (> 0).
    public var ttl: Int?
    /// `description`; RQ's call string when `nil`.
    public var description: String?
    /// `meta`.
    public var meta: [PythonDictEntry] = []
    /// `retry`.
    public var retry: RQRetry?
    /// `at_front`: `LPUSH` instead of `RPUSH`.
    public var atFront = false
    /// `depends_on`: parent job ids; the job waits in the deferred registry until they finish.
    public var dependsOn: [String] = []
    /// `enqueue_at` / `enqueue_in`: when set, the job goes to the scheduled registry instead.
    public var scheduledAt: Date?

    /// Options with RQ's defaults.
    public init(
        jobID: String? = nil, timeout: Int? = nil, resultTTL: Int? = nil, failureTTL: Int? = nil, ttl: Int? = nil,
        description: String? = nil, meta: [PythonDictEntry] = [], retry: RQRetry? = nil, atFront: Bool = false,
        dependsOn: [String] = [], scheduledAt: Date? = nil
    ) {
        self.jobID = jobID
        self.timeout = timeout
        self.resultTTL = resultTTL
        self.failureTTL = failureTTL
        self.ttl = ttl
        self.description = description
        self.meta = meta
        self.retry = retry
        self.atFront = atFront
        self.dependsOn = dependsOn
        self.scheduledAt = scheduledAt
    }
}

/// One RQ queue on a Redis server: enqueue as `Queue.enqueue` does, count and list its jobs.
public struct RQQueue: Sendable {
    /// The queue name, e.g. `resume_processing`.
    public let name: String
    /// The keyspace.
    public let keys: RQKeys
    /// How payloads are serialized (must match the workers).
    public let serializer: RQSerializer
    /// `Queue(default_timeout=)`. Default: `180`.
    public var defaultTimeout: Int
    let redis: RedisClient

    /// A queue handle; nothing is written until a job is enqueued.
    public init(name: String, redis: RedisClient, keys: RQKeys = .default, serializer: RQSerializer = .pickle, defaultTimeout: Int = 180) {
        self.name = name
        self.redis = redis
        self.keys = keys
        self.serializer = serializer
        self.defaultTimeout = defaultTimeout
    }

    /// `rq:queue:Q`.
    public var key: String { keys.queue(name) }

    /// Enqueues one call with the same Redis commands, in the same order, as `Queue.enqueue`
    /// (scheduled jobs use RQ 3.0's single transaction, which 2.12 readers cannot tell apart).
    @discardableResult
    public func enqueue(_ call: RQCall, options: RQEnqueueOptions = RQEnqueueOptions()) async throws -> RQJob {
        var job = try makeJob(call, options: options)
        if !options.dependsOn.isEmpty {
            if let deferred = try await deferIfParentsUnfinished(&job, options: options) { return deferred }
        }
        var commands: [RedisCommand] = []
        try appendEnqueue(&job, options: options, to: &commands)
        try await redis.send(["SADD", RedisArgument(keys.queues), RedisArgument(key)])  // RQ's separate first step
        guard try await redis.transaction(commands) != nil else {
            throw RQError(.invalidArgument, "enqueue transaction was aborted")
        }
        return job
    }

    /// Enqueues several calls in one transaction (like `Queue.enqueue_many`). Dependencies are not
    /// supported here; enqueue dependent jobs one by one.
    @discardableResult
    public func enqueueMany(_ items: [(RQCall, RQEnqueueOptions)]) async throws -> [RQJob] {
        var jobs: [RQJob] = []
        var commands: [RedisCommand] = [["SADD", RedisArgument(keys.queues), RedisArgument(key)]]
        for (call, options) in items {
            guard options.dependsOn.isEmpty else {
                throw RQError(.invalidArgument, "enqueueMany does not take dependencies")
            }
            var job = try makeJob(call, options: options)
            try appendEnqueue(&job, options: options, to: &commands)
            jobs.append(job)
        }
        guard try await redis.transaction(commands) != nil else {
            throw RQError(.invalidArgument, "enqueue transaction was aborted")
        }
        return jobs
    }

    /// `LLEN rq:queue:Q`.
    public func count() async throws -> Int {
        try await redis.send("LLEN", RedisArgument(key)).int ?? 0
    }

    /// Job ids waiting in the queue, oldest first.
    public func jobIDs(offset: Int = 0, limit: Int = -1) async throws -> [String] {
        let end = limit < 0 ? -1 : RQLimits.adding(RQLimits.adding(offset, limit), -1)
        let reply = try await redis.send("LRANGE", RedisArgument(key), RedisArgument(offset), RedisArgument(end))
        return reply.array?.compactMap(\.string) ?? []
    }

    // MARK: Internals

    private func makeJob(_ call: RQCall, options: RQEnqueueOptions) throws(RQError) -> RQJob {
        let id = options.jobID ?? UUID().uuidString.lowercased()
        guard RQJob.isValidID(id) else {
            throw RQError(.invalidJobID, "job id must match [A-Za-z0-9_-]+")
        }
        if let ttl = options.ttl, ttl <= 0 { throw RQError(.invalidArgument, "Job ttl must be greater than 0") }
        if let retry = options.retry, retry.maximum < 1 { throw RQError(.invalidArgument, "Retry max must be at least 1") }
        // The numbers a worker would refuse (see `RQLimits`) are refused here, before anything is written.
        let numbers: [(String, Int?)] = [("timeout", options.timeout), ("result_ttl", options.resultTTL), ("failure_ttl", options.failureTTL),
                                         ("ttl", options.ttl), ("retries_left", options.retry?.maximum)]
        for (field, value) in numbers {
            if let value, !RQLimits.accepted.contains(value) { throw RQError(.invalidArgument, RQFieldProblem(field: field, text: String(value)).description) }
        }
        if let intervals = options.retry?.intervals, let bad = intervals.first(where: { !RQLimits.accepted.contains($0) }) {
            throw RQError(.invalidArgument, RQFieldProblem(field: "retry_intervals", text: String(bad)).description)
        }
        var job = RQJob(id: id, call: call)
        job.origin = name
        job.description = options.description ?? call.description
        job.timeout = options.timeout ?? defaultTimeout
        job.resultTTL = options.resultTTL
        job.failureTTL = options.failureTTL
        job.ttl = options.ttl
        job.meta = options.meta
        if let retry = options.retry {
            job.retriesLeft = retry.maximum
            job.retryIntervals = retry.intervals
        }
        job.dependencyIDs = options.dependsOn
        return job
    }

    /// The commands inside the enqueue transaction: status, full hash, expiries, push or schedule.
    private func appendEnqueue(_ job: inout RQJob, options: RQEnqueueOptions, to commands: inout [RedisCommand]) throws(RQError) {
        let jobKey = RedisArgument(keys.job(job.id))
        if options.scheduledAt != nil {
            job.status = .scheduled
            commands.append(["SADD", RedisArgument(keys.queues), RedisArgument(key)])
        } else {
            job.status = .queued
            job.enqueuedAt = Date()
        }
        commands.append(["HSET", jobKey, "status", RedisArgument(job.status.rawValue)])
        commands.append(try RQTransitions.saveCommand(job, keys: keys, serializer: serializer, includeMeta: true))
        commands += RQTransitions.expireCommands(job.id, ttl: job.ttl ?? 0, keys: keys)
        if let due = options.scheduledAt {
            commands.append(["ZADD", RedisArgument(keys.scheduled(name)), RedisArgument(WireTime.unixSeconds(due)), RedisArgument(job.id)])
        } else {
            commands.append([options.atFront ? "LPUSH" : "RPUSH", RedisArgument(key), RedisArgument(job.id)])
        }
    }

    /// `setup_dependencies`: under `WATCH`, if any parent is not finished, register the job as
    /// deferred and return it; `nil` means every parent finished and the job is enqueued normally.
    private func deferIfParentsUnfinished(_ job: inout RQJob, options: RQEnqueueOptions) async throws -> RQJob? {
        for _ in 0..<32 {
            let outcome: RQJob?? = try await redis.withConnection { connection in
                let watched = [keys.dependencies(job.id)] + options.dependsOn.map { keys.job($0) }
                return try await connection.watching(watched) { connection -> RQJob?? in
                    var unfinished = false
                    for parent in options.dependsOn {
                        let status = try await connection.send("HGET", RedisArgument(keys.job(parent)), "status").string
                        // A parent that no longer exists counts as satisfied, as in RQ.
                        if let status, status != RQJobStatus.finished.rawValue { unfinished = true }
                    }
                    guard unfinished else {
                        _ = try await connection.send(["UNWATCH"])
                        return .some(nil)
                    }
                    var deferred = job
                    deferred.status = .deferred
                    let jobKey = RedisArgument(keys.job(deferred.id))
                    var commands: [RedisCommand] = [
                        ["HSET", jobKey, "status", "deferred"],
                        ["ZADD", RedisArgument(keys.deferred(name)), RedisArgument(WireTime.unixSeconds(Date())), RedisArgument(deferred.id)],
                    ]
                    for parent in options.dependsOn {
                        commands.append(["SADD", RedisArgument(keys.dependents(parent)), RedisArgument(deferred.id)])
                        commands.append(["SADD", RedisArgument(keys.dependencies(deferred.id)), RedisArgument(parent)])
                    }
                    commands.append(try RQTransitions.saveCommand(deferred, keys: keys, serializer: serializer, includeMeta: true))
                    commands += RQTransitions.expireCommands(deferred.id, ttl: deferred.ttl ?? 0, keys: keys)
                    guard try await connection.transaction(commands) != nil else { return nil }  // a parent changed: retry
                    return .some(deferred)
                }
            }
            switch outcome {
            case .some(.some(let deferred)):
                try await redis.send(["SADD", RedisArgument(keys.queues), RedisArgument(key)])
                return deferred
            case .some(.none):
                return nil
            case .none:
                continue
            }
        }
        throw RQError(.invalidArgument, "dependencies kept changing while enqueueing \(job.id)")
    }
}
