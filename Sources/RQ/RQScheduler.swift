import Foundation
import Timestamps
import Redis

/// RQ's scheduler protocol (`docs/rq-wire.md`, "Scheduler"; `rq/scheduler.py` of 2.12 and 3.0): one scheduler
/// per queue at a time, chosen by the `rq:scheduler-lock:Q` lock whose value is the scheduler's
/// name (TTL `interval + 60`); the holder moves due jobs from `rq:scheduled:Q` onto the queue.
///
/// Python and Swift schedulers share the lock, so a fleet mixing `rq worker --with-scheduler` and
/// `worker --rq --with-scheduler` moves each job once.
public struct RQScheduler: Sendable {
    /// The lock script RQ runs (`ACQUIRE_OR_REFRESH_LOCK_SCRIPT`): 1 acquired, 2 refreshed, 0 taken.
    public static let acquireOrRefreshScript = """
        local value = redis.call('GET', KEYS[1])
        if not value then
            redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
            return 1
        elseif value == ARGV[1] then
            redis.call('EXPIRE', KEYS[1], ARGV[2])
            return 2
        end
        return 0
        """

    /// RQ's `RELEASE_LOCK_SCRIPT`: deletes the lock only if it is still ours.
    public static let releaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('DEL', KEYS[1])
        end
        return 0
        """

    /// The scheduler's name (the lock value; RQ uses the worker's name or a uuid4 hex).
    public let name: String
    /// The queues it schedules for.
    public let queues: [String]
    /// The tick interval in seconds (RQ's default 1); locks and the scheduler hash live `interval + 60`.
    public let interval: Int
    let store: RQStore
    let createdAt: Date

    /// A scheduler for `queues` on `store`'s Redis.
    public init(name: String, queues: [String], store: RQStore, interval: Int = 1, createdAt: Date = Date()) {
        self.name = name
        self.queues = queues
        self.store = store
        self.interval = interval
        self.createdAt = createdAt
    }

    private var keys: RQKeys { store.keys }
    private var redis: RedisClient { store.redis }
    private var ttl: Int { interval + 60 }

    /// Acquires or refreshes the lock of each queue; returns the queues now owned.
    public func acquireLocks(_ names: [String]? = nil) async throws -> Set<String> {
        var owned = Set<String>()
        for queue in names ?? queues {
            let outcome = try await redis.send(
                ["EVAL", RedisArgument(Self.acquireOrRefreshScript), "1", RedisArgument(keys.schedulerLock(queue)),
                 RedisArgument(name), RedisArgument(ttl)]).int
            if outcome == 1 || outcome == 2 { owned.insert(queue) }
        }
        return owned
    }

    /// `register_birth`/`heartbeat`: the `rq:scheduler:NAME` hash (name, hostname, pid, queues,
    /// created_at, last_heartbeat) with TTL `interval + 60`, and the owned locks refreshed (a lock
    /// taken over by another scheduler is dropped). Returns the queues still owned.
    public func heartbeat(owned: Set<String>, now: Date = Date()) async throws -> Set<String> {
        let key = RedisArgument(keys.scheduler(name))
        _ = try await redis.pipeline([
            ["HSET", key, "name", RedisArgument(name), "hostname", RedisArgument(ProcessInfo.processInfo.hostName),
             "pid", RedisArgument(Int(ProcessInfo.processInfo.processIdentifier)),
             "queues", RedisArgument(queues.joined(separator: ",")), "created_at", RedisArgument(WireTime.format(createdAt)),
             "last_heartbeat", RedisArgument(WireTime.format(now))],
            ["EXPIRE", key, RedisArgument(ttl)],
        ])
        return owned.isEmpty ? [] : try await acquireLocks(owned.sorted())
    }

    /// `enqueue_scheduled_jobs` for one owned queue: jobs of `rq:scheduled:Q` whose time has come
    /// (at most 1 000 a tick) go back on the queue in one transaction — status `queued`, the full
    /// mapping with a new `enqueued_at`, `RPUSH` (or `LPUSH` for at-front jobs), `ZREM`. Returns
    /// the ids moved.
    public func enqueueDueJobs(queue: String, now: Date = Date()) async throws -> [String] {
        let scheduledKey = RedisArgument(keys.scheduled(queue))
        let ids = try await redis.send(
            "ZRANGEBYSCORE", scheduledKey, "0", RedisArgument(WireTime.unixSeconds(now)), "LIMIT", "0", "1000"
        ).array?.compactMap(\.string) ?? []
        guard !ids.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        var moved: [String] = []
        for id in ids {
            let fetched: RQJob?
            do {
                fetched = try await store.fetchJob(id)
            } catch {
                // An unreadable hash still goes to the queue, where a worker fails it with the reason.
                commands.append(["HSET", RedisArgument(keys.job(id)), "status", "queued"])
                commands.append(["RPUSH", RedisArgument(keys.queue(queue)), RedisArgument(id)])
                moved.append(id)
                continue
            }
            if var job = fetched {
                job.status = .queued
                job.enqueuedAt = now
                let target = job.origin ?? queue
                commands.append(["HSET", RedisArgument(keys.job(id)), "status", "queued"])
                commands.append(try RQTransitions.saveCommand(job, keys: keys, serializer: store.serializer, includeMeta: true))
                commands += RQTransitions.expireCommands(id, ttl: job.ttl ?? 0, keys: keys)
                commands.append([job.enqueueAtFront == true ? "LPUSH" : "RPUSH", RedisArgument(keys.queue(target)), RedisArgument(id)])
                moved.append(id)
            }
        }
        commands.append(["ZREM", scheduledKey] + ids.map { RedisArgument($0) })
        _ = try await redis.transaction(commands)
        return moved
    }

    /// `stop`: releases the locks still ours and deletes the scheduler hash.
    public func stop(owned: Set<String>) async throws {
        for queue in owned.sorted() {
            _ = try await redis.send(["EVAL", RedisArgument(Self.releaseScript), "1", RedisArgument(keys.schedulerLock(queue)), RedisArgument(name)])
        }
        _ = try await redis.send("DEL", RedisArgument(keys.scheduler(name)))
    }
}
