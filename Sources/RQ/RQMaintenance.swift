import ClientSupport
import Foundation
import Timestamps
import Redis

/// What one maintenance pass did, per queue it held the `rq:clean_registries:Q` lock for.
public struct RQMaintenanceReport: Sendable, Hashable {
    /// Queues cleaned (lock acquired); queues another worker was cleaning are skipped.
    public var queues: [String] = []
    /// Abandoned jobs put back through their `Retry`.
    public var retried: [String] = []
    /// Abandoned or stuck jobs failed.
    public var failed: [String] = []
    /// Expired finished/failed registry entries removed.
    public var expiredEntries = 0
    /// Dead worker keys pruned from `rq:workers` and `rq:workers:Q`.
    public var prunedWorkers = 0
    /// Intermediate-list ids removed (missing hash or stuck).
    public var intermediateRemoved = 0
    /// Jobs moved from RQ 3.0's ready registry onto their queue.
    public var readyEnqueued: [String] = []

    /// An empty report.
    public init() {}
}

extension RQStore {
    /// `Worker.clean_registries` for each queue, exactly as RQ 2.12/3.0 do it (`docs/rq-wire.md`, "Maintenance"):
    /// under `SET rq:clean_registries:Q 1 NX EX 899` — so only one worker of a fleet, Python or
    /// Swift, cleans a queue at a time — the finished, started (abandoned jobs retried or failed)
    /// and failed registries are cleaned, 3.0's ready registry enqueued, dead workers pruned, the
    /// intermediate list checked, and the lock deleted.
    public func runMaintenance(queues: [String], workerName: String, now: Date = Date()) async throws -> RQMaintenanceReport {
        var report = RQMaintenanceReport()
        for queue in queues {
            _ = try await withMaintenanceLock(queue: queue) { () async throws -> Void in
                report.queues.append(queue)
                report.expiredEntries += try await cleanup(.finished, queue: queue, now: now)
                let (retried, failed) = try await cleanupStarted(queue: queue, now: now)
                report.retried += retried
                report.failed += failed
                report.expiredEntries += try await cleanup(.failed, queue: queue, now: now)
                report.readyEnqueued += try await enqueueReadyJobs(queue: queue, now: now)
                report.prunedWorkers += try await pruneDeadWorkers(queue: queue)
                let (removed, stuck) = try await cleanIntermediate(queue: queue, workerName: workerName, now: now)
                report.intermediateRemoved += removed
                report.failed += stuck
            }
        }
        return report
    }

    /// Runs `body` holding `rq:clean_registries:Q` as RQ takes it (`SET … 1 NX EX 899`), so one
    /// worker of a fleet, Python or Swift, maintains a queue at a time; the lock is deleted after,
    /// on success or error. `nil`, without running `body`, when another worker holds it.
    func withMaintenanceLock<Result>(queue: String, _ body: () async throws -> Result) async throws -> Result? {
        let lock = RedisArgument(keys.cleanRegistries(queue))
        guard try await redis.send("SET", lock, "1", "NX", "EX", "899").string == "OK" else { return nil }
        let result: Result
        do {
            result = try await body()
        } catch {
            await releaseMaintenanceLock(lock)
            throw error
        }
        await releaseMaintenanceLock(lock)
        return result
    }

