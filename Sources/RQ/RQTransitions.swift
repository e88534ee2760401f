import Foundation
import Timestamps
import Pickle
import Redis

/// The Redis command sequences RQ uses to move a job between states, shared by registry
/// maintenance and workers. Each function returns commands to run inside one `MULTI`.
public enum RQTransitions {
    /// RQ's default `failure_ttl`: one year.
    public static let defaultFailureTTL = 31_536_000

    /// `HSET` of the whole job mapping; workers save with `includeMeta: false`
    /// (`save(include_meta=False)`), so a job's own `meta` updates survive.
    public static func saveCommand(_ job: RQJob, keys: RQKeys, serializer: RQSerializer, includeMeta: Bool) throws(RQError) -> RedisCommand {
        var command: RedisCommand = ["HSET", RedisArgument(keys.job(job.id))]
        for (field, value) in try job.hashFields(serializer: serializer, includeMeta: includeMeta) {
            command.append(RedisArgument(field))
            command.append(RedisArgument(bytes: value))
        }
        return command
    }

    /// `job.cleanup(ttl)`: `EXPIRE` the job, dependents and dependencies keys when `ttl > 0`.
    public static func expireCommands(_ jobID: String, ttl: Int, keys: RQKeys) -> [RedisCommand] {
        guard ttl > 0 else { return [] }
        return [keys.job(jobID), keys.dependents(jobID), keys.dependencies(jobID)].map {
            ["EXPIRE", RedisArgument($0), RedisArgument(RQLimits.expireSeconds(ttl))]
        }
    }

    /// `XADD rq:results:ID MAXLEN ~ 10 * …` plus the stream's TTL rule (`nil`: none, `-1`: `PERSIST`).
    public static func resultCommands(_ jobID: String, fields: [(String, [UInt8])], ttl: Int?, keys: RQKeys) -> [RedisCommand] {
        var command: RedisCommand = ["XADD", RedisArgument(keys.results(jobID)), "MAXLEN", "~", "10", "*"]
        for (name, value) in fields {
            command.append(RedisArgument(name))
            command.append(RedisArgument(bytes: value))
        }
        var commands = [command]
        if let ttl {
            // A negative TTL other than -1 deletes the stream at once, as `EXPIRE` does for Python;
            // a positive one is clamped to what `EXPIRE` accepts.
            let seconds = ttl > 0 ? RQLimits.expireSeconds(ttl) : max(ttl, -RQLimits.maxSeconds)
            commands.append(ttl == -1 ? ["PERSIST", RedisArgument(keys.results(jobID))] : ["EXPIRE", RedisArgument(keys.results(jobID)), RedisArgument(seconds)])
        }
        return commands
    }

    /// A job failing for good (`_handle_failure`): status `failed`, mapping saved without `meta`,
    /// expiries and failed-registry score from `failure_ttl` (one year by default, `-1` keeps it,
    /// `0` deletes the job at once),
    /// and a type-2 result entry whose stream expires only when the job has a `failure_ttl`.
    public static func fail(
        _ job: inout RQJob, excString: String, workerName: String, executionID: String? = nil,
        executionStartedAt: Date? = nil, executionEndedAt: Date? = nil, now: Date = Date(),
        keys: RQKeys, serializer: RQSerializer
    ) throws(RQError) -> [RedisCommand] {
        guard let origin = job.origin else { throw RQError(.malformedJob, "job \(job.id) has no origin") }
        job.status = .failed
        var commands: [RedisCommand] = [["HSET", RedisArgument(keys.job(job.id)), "status", "failed"]]
        commands.append(try saveCommand(job, keys: keys, serializer: serializer, includeMeta: false))
        commands += failureRetentionCommands(job.id, origin: origin, ttl: job.failureTTL ?? defaultFailureTTL, now: now, keys: keys)
        let result = try RQResult.streamFields(
            kind: .failed, workerName: workerName, exceptionText: excString, executionID: executionID,
            executionStartedAt: executionStartedAt, executionEndedAt: executionEndedAt, serializer: serializer)
        commands += resultCommands(job.id, fields: result, ttl: job.failureTTL, keys: keys)
        return commands
    }

    /// What a `failure_ttl` of `ttl` does to a job failing for good (`FailedJobRegistry.add`):
    /// the key expiries (`job.cleanup`), at `0` the job deleted at once (hash, dependency keys,
    /// results, executions; the registry entry then expires at once too), and the failed-registry
    /// entry (score `-1`, forever, for a negative TTL).
    static func failureRetentionCommands(_ jobID: String, origin: String, ttl: Int, now: Date, keys: RQKeys) -> [RedisCommand] {
        var commands = expireCommands(jobID, ttl: ttl, keys: keys)
        if ttl == 0 {
            commands.append(["DEL", RedisArgument(keys.job(jobID)), RedisArgument(keys.dependents(jobID)),
                             RedisArgument(keys.dependencies(jobID)), RedisArgument(keys.results(jobID)), RedisArgument(keys.executions(jobID))])
        }
        let score = ttl < 0 ? "-1" : String(RQLimits.score(now, plus: ttl))
        commands.append(["ZADD", RedisArgument(keys.failed(origin)), RedisArgument(score), RedisArgument(jobID)])
        return commands
    }

