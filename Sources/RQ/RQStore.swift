import Foundation
import Timestamps
import Pickle
import Redis
import Zlib

/// The registries of one queue (`docs/rq-wire.md`, "Registries").
public enum RQRegistry: String, Sendable, Hashable, CaseIterable {
    /// `rq:wip:Q` (StartedJobRegistry; members `ID:E` in 2.x, bare `ID` in 1.x).
    case started = "wip"
    /// `rq:finished:Q`.
    case finished
    /// `rq:failed:Q`.
    case failed
    /// `rq:deferred:Q`.
    case deferred
    /// `rq:scheduled:Q`.
    case scheduled
    /// `rq:canceled:Q`.
    case canceled

    func key(_ keys: RQKeys, queue: String) -> String {
        switch self {
        case .started: keys.started(queue)
        case .finished: keys.finished(queue)
        case .failed: keys.failed(queue)
        case .deferred: keys.deferred(queue)
        case .scheduled: keys.scheduled(queue)
        case .canceled: keys.canceled(queue)
        }
    }
}

/// Reading and administering RQ jobs, queues and registries on one Redis: what `Job.fetch`,
/// `latest_result()`, the registries, `rq requeue`, `job.cancel()` and `job.delete()` do.
public struct RQStore: Sendable {
    /// The keyspace.
    public let keys: RQKeys
    /// The serializer of the jobs read and written.
    public let serializer: RQSerializer
    let redis: RedisClient

    /// A store over `redis`.
    public init(redis: RedisClient, keys: RQKeys = .default, serializer: RQSerializer = .pickle) {
        self.redis = redis
        self.keys = keys
        self.serializer = serializer
    }

    /// A handle on queue `name` with this store's keyspace and serializer.
    public func queue(_ name: String) -> RQQueue {
        RQQueue(name: name, redis: redis, keys: keys, serializer: serializer)
    }

    /// `Job.fetch`: the job, or `nil` when its hash does not exist.
    public func fetchJob(_ id: String) async throws -> RQJob? {
        let reply = try await redis.send("HGETALL", RedisArgument(keys.job(id)))
        let fields = reply.fieldMap
        guard !fields.isEmpty else { return nil }
        return try RQJob(id: id, hash: fields, serializer: serializer)
    }

    /// `Job.fetch_many`: each job in one pipelined round trip, in order; `nil` for a missing hash,
    /// and the decoding error for a hash that cannot be read.
    public func fetchJobs(_ ids: [String]) async throws -> [Result<RQJob?, RQError>] {
        guard !ids.isEmpty else { return [] }
        let replies = try await redis.pipeline(ids.map { ["HGETALL", RedisArgument(keys.job($0))] })
        return zip(ids, replies).map { id, reply in
            let fields = reply.fieldMap
            guard !fields.isEmpty else { return .success(nil) }
            do {
                return .success(try RQJob(id: id, hash: fields, serializer: serializer))
            } catch {
                return .failure(error as? RQError ?? RQError(.malformedJob, "\(error)"))
            }
        }
    }

    /// `job.latest_result()`: the newest entry of the result stream.
    public func latestResult(_ id: String) async throws -> RQResult? {
        let reply = try await redis.send("XREVRANGE", RedisArgument(keys.results(id)), "+", "-", "COUNT", "1")
        return try Self.results(reply, serializer: serializer).first
    }

    /// `job.results()`: every stored result, newest first.
    public func results(_ id: String) async throws -> [RQResult] {
        let reply = try await redis.send("XREVRANGE", RedisArgument(keys.results(id)), "+", "-")
        return try Self.results(reply, serializer: serializer)
    }

    /// `SMEMBERS rq:queues`, as queue names, sorted.
    public func queueNames() async throws -> [String] {
        let reply = try await redis.send("SMEMBERS", RedisArgument(keys.queues))
        let prefix = keys.queuePrefix
        return (reply.array ?? []).compactMap(\.string).filter { $0.hasPrefix(prefix) }
            .map { String($0.dropFirst(prefix.count)) }.sorted()
    }

    /// `ZCARD` of a registry.
    public func count(_ registry: RQRegistry, queue: String) async throws -> Int {
        try await redis.send("ZCARD", RedisArgument(registry.key(keys, queue: queue))).int ?? 0
    }

    /// The job ids of a registry (started-registry `ID:E` members reduced to `ID`), oldest score first.
    public func jobIDs(_ registry: RQRegistry, queue: String) async throws -> [String] {
        let reply = try await redis.send("ZRANGE", RedisArgument(registry.key(keys, queue: queue)), "0", "-1")
        let members = (reply.array ?? []).compactMap(\.string)
        guard registry == .started else { return members }
        return members.map { String($0.split(separator: ":", maxSplits: 1).first ?? Substring($0)) }
    }