    /// Deletes the maintenance lock, retrying for up to ~10 s: the body usually fails because the
    /// connection dropped, and a lock left behind would stop every worker's cleaning (and the
    /// stuck-intermediate rescue) for its full 899 s. Gives up quietly after that (the TTL ends it).
    func releaseMaintenanceLock(_ lock: RedisArgument, backoff: Backoff = Backoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(2))) async {
        for attempt in 0..<9 {
            if (try? await redis.send("DEL", lock)) != nil { return }
            do {
                try await Task.sleep(for: backoff.delay(afterAttempt: attempt))
            } catch {
                return
            }
        }
    }

    /// `clean_worker_registry`: worker keys in `rq:workers:Q` whose hash expired (a worker killed
    /// without dying cleanly) leave both `rq:workers:Q` and `rq:workers`. Returns how many.
    @discardableResult
    public func pruneDeadWorkers(queue: String) async throws -> Int {
        let setKey = RedisArgument(keys.workers(queue: queue))
        let members = try await redis.send("SMEMBERS", setKey).array?.compactMap(\.string) ?? []
        guard !members.isEmpty else { return 0 }
        let exists = try await redis.pipeline(members.map { ["EXISTS", RedisArgument($0)] })
        let dead = zip(members, exists).filter { $0.1.int == 0 }.map(\.0)
        guard !dead.isEmpty else { return 0 }
        var commands: [RedisCommand] = []
        for start in stride(from: 0, to: dead.count, by: 1000) {
            let slice = dead[start..<min(start + 1000, dead.count)].map { RedisArgument($0) }
            commands.append(["SREM", setKey] + slice)
            commands.append(["SREM", RedisArgument(keys.workers)] + slice)
        }
        _ = try await redis.pipeline(commands)
        return dead.count
    }

    /// The intermediate-list check on its own, under the `rq:clean_registries:Q` lock (skipped,
    /// returning `nil`, when another worker holds it or the list is empty), with a shorter
    /// threshold than RQ's minute: a live worker keeps an id there only for the milliseconds
    /// between its `BLMOVE` and the job's start, so one still there after `stuckAfter` was popped
    /// by a worker that died or whose connection dropped before the reply arrived.
    public func cleanStuckIntermediate(queue: String, workerName: String, stuckAfter: Duration, now: Date = Date()) async throws -> (removed: Int, failed: [String])? {
        guard try await redis.send("LLEN", RedisArgument(keys.intermediate(queue))).int ?? 0 > 0 else { return nil }
        return try await withMaintenanceLock(queue: queue) {
            try await cleanIntermediate(queue: queue, workerName: workerName, stuckAfter: stuckAfter, now: now)
        }
    }

    /// `IntermediateQueue.cleanup`: an id in `rq:queue:Q:intermediate` with no `rq:wip:Q` entry
    /// was dequeued by a worker that died before starting it. A missing hash is removed; otherwise
    /// the first sighting is recorded (`…:intermediate:first_seen:ID`, 24 h) and, once that is more
    /// than `stuckAfter` (RQ: a minute) old, the job fails with RQ's text `Job was stuck in intermediate queue.` and
    /// leaves the list (or is retried when it has retries left). Returns (ids removed, ids failed or retried).
    public func cleanIntermediate(
        queue: String, workerName: String, stuckAfter: Duration = .seconds(60), now: Date = Date()
    ) async throws -> (removed: Int, failed: [String]) {
        let listKey = keys.intermediate(queue)
        let ids = try await redis.send("LRANGE", RedisArgument(listKey), "0", "-1").array?.compactMap(\.string) ?? []
        guard !ids.isEmpty else { return (0, []) }
        let started = try await redis.send("ZRANGE", RedisArgument(keys.started(queue)), "0", "-1").array?.compactMap(\.string) ?? []
        let running = Set(started.map { String($0.split(separator: ":", maxSplits: 1).first ?? Substring($0)) })
        var removed = 0
        var failed: [String] = []
        for id in ids where !running.contains(id) {
            guard var job = try await fetchJob(id) else {
                _ = try await redis.send("LREM", RedisArgument(listKey), "1", RedisArgument(id))
                removed += 1
                continue
            }
            let firstSeenKey = RedisArgument("\(listKey):first_seen:\(id)")
            let firstSeen = WireTime.floatSeconds(now)
            if try await redis.send("SET", firstSeenKey, RedisArgument(firstSeen), "NX", "EX", "86400").string == "OK" { continue }
            guard let seen = try await redis.send("GET", firstSeenKey).string.flatMap(Double.init),
                  now.timeIntervalSince1970 - seen > stuckAfter.seconds else { continue }
            // `handle_job_failure`: a job with retries left is retried, otherwise failed.
            let outcome = try RQTransitions.retryOrFail(
                &job, excString: "Job was stuck in intermediate queue.", workerName: workerName, now: now, keys: keys, serializer: serializer)
            var commands = outcome.commands
            commands.append(["ZREM", RedisArgument(keys.started(queue)), RedisArgument(id)])
            commands.append(["LREM", RedisArgument(listKey), "1", RedisArgument(id)])
            _ = try await redis.transaction(commands)
            try await afterAbandonment(failed: outcome.retried ? [] : [id], handled: [job])
            removed += 1
            failed.append(id)
        }
        return (removed, failed)
    }
}