    /// The retry interval RQ picks (`get_retry_interval`): index `len(intervals) - retries_left`,
    /// at least 0 (so with more retries than intervals the first interval repeats).
    public static func retryInterval(_ job: RQJob) -> Int {
        guard let intervals = job.retryIntervals, !intervals.isEmpty, let left = job.retriesLeft, left > 0 else { return 0 }
        let index = max(intervals.count - min(left, intervals.count), 0)  // no overflow for any `left`
        return intervals[min(index, intervals.count - 1)]
    }

    /// `job.retry(queue)`: one retry used; back on the queue at once, or into the scheduled
    /// registry after the interval (RQ 3.0's form: the `ZADD` inside the transaction).
    public static func retry(_ job: inout RQJob, now: Date = Date(), keys: RQKeys, serializer: RQSerializer) throws(RQError) -> [RedisCommand] {
        guard let origin = job.origin else { throw RQError(.malformedJob, "job \(job.id) has no origin") }
        let interval = retryInterval(job)
        job.retriesLeft = RQLimits.adding(job.retriesLeft ?? 1, -1)
        return try requeueCommands(&job, origin: origin, after: interval, atFront: job.enqueueAtFrontOnRetry, ttl: job.ttl ?? 0,
                                   now: now, keys: keys, serializer: serializer)
    }

    /// Puts `job` back on `origin` as RQ's `_enqueue_job` / `schedule_job` do: at once (status
    /// `queued`, a new `enqueued_at`, `RPUSH`, or `LPUSH` when `atFront`), or after `interval`
    /// seconds (status `scheduled`, `rq:scheduled:Q`); `rq:queues` names the queue either way, and
    /// a positive `ttl` sets the key TTLs (a retry keeps the job's `ttl`; a repeat passes `nil`).
    static func requeueCommands(
        _ job: inout RQJob, origin: String, after interval: Int, atFront: Bool, ttl: Int?, now: Date, keys: RQKeys, serializer: RQSerializer
    ) throws(RQError) -> [RedisCommand] {
        let jobKey = RedisArgument(keys.job(job.id))
        job.status = interval > 0 ? .scheduled : .queued
        if interval <= 0 { job.enqueuedAt = now }
        var commands: [RedisCommand] = [
            ["SADD", RedisArgument(keys.queues), RedisArgument(keys.queue(origin))],
            ["HSET", jobKey, "status", RedisArgument(job.status.rawValue)],
            try saveCommand(job, keys: keys, serializer: serializer, includeMeta: true),
        ]
        if let ttl { commands += expireCommands(job.id, ttl: ttl, keys: keys) }
        if interval > 0 {
            commands.append(["ZADD", RedisArgument(keys.scheduled(origin)), RedisArgument(RQLimits.score(now, plus: interval)), RedisArgument(job.id)])
        } else {
            commands.append([atFront ? "LPUSH" : "RPUSH", RedisArgument(keys.queue(origin)), RedisArgument(job.id)])
        }
        return commands
    }

    /// `handle_job_failure` for a job its worker never finished (the abandoned-job paths: the
    /// started-registry cleanup, the vanished-worker reclaim, a stuck intermediate id): retried when
    /// it has `retries_left`, otherwise failed with `excString`. Each call counts one worker death
    /// in the job hash (``RQJob/workerDeaths``); at the second the job is failed with
    /// ``workerDiedTwiceText`` even if it has retries left, so a poison job (one that kills its
    /// worker) is not handed to a third worker. A job with ``RQJob/fieldProblems`` is failed too.
    /// Returns the commands and whether the job was retried.
    public static func retryOrFail(
        _ job: inout RQJob, excString: String, workerName: String = "", now: Date = Date(), keys: RQKeys, serializer: RQSerializer
    ) throws(RQError) -> (commands: [RedisCommand], retried: Bool) {
        let deaths = RQLimits.adding(max(job.workerDeaths ?? 0, 0), 1)
        job.workerDeaths = deaths
        if deaths >= 2 {
            return (try fail(&job, excString: workerDiedTwiceText(excString), workerName: workerName, now: now, keys: keys, serializer: serializer), false)
        }
        if let problem = job.fieldProblems.first {
            return (try fail(&job, excString: "\(excString)\nInvalidJobField: \(problem)", workerName: workerName, now: now, keys: keys, serializer: serializer), false)
        }
        if let left = job.retriesLeft, left > 0 {
            return (try retry(&job, now: now, keys: keys, serializer: serializer), true)
        }
        return (try fail(&job, excString: excString, workerName: workerName, now: now, keys: keys, serializer: serializer), false)
    }

    /// The failure text of a job abandoned for the second time: `excString` (RQ's own text, which
    /// RQ's tools look for) followed by `PoisonJobError: worker died twice while running it`.
    public static func workerDiedTwiceText(_ excString: String) -> String {
        "\(excString)\nPoisonJobError: worker died twice while running it"
    }