    /// Registry cleanup as Python does it: finished and failed drop members whose score passed
    /// (`ZREMRANGEBYSCORE key 0 now`); started handles abandoned executions (see
    /// ``cleanupStarted(queue:now:)``); deferred, scheduled and canceled keep their entries.
    /// Returns how many entries were removed.
    @discardableResult
    public func cleanup(_ registry: RQRegistry, queue: String, now: Date = Date()) async throws -> Int {
        if registry == .started {
            let (retried, failed) = try await cleanupStarted(queue: queue, now: now)
            return retried.count + failed.count
        }
        guard registry == .finished || registry == .failed else { return 0 }
        return try await redis.send(
            "ZREMRANGEBYSCORE", RedisArgument(registry.key(keys, queue: queue)), "0", RedisArgument(WireTime.unixSeconds(now))
        ).int ?? 0
    }

    /// `rq requeue ID` / `FailedJobRegistry.requeue`: out of the failed registry, back on its queue
    /// (RQ 3.0's single transaction: status, full hash with cleared times and `exc_info`, push).
    public func requeueFailed(_ id: String, atFront: Bool = false) async throws -> RQJob {
        guard var job = try await fetchJob(id) else { throw RQError(.noSuchJob, "no job \(id)") }
        guard let origin = job.origin else { throw RQError(.malformedJob, "job \(id) has no origin") }
        let removed = try await redis.send("ZREM", RedisArgument(keys.failed(origin)), RedisArgument(id)).int ?? 0
        guard removed == 1 else { throw RQError(.invalidArgument, "job \(id) is not in the failed registry of \(origin)") }
        job.startedAt = nil
        job.endedAt = nil
        job.status = .queued
        job.enqueuedAt = Date()
        job.otherFields["exc_info"] = try? Zlib.compress([])
        job.workerDeaths = nil  // requeued by hand: the poison-job count starts over
        let jobKey = RedisArgument(keys.job(id))
        _ = try await redis.transaction([
            ["HDEL", jobKey, RedisArgument(RQJob.workerDeathsField)],
            ["HSET", jobKey, "status", "queued"], try RQTransitions.saveCommand(job, keys: keys, serializer: serializer, includeMeta: true),
            [atFront ? "LPUSH" : "RPUSH", RedisArgument(keys.queue(origin)), RedisArgument(id)],
        ])
        return job
    }

    /// Requeues every job of a queue's failed registry; returns how many.
    public func requeueAllFailed(queue: String) async throws -> Int {
        var count = 0
        for id in try await jobIDs(.failed, queue: queue) {
            _ = try await requeueFailed(id)
            count += 1
        }
        return count
    }

    /// `job.cancel()`: status `canceled`, out of the queue and its registries, into the canceled registry.
    public func cancel(_ id: String) async throws {
        guard let job = try await fetchJob(id), let origin = job.origin else { throw RQError(.noSuchJob, "no job \(id)") }
        var commands: [RedisCommand] = [["HSET", RedisArgument(keys.job(id)), "status", "canceled"]]
        commands += removalCommands(id, origin: origin)
        commands.append(["ZADD", RedisArgument(keys.canceled(origin)), RedisArgument(WireTime.unixSeconds(Date())), RedisArgument(id)])
        _ = try await redis.transaction(commands)
    }

    /// `job.delete()`: out of the queue and registries; the job hash, its dependents and
    /// dependencies sets, result stream and executions deleted.
    public func delete(_ id: String) async throws {
        let job = try await fetchJob(id)
        var commands: [RedisCommand] = []
        if let origin = job?.origin { commands += removalCommands(id, origin: origin) }
        let executions = try await redis.send("ZRANGE", RedisArgument(keys.executions(id)), "0", "-1").array?.compactMap(\.string) ?? []
        for execution in executions {
            commands.append(["DEL", RedisArgument(keys.execution(job: id, execution: execution))])
        }
        commands.append(["DEL", RedisArgument(keys.job(id)), RedisArgument(keys.dependents(id)), RedisArgument(keys.dependencies(id)),
                         RedisArgument(keys.results(id)), RedisArgument(keys.executions(id))])
        _ = try await redis.transaction(commands)
    }

    private func removalCommands(_ id: String, origin: String) -> [RedisCommand] {
        var commands: [RedisCommand] = [["LREM", RedisArgument(keys.queue(origin)), "0", RedisArgument(id)]]
        for registry in RQRegistry.allCases where registry != .started {
            commands.append(["ZREM", RedisArgument(registry.key(keys, queue: origin)), RedisArgument(id)])
        }
        return commands
    }

    static func results(_ reply: RedisReply, serializer: RQSerializer) throws -> [RQResult] {
        try (reply.array ?? []).compactMap { entry -> RQResult? in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
            return try RQResult(entryID: id, fields: parts[1].fieldMap, serializer: serializer)
        }
    }
}
