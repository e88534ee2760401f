import Foundation
import Redis
import Timestamps

/// RQ 3.0's concurrency limits (`RateLimit(key, concurrency)`), with RQ's own scripts: a job
/// holds a slot of `rq:rl:KEY:allowed` from its enqueue until its outcome is recorded; others
/// wait in `rq:rl:KEY:rate_limited` (status `rate_limited`) and are promoted, oldest first,
/// whenever a slot frees (`docs/rq-wire.md`, "Rate limits").
enum RQRateLimitScripts {
    /// RQ's `ACQUIRE_AND_ENQUEUE_SCRIPT`. KEYS: allowed, rate_limited. ARGV: concurrency,
    /// timestamp, enqueued_at, queue key prefix, job key prefix.
    static let acquireSource = """
        local concurrency = tonumber(ARGV[1])
        local timestamp = tonumber(ARGV[2])
        local enqueued_at = ARGV[3]
        local queue_key_prefix = ARGV[4]
        local job_key_prefix = ARGV[5]
        local promoted = {}

        while redis.call('ZCARD', KEYS[1]) < concurrency do
            local result = redis.call('ZPOPMIN', KEYS[2])
            if #result == 0 then
                break
            end
            local job_id = result[1]
            local job_key = job_key_prefix .. job_id
            local fields = redis.call('HMGET', job_key, 'origin', 'status', 'enqueue_at_front')
            local origin, status, enqueue_at_front = fields[1], fields[2], fields[3]
            if origin and status == 'rate_limited' then
                redis.call('ZADD', KEYS[1], timestamp, job_id)
                if enqueue_at_front == '1' then
                    redis.call('LPUSH', queue_key_prefix .. origin, job_id)
                else
                    redis.call('RPUSH', queue_key_prefix .. origin, job_id)
                end
                redis.call('HSET', job_key, 'status', 'queued', 'enqueued_at', enqueued_at)
                table.insert(promoted, job_id)
            end
        end
        return promoted
        """
    /// RQ's `RELEASE_AND_ENQUEUE_SCRIPT`: the ended job (ARGV[6]) leaves allowed, then acquire.
    static let release = RedisScript("redis.call('ZREM', KEYS[1], ARGV[6])\n" + acquireSource)
    /// RQ's `RELEASE_STALE_AND_ENQUEUE_SCRIPT` (maintenance). KEYS: allowed, rate_limited, job,
    /// executions zset.
    static let releaseStale = RedisScript("""
        local status = redis.call('HGET', KEYS[3], 'status')
        if status == 'queued' or status == 'started' then
            return {}
        end
        if redis.call('ZCOUNT', KEYS[4], '(' .. ARGV[2], '+inf') > 0 then
            return {}
        end
        if redis.call('ZREM', KEYS[1], ARGV[6]) == 0 then
            return {}
        end

        """ + acquireSource)
    /// RQ's `ACQUIRE_AND_ENQUEUE_SCRIPT` on its own.
    static let acquire = RedisScript(acquireSource)
    /// RQ's `CLEANUP_REGISTRY_SCRIPT`. KEYS: allowed, rate_limited, config, `rq:rl-keys`. ARGV: key.
    static let cleanup = RedisScript("""
        if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
            redis.call('SREM', KEYS[4], ARGV[1])
            redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
            return 1
        end
        return 0
        """)
}

extension RQStore {
    private func rateLimitKeys(_ key: String) -> (config: String, allowed: String, limited: String) {
        let base = "\(keys.prefix):rl:\(key)"
        return (base, base + ":allowed", base + ":rate_limited")
    }

    private func arguments(concurrency: Int, now: Date) -> [RedisArgument] {
        [RedisArgument(concurrency), RedisArgument(Int(now.timeIntervalSince1970)), RedisArgument(WireTime.format(now)),
         RedisArgument(keys.queuePrefix), RedisArgument("\(keys.prefix):job:")]
    }

    private func concurrency(of key: String) async throws -> Int {
        Int(try await redis.send("HGET", RedisArgument(rateLimitKeys(key).config), "concurrency").string ?? "") ?? 0
    }

    /// RQ's `release_slot` after a job's outcome is recorded: the slot is freed unless the job is
    /// `queued` or `started` again (a retry, a repeat), and waiting jobs are promoted. Returns the
    /// promoted ids.
    public func releaseRateLimitSlot(jobID: String, key: String, status: RQJobStatus, now: Date = Date()) async throws -> [String] {
        guard status != .queued && status != .started else { return [] }
        let (_, allowed, limited) = rateLimitKeys(key)
        let limit = try await concurrency(of: key)
        let reply = try await redis.send(RQRateLimitScripts.release.command(
            keys: [RedisArgument(allowed), RedisArgument(limited)], arguments: arguments(concurrency: limit, now: now) + [RedisArgument(jobID)]))
        return reply.array?.compactMap(\.string) ?? []
    }

    /// RQ's `RateLimitRegistry.cleanup` for every key in `rq:rl-keys` (maintenance): slots held by
    /// jobs no longer `queued`/`started` and without a live execution are freed, waiting jobs
    /// promoted, and empty registries deleted. Returns the promoted ids.
    public func cleanRateLimits(now: Date = Date()) async throws -> [String] {
        let rateKeys = try await redis.send("SMEMBERS", RedisArgument("\(keys.prefix):rl-keys")).array?.compactMap(\.string) ?? []
        var promoted: [String] = []
        for key in rateKeys {
            let (config, allowed, limited) = rateLimitKeys(key)
            let limit = try await concurrency(of: key)
            let holders = try await redis.send("ZRANGE", RedisArgument(allowed), "0", "-1").array?.compactMap(\.string) ?? []
            if !holders.isEmpty {
                let statuses = try await redis.pipeline(holders.map { ["HGET", RedisArgument(keys.job($0)), "status"] })
                for (id, status) in zip(holders, statuses) where !["queued", "started"].contains(status.string ?? "") {
                    let reply = try await redis.send(RQRateLimitScripts.releaseStale.command(
                        keys: [RedisArgument(allowed), RedisArgument(limited), RedisArgument(keys.job(id)), RedisArgument(keys.executions(id))],
                        arguments: arguments(concurrency: limit, now: now) + [RedisArgument(id)]))
                    promoted += reply.array?.compactMap(\.string) ?? []
                }
            }
            if limit > 0 {
                let reply = try await redis.send(RQRateLimitScripts.acquire.command(
                    keys: [RedisArgument(allowed), RedisArgument(limited)], arguments: arguments(concurrency: limit, now: now)))
                let moved = reply.array?.compactMap(\.string) ?? []
                promoted += moved
                if !moved.isEmpty { continue }
            }
            _ = try await redis.send(RQRateLimitScripts.cleanup.command(
                keys: [RedisArgument(allowed), RedisArgument(limited), RedisArgument(config), RedisArgument("\(keys.prefix):rl-keys")],
                arguments: [RedisArgument(key)]))
        }
        return promoted
    }
}
