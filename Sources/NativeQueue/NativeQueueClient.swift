import ClientSupport
import Foundation
import Timestamps
import Pickle
import Redis

/// The native queue's operations as Redis command sequences: enqueue, reliable fetch, completion,
/// retries with exponential backoff and jitter through a delayed set, dead letters, and the reaper
/// that returns the jobs of workers whose heartbeat expired.
public struct NativeQueueClient: Sendable {
    /// The keys.
    public let keys: NativeQueueKeys
    let redis: RedisClient

    /// A client on `redis`.
    public init(redis: RedisClient, keys: NativeQueueKeys = NativeQueueKeys()) {
        self.redis = redis
        self.keys = keys
    }

    /// Enqueues a call: the job hash and the id pushed in one transaction. Returns the job id.
    @discardableResult
    public func enqueue(
        function: String, args: [PythonValue] = [], kwargs: [PythonDictEntry] = [], maxAttempts: Int = 3,
        id: String = UUID().uuidString.lowercased()
    ) async throws -> String {
        let now = WireTime.format(Date())
        let replies = try await redis.transaction([
            ["HSET", RedisArgument(keys.job(id)), "id", RedisArgument(id), "function", RedisArgument(function),
             "args", RedisArgument(bytes: try PythonJSON.encode(.list(args))),
             "kwargs", RedisArgument(bytes: try PythonJSON.encode(.dict(kwargs))),
             "status", "queued", "attempts", "0", "max_attempts", RedisArgument(maxAttempts),
             "created_at", RedisArgument(now), "enqueued_at", RedisArgument(now)],
            ["RPUSH", RedisArgument(keys.queue), RedisArgument(id)],
        ])
        guard replies != nil else { throw NativeQueueError("enqueue transaction aborted") }
        return id
    }

    /// Fetches a job hash.
    public func job(_ id: String) async throws -> NativeJob? {
        let fields = try await redis.send("HGETALL", RedisArgument(keys.job(id))).fieldMap
        return fields.isEmpty ? nil : try NativeJob(fields: fields)
    }

    /// Blocks up to `timeout` for a job and moves its id atomically into `worker`'s processing
    /// list, so a crash from here on leaves the id where the reaper finds it. Marks it started.
    /// Returns `nil` on timeout; ids whose hash is gone are dropped from the processing list.
    public func dequeue(worker: String, on connection: RedisConnection, timeout: Duration) async throws -> NativeJob? {
        let ids = try await take(worker: worker, on: connection, limit: 1, wait: timeout)
        return try await start(ids, worker: worker, on: connection).jobs.first
    }

    /// Moves up to `limit` ids from the queue into `worker`'s processing list: with `wait`, one
    /// `BLMOVE` blocking that long, then `LMOVE`s for the rest in one pipelined round trip (each
    /// move atomic). Empty when nothing is queued.
    public func take(worker: String, on connection: RedisConnection, limit: Int, wait: Duration?) async throws -> [String] {
        var ids: [String] = []
        var more = limit
        if let wait {
            let reply = try await connection.sendBlocking(
                ["BLMOVE", RedisArgument(keys.queue), RedisArgument(keys.processing(worker)), "LEFT", "RIGHT",
                 RedisArgument(String(format: "%.3f", wait.seconds))],
                timeout: wait)
            guard let first = reply.string else { return [] }
            ids.append(first)
            more -= 1
        }
        guard more > 0 else { return ids }
        let move: RedisCommand = ["LMOVE", RedisArgument(keys.queue), RedisArgument(keys.processing(worker)), "LEFT", "RIGHT"]
        if more == 1 { return ids + [try await connection.send(move).string].compactMap { $0 } }
        return ids + (try await connection.pipeline(Array(repeating: move, count: more)).compactMap(\.string))
    }

    /// Marks taken ids started (status, worker, `started_at`, `attempts + 1`, one atomic script
    /// each, pipelined) and reads their hashes. An id whose hash is gone leaves the processing
    /// list; an unreadable hash is dead-lettered with the reason (counted in `failed`).
    public func start(_ ids: [String], worker: String, on connection: RedisConnection) async throws -> (jobs: [NativeJob], failed: Int) {
        guard !ids.isEmpty else { return ([], 0) }
        let now = RedisArgument(WireTime.format(Date()))
        let scripts = ids.map { id in
            Self.startScript.command(
                keys: [RedisArgument(keys.job(id)), RedisArgument(keys.processing(worker))],
                arguments: [RedisArgument(id), RedisArgument(worker), now])
        }
        var jobs: [NativeJob] = []
        var failed = 0
        for (id, reply) in zip(ids, try await connection.pipeline(scripts)) {
            if let message = reply.errorMessage { throw RedisClientError(.serverError, message) }
            let fields = reply.fieldMap
            guard !fields.isEmpty else { continue }  // the hash is gone: nothing to run
            do {
                jobs.append(try NativeJob(fields: fields))
            } catch {
                // An unreadable hash would otherwise stay in the processing list and go back to
                // the queue with every retire: dead-lettered with the reason instead.
                _ = try await connection.transaction([
                    ["LREM", RedisArgument(keys.processing(worker)), "1", RedisArgument(id)],
                    ["HSET", RedisArgument(keys.job(id)), "status", "failed", "error", RedisArgument("DeserializationError: \(error.message)"),
                     "ended_at", RedisArgument(WireTime.format(Date()))],
                    ["RPUSH", RedisArgument(keys.dead), RedisArgument(id)],
                ])
                failed += 1
            }
        }
        return (jobs, failed)
    }

