import ClientSupport
import Foundation
import Timestamps
import Redis

/// What one vanished-worker check did.
public struct RQReclaimReport: Sendable, Hashable {
    /// Workers declared dead (registration removed, `death` written).
    public var workers: [String] = []
    /// Their jobs put back through their `Retry`.
    public var retried: [String] = []
    /// Their jobs failed (no retries left), with RQ's `AbandonedJobError` text.
    public var failed: [String] = []

    /// An empty report.
    public init() {}
}

extension RQStore {
    /// Finds workers of `queue` that vanished — killed, or their host gone — long before RQ's own
    /// rule would notice (their started-registry entries expire 60–90 s after the last heartbeat).
    ///
    /// The evidence is the worker's command channel: every RQ worker (Python RQ 2.x and 3.x, and ours)
    /// stays subscribed to `rq:pubsub:W` while it runs, and Redis drops the subscription the moment
    /// the process's connection closes. A registered worker whose channel has no subscriber at two
    /// checks at least `grace` apart (the first sighting is kept in `rq:worker:W:vanished_at`) is
    /// declared dead: under the `rq:clean_registries:Q` lock (so Python's maintenance and ours
    /// never handle a job twice), each of its jobs still `started` on `queue` is retried if it has
    /// `retries_left` or failed with RQ's `AbandonedJobError` text — exactly what RQ's own cleanup
    /// does later — and the worker is recorded as dead the way a clean exit is (`death`, removal
    /// from `rq:workers` and `rq:workers:Q`).
    ///
    /// Trade-off: a worker cut off from Redis for longer than `grace` (a network partition) loses
    /// its jobs to others, and a Python work horse that outlives its killed parent may finish a job
    /// that was already retried; the job then runs twice, as it can after RQ's own 90 s rule.
    public func reclaimVanishedWorkers(queue: String, grace: Duration, excluding selfName: String, now: Date = Date()) async throws -> RQReclaimReport {
        let report = RQReclaimReport()
        let prefix = keys.worker("")
        let names = (try await redis.send("SMEMBERS", RedisArgument(keys.workers(queue: queue))).array?.compactMap(\.string) ?? [])
            .filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }.filter { $0 != selfName }.sorted()
        guard !names.isEmpty else { return report }
        let counts = try await redis.send(["PUBSUB", "NUMSUB"] + names.map { RedisArgument(keys.pubsub($0)) }).array ?? []
        var silent: [String] = []
        var heard: [String] = []
        for (index, name) in names.enumerated() {
            let subscribers = counts.count > 2 * index + 1 ? counts[2 * index + 1].int ?? 1 : 1
            if subscribers == 0 { silent.append(name) } else { heard.append(name) }
        }
        if !heard.isEmpty {
            // A worker heard again (a brief reconnect) starts over.
            _ = try await redis.send(["DEL"] + heard.map { RedisArgument(vanishedKey($0)) })
        }
        guard !silent.isEmpty else { return report }
        let nowSeconds = now.timeIntervalSince1970
        var dead: [String] = []
        for name in silent {
            let key = RedisArgument(vanishedKey(name))
            if try await redis.send("SET", key, RedisArgument(String(nowSeconds)), "NX", "EX", "3600").string == "OK" { continue }
            guard let seen = try await redis.send("GET", key).string.flatMap(Double.init), nowSeconds - seen >= grace.seconds else { continue }
            dead.append(name)
        }
        guard !dead.isEmpty else { return report }
        return try await withMaintenanceLock(queue: queue) { try await reclaim(dead, queue: queue, now: now) } ?? report
    }

    private func vanishedKey(_ name: String) -> String { keys.worker(name) + ":vanished_at" }

    /// Under the maintenance lock: the dead workers' started jobs retried or failed, the workers
    /// recorded as dead.
    private func reclaim(_ dead: [String], queue: String, now: Date) async throws -> RQReclaimReport {
        var report = RQReclaimReport()
        let wip = try await redis.send("ZRANGE", RedisArgument(keys.started(queue)), "0", "-1").array?.compactMap(\.string) ?? []
        let entries = wip.map { member -> (member: String, id: String, execution: String?) in
            let parts = member.split(separator: ":", maxSplits: 1).map(String.init)
            return (member, parts[0], parts.count > 1 ? parts[1] : nil)
        }
        let jobs = try await fetchJobs(entries.map(\.id))
        let deadSet = Set(dead)
        var commands: [RedisCommand] = []
        var handled = Set<String>()
        var handledJobs: [RQJob] = []
        for (entry, fetched) in zip(entries, jobs) {
            guard case .success(let found) = fetched, var job = found, job.status == .started,
                  let worker = job.workerName, deadSet.contains(worker) else { continue }
            commands.append(["ZREM", RedisArgument(keys.started(queue)), RedisArgument(entry.member)])
            if let execution = entry.execution {
                commands.append(["DEL", RedisArgument(keys.execution(job: entry.id, execution: execution))])
                commands.append(["ZREM", RedisArgument(keys.executions(entry.id)), RedisArgument(execution)])
            }
            guard handled.insert(entry.id).inserted else { continue }
            let outcome = try RQTransitions.retryOrFail(
                &job, excString: RQTransitions.abandonedText(now: now), now: now, keys: keys, serializer: serializer)
            commands += outcome.commands
            if outcome.retried { report.retried.append(entry.id) } else { report.failed.append(entry.id) }
            handledJobs.append(job)
        }
        for name in dead {
            let workerKey = RedisArgument(keys.worker(name))
            // What a clean exit writes (`register_death`), so every reader sees a dead worker.
            commands.append(["HSET", workerKey, "death", RedisArgument(WireTime.format(now))])
            commands.append(["EXPIRE", workerKey, "60"])
            commands.append(["SREM", RedisArgument(keys.workers), workerKey])
            commands.append(["SREM", RedisArgument(keys.workers(queue: queue)), workerKey])
            commands.append(["DEL", RedisArgument(keys.workerExecutions(name)), RedisArgument(vanishedKey(name))])
            // A scheduler lock it held (the lock's value is its scheduler's name, which is the
            // worker name for ours) is released, so a live scheduler takes over without waiting
            // for the lock's 61 s expiry — with RQ's own release script.
            commands.append(["EVAL", RedisArgument(RQScheduler.releaseScript), "1", RedisArgument(keys.schedulerLock(queue)), RedisArgument(name)])
            report.workers.append(name)
        }
        _ = try await redis.transaction(commands)
        try await afterAbandonment(failed: report.failed, handled: handledJobs)
        return report
    }
}
