import Foundation
import Redis
import Timestamps

extension RQStore {
    /// RQ 3.0's `ReadyJobRegistry.cleanup`: jobs whose dependencies were met but whose enqueue
    /// never happened (the releasing process died between the two) go onto their queue. A
    /// missing job, or one no longer `ready_to_enqueue`, only leaves the registry; each move is
    /// checked under `WATCH` of the registry and the job, so no job is enqueued twice. Returns the
    /// ids enqueued.
    public func enqueueReadyJobs(queue: String, now: Date = Date()) async throws -> [String] {
        let readyKey = keys.ready(queue)
        let ids = try await redis.send("ZRANGE", RedisArgument(readyKey), "0", "-1").array?.compactMap(\.string) ?? []
        var enqueued: [String] = []
        for id in ids {
            let jobKey = keys.job(id)
            let moved = try await redis.withConnection { connection -> Bool in
                let replies = try await connection.pipeline([
                    ["WATCH", RedisArgument(readyKey), RedisArgument(jobKey)],
                    ["ZSCORE", RedisArgument(readyKey), RedisArgument(id)],
                    ["HMGET", RedisArgument(jobKey), "status", "enqueue_at_front"],
                ])
                let fields = replies[2].array ?? []
                guard replies[1].string != nil else {
                    _ = try await connection.send("UNWATCH")
                    return false
                }
                guard fields.first?.string == RQJobStatus.readyToEnqueue.rawValue else {
                    _ = try await connection.transaction([["ZREM", RedisArgument(readyKey), RedisArgument(id)]])
                    return false
                }
                let front = ["1", "True", "true"].contains(fields.count > 1 ? fields[1].string ?? "" : "")
                return try await connection.transaction([
                    ["ZREM", RedisArgument(readyKey), RedisArgument(id)],
                    ["SADD", RedisArgument(keys.queues), RedisArgument(keys.queue(queue))],
                    ["HSET", RedisArgument(jobKey), "status", "queued", "enqueued_at", RedisArgument(WireTime.format(now))],
                    [front ? "LPUSH" : "RPUSH", RedisArgument(keys.queue(queue)), RedisArgument(id)],
                ]) != nil
            }
            if moved { enqueued.append(id) }
        }
        return enqueued
    }

    /// RQ 3.0's `Group.clean_registries` under `SET rq:clean_groups 1 NX EX lockSeconds` (never
    /// released: groups are cleaned at most once per window across the fleet): ids of deleted
    /// or expired jobs leave `rq:group:NAME`, and groups left empty leave `rq:groups`. Returns how
    /// many ids were dropped, or `nil` when another worker holds the lock.
    public func cleanGroups(lockSeconds: Int) async throws -> Int? {
        let locked = try await redis.send("SET", RedisArgument(keys.cleanGroups), "1", "NX", "EX", RedisArgument(max(lockSeconds, 1)))
        guard locked.string == "OK" else { return nil }
        let names = try await redis.send("SMEMBERS", RedisArgument(keys.groups)).array?.compactMap(\.string) ?? []
        var dropped = 0
        for name in names {
            let groupKey = keys.group(name)
            let members = try await redis.send("SMEMBERS", RedisArgument(groupKey)).array?.compactMap(\.string) ?? []
            if !members.isEmpty {
                let exists = try await redis.pipeline(members.map { ["EXISTS", RedisArgument(keys.job($0))] })
                let gone = zip(members, exists).filter { $0.1.int == 0 }.map(\.0)
                if !gone.isEmpty {
                    _ = try await redis.send(["SREM", RedisArgument(groupKey)] + gone.map { RedisArgument($0) })
                    dropped += gone.count
                }
            }
            if try await redis.send("EXISTS", RedisArgument(groupKey)).int == 0 {
                _ = try await redis.send("SREM", RedisArgument(keys.groups), RedisArgument(name))
            }
        }
        return dropped
    }
}