    /// One job's start. KEYS: job hash, processing list. ARGV: id, worker, now. A hash without
    /// `function` (gone, or stray writes) is deleted and its id released: returns nil. `attempts`
    /// is counted with `pcall`, so a non-integer leaves the hash for the reader to refuse.
    static let startScript = RedisScript("""
        if redis.call('HEXISTS', KEYS[1], 'function') == 0 then
            redis.call('DEL', KEYS[1])
            redis.call('LREM', KEYS[2], 1, ARGV[1])
            return false
        end
        redis.call('HSET', KEYS[1], 'status', 'started', 'worker', ARGV[2], 'started_at', ARGV[3])
        redis.pcall('HINCRBY', KEYS[1], 'attempts', 1)
        return redis.call('HGETALL', KEYS[1])
        """)

    /// Records success and releases the id from the processing list, in one transaction.
    public func complete(_ job: NativeJob, worker: String, result: PythonValue) async throws {
        _ = try await redis.transaction([
            ["HSET", RedisArgument(keys.job(job.id)), "status", "finished", "ended_at", RedisArgument(WireTime.format(Date())),
             "result", RedisArgument(bytes: (try? PythonJSON.encode(result)) ?? Array("null".utf8)), "error", ""],
            ["LREM", RedisArgument(keys.processing(worker)), "1", RedisArgument(job.id)],
        ])
    }

    /// Records a failure. With `retry` and attempts left the job waits in the delayed set for
    /// `backoff(attempt)`; otherwise it goes to the dead-letter list as `failed`. Returns whether
    /// it will be retried.
    @discardableResult
    public func fail(_ job: NativeJob, worker: String, error: String, retry requested: Bool = true, now: Date = Date()) async throws -> Bool {
        let retry = requested && job.attempts < job.maxAttempts
        var commands: [RedisCommand] = [["LREM", RedisArgument(keys.processing(worker)), "1", RedisArgument(job.id)]]
        if retry {
            let due = now.addingTimeInterval(Self.backoff(attempt: job.attempts).seconds)
            commands.append(["HSET", RedisArgument(keys.job(job.id)), "status", "retrying", "error", RedisArgument(error)])
            commands.append(["ZADD", RedisArgument(keys.delayed), RedisArgument(Int(due.timeIntervalSince1970 * 1000)), RedisArgument(job.id)])
        } else {
            commands.append(["HSET", RedisArgument(keys.job(job.id)), "status", "failed", "error", RedisArgument(error),
                             "ended_at", RedisArgument(WireTime.format(now))])
            commands.append(["RPUSH", RedisArgument(keys.dead), RedisArgument(job.id)])
        }
        _ = try await redis.transaction(commands)
        return retry
    }

    /// Exponential backoff with full jitter: base 1 s doubling per attempt, capped at 5 minutes,
    /// then a random point in the upper half.
    public static func backoff(attempt: Int) -> Duration {
        let base = min(300.0, pow(2.0, Double(max(attempt, 1) - 1)))  // `attempt - 1` would trap at Int.min
        return .milliseconds(Int64(base * Double.random(in: 0.5...1.0) * 1000))
    }

    /// Moves retries whose time has come back to the queue (atomically per id, so two workers never
    /// both move one). Returns how many moved.
    @discardableResult
    public func promoteDue(now: Date = Date(), limit: Int = 100) async throws -> Int {
        let script = """
            local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
            for _, id in ipairs(ids) do
              redis.call('ZREM', KEYS[1], id)
              if redis.call('EXISTS', 'job:' .. id) == 1 then
                redis.call('HSET', 'job:' .. id, 'status', 'queued')
                redis.call('RPUSH', KEYS[2], id)
              end
            end
            return #ids
            """
        return try await redis.send(["EVAL", RedisArgument(script), "2", RedisArgument(keys.delayed), RedisArgument(keys.queue),
                                     RedisArgument(Int(now.timeIntervalSince1970 * 1000)), RedisArgument(limit)]).int ?? 0
    }

    /// Announces `worker` as alive for `ttl`.
    public func heartbeat(worker: String, ttl: Duration) async throws {
        _ = try await redis.pipeline([
            ["SADD", RedisArgument(keys.workers), RedisArgument(worker)],
            ["SET", RedisArgument(keys.heartbeat(worker)), RedisArgument(WireTime.format(Date())), "PX", RedisArgument(Int(ttl.seconds * 1000))],
        ])
    }