    /// RQ's text for a job whose worker died (`AbandonedJobError`).
    public static func abandonedText(now: Date) -> String {
        "Moved to FailedJobRegistry, due to AbandonedJobError, at \(pythonUTCString(now))"
    }

    /// Python's `str(datetime.now(timezone.utc))`, e.g. `2026-11-29 04:30:00.123456+00:00`.
    public static func pythonUTCString(_ date: Date) -> String {
        WireTime.format(date).replacingOccurrences(of: "T", with: " ").dropLast() + "+00:00"
    }
}

extension RQStore {
    /// `StartedJobRegistry.cleanup`: executions whose heartbeat expired (`rq:wip:Q` score ≤ now)
    /// belong to dead workers. Each such job is retried if it has `retries_left`, otherwise failed
    /// with RQ's `AbandonedJobError` text (RQ 3.0 rule: only jobs still `started`); then the
    /// expired entries are removed. Returns the ids retried and failed.
    @discardableResult
    public func cleanupStarted(queue: String, now: Date = Date()) async throws -> (retried: [String], failed: [String]) {
        let key = keys.started(queue)
        let score = WireTime.unixSeconds(now)
        let members = try await redis.send("ZRANGEBYSCORE", RedisArgument(key), "0", RedisArgument(score)).array?.compactMap(\.string) ?? []
        guard !members.isEmpty else { return ([], []) }
        var commands: [RedisCommand] = []
        var retried: [String] = [], failed: [String] = []
        var handled: [RQJob] = []
        var seen = Set<String>()
        for member in members {
            let id = String(member.split(separator: ":", maxSplits: 1).first ?? Substring(member))
            guard seen.insert(id).inserted, var job = try await fetchJob(id), job.status == .started else { continue }
            let outcome = try RQTransitions.retryOrFail(
                &job, excString: RQTransitions.abandonedText(now: now), now: now, keys: keys, serializer: serializer)
            commands += outcome.commands
            if outcome.retried { retried.append(id) } else { failed.append(id) }
            handled.append(job)
        }
        commands.append(["ZREMRANGEBYSCORE", RedisArgument(key), "0", RedisArgument(score)])
        _ = try await redis.transaction(commands)
        try await afterAbandonment(failed: failed, handled: handled)
        return (retried, failed)
    }
}

extension RQStore {
    /// The commands that release the children of a parent that just ended with `parentStatus`
    /// (`docs/rq-wire.md`, "Success and dependents": the 2.12 one-transaction form that 3.0 also reads): each child that
    /// exists, is not canceled, and whose other parents are all finished (or failed, when it allows
    /// dependency failures) leaves the deferred registry and is enqueued on its origin queue; the
    /// parent's dependents set is deleted when every child went, otherwise the released ones are
    /// removed from it. Reads run on `connection`, which should be `WATCH`ing the dependents key.
    public func releaseDependentsCommands(
        of parentID: String, parentStatus: RQJobStatus, on connection: RedisConnection, now: Date = Date()
    ) async throws -> [RedisCommand] {
        guard parentStatus != .canceled, parentStatus != .stopped else { return [] }
        let dependentsKey = keys.dependents(parentID)
        let children = try await connection.send("SMEMBERS", RedisArgument(dependentsKey)).array?.compactMap(\.string) ?? []
        guard !children.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        var released: [String] = []
        for childID in children.sorted() {
            let fields = try await connection.send("HGETALL", RedisArgument(keys.job(childID))).fieldMap
            guard !fields.isEmpty, var child = try? RQJob(id: childID, hash: fields, serializer: serializer),
                  child.status != .canceled, let origin = child.origin else { continue }
            let allowFailures = child.allowDependencyFailures == true
            if parentStatus == .failed && !allowFailures { continue }
            var ready = true
            let parents = try await connection.send("SMEMBERS", RedisArgument(keys.dependencies(childID))).array?.compactMap(\.string) ?? []
            for other in parents where other != parentID {
                guard let status = try await connection.send("HGET", RedisArgument(keys.job(other)), "status").string else { continue }
                if status == RQJobStatus.finished.rawValue || (allowFailures && status == RQJobStatus.failed.rawValue) { continue }
                ready = false
            }
            guard ready else { continue }
            child.status = .queued
            child.enqueuedAt = now
            commands.append(["ZREM", RedisArgument(keys.deferred(origin)), RedisArgument(childID)])
            commands.append(["HSET", RedisArgument(keys.job(childID)), "status", "queued"])
            commands.append(try RQTransitions.saveCommand(child, keys: keys, serializer: serializer, includeMeta: true))
            commands.append([child.enqueueAtFront == true ? "LPUSH" : "RPUSH", RedisArgument(keys.queue(origin)), RedisArgument(childID)])
            released.append(childID)
        }
        if released.count == children.count {
            commands.append(["DEL", RedisArgument(dependentsKey)])
        } else if !released.isEmpty {
            commands.append(["SREM", RedisArgument(dependentsKey)] + released.map { RedisArgument($0) })
        }
        return commands
    }
}