    /// Removes `worker` cleanly (its processing list must be empty or is returned to the queue).
    public func retire(worker: String) async throws {
        _ = try await reclaim(worker, died: false)
        _ = try await redis.pipeline([["SREM", RedisArgument(keys.workers), RedisArgument(worker)], ["DEL", RedisArgument(keys.heartbeat(worker))]])
    }

    /// The reaper: every registered worker whose heartbeat key expired is presumed dead; the jobs
    /// in its processing list go back to the front of the queue — except a job that was already in
    /// the hands of a worker that died (``NativeJob/workerDeaths``), which goes to the dead-letter
    /// list as `failed` with ``workerDiedTwiceError`` (a poison job must not crash-loop a fleet).
    /// `alive` (the calling worker) is never reaped. Returns the ids returned to the queue.
    @discardableResult
    public func reapDeadWorkers(excluding alive: String? = nil) async throws -> [String] {
        let workers = try await redis.send("SMEMBERS", RedisArgument(keys.workers)).array?.compactMap(\.string) ?? []
        var returned: [String] = []
        // A worker that is reaping is alive: it never reclaims its own running jobs, even when its
        // heartbeat expired because the process was starved of CPU for longer than the TTL.
        for worker in workers where worker != alive {
            guard try await redis.send("EXISTS", RedisArgument(keys.heartbeat(worker))).int == 0 else { continue }
            returned += try await reclaim(worker, died: true)
            _ = try await redis.send("SREM", RedisArgument(keys.workers), RedisArgument(worker))
        }
        return returned
    }

    /// The `error` of a job dead-lettered by the reaper at its second worker death.
    public static let workerDiedTwiceError = "PoisonJobError: worker died twice while running it"

    /// One id of a processing list back to the front of the queue, atomically. KEYS: processing
    /// list, queue, dead list. ARGV: job key prefix, now (RQ timestamp), `1` when the worker died
    /// (count the death; dead-letter at the second), the dead-letter error. Returns
    /// `{id, 'queued' | 'dead'}`, or nil when the list is empty.
    static let reclaimScript = RedisScript("""
        local id = redis.call('RPOP', KEYS[1])
        if not id then return false end
        local key = ARGV[1] .. id
        if redis.call('EXISTS', key) == 0 then
            redis.call('LPUSH', KEYS[2], id)
            return {id, 'queued'}
        end
        if ARGV[3] == '1' then
            local deaths = tonumber(redis.call('HGET', key, 'worker_deaths') or '0') or 0
            if deaths >= 1 then
                redis.call('HSET', key, 'status', 'failed', 'error', ARGV[4], 'ended_at', ARGV[2], 'worker_deaths', '2')
                redis.call('RPUSH', KEYS[3], id)
                return {id, 'dead'}
            end
            redis.call('HSET', key, 'worker_deaths', '1')
        end
        redis.call('HSET', key, 'status', 'queued')
        redis.call('LPUSH', KEYS[2], id)
        return {id, 'queued'}
        """)

    /// Moves everything in `worker`'s processing list back to the front of the queue (in order),
    /// one atomic script per id; with `died`, each job's worker death is counted (see
    /// ``reapDeadWorkers(excluding:)``). Returns the ids put back on the queue.
    private func reclaim(_ worker: String, died: Bool) async throws -> [String] {
        var returned: [String] = []
        while true {
            let reply = try await redis.send(Self.reclaimScript.command(
                keys: [RedisArgument(keys.processing(worker)), RedisArgument(keys.queue), RedisArgument(keys.dead)],
                arguments: [RedisArgument(keys.job("")), RedisArgument(WireTime.format(Date())), died ? "1" : "0",
                            RedisArgument(Self.workerDiedTwiceError)]))
            if let message = reply.errorMessage { throw NativeQueueError("reclaim script failed: \(message)") }
            guard let parts = reply.array, parts.count == 2, let id = parts[0].string else { return returned }
            if parts[1].string == "queued" { returned.append(id) }
        }
    }

    /// Dead-lettered job ids, oldest first.
    public func deadLetters() async throws -> [String] {
        try await redis.send("LRANGE", RedisArgument(keys.dead), "0", "-1").array?.compactMap(\.string) ?? []
    }

    /// Puts every dead-lettered job back on the queue with its attempts reset. Returns how many.
    @discardableResult
    public func requeueDeadLetters() async throws -> Int {
        var count = 0
        while let id = try await redis.send(["LMOVE", RedisArgument(keys.dead), RedisArgument(keys.queue), "LEFT", "RIGHT"]).string {
            _ = try await redis.send("HSET", RedisArgument(keys.job(id)), "status", "queued", "attempts", "0", "error", "")
            count += 1
        }
        return count
    }

    /// Waiting job ids, oldest first.
    public func queuedIDs() async throws -> [String] {
        try await redis.send("LRANGE", RedisArgument(keys.queue), "0", "-1").array?.compactMap(\.string) ?? []
    }
}

