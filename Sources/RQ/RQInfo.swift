import Foundation
import Timestamps
import Redis

/// What `rq info` shows: queues with their counts and the workers listening to them.
public struct RQInfo: Sendable {
    /// One queue's counts.
    public struct QueueLine: Sendable, Hashable {
        public var name: String
        public var queued: Int
        public var executing: Int
        public var finished: Int
        public var failed: Int
    }

    /// One worker as `rq info` prints it.
    public struct WorkerLine: Sendable, Hashable {
        public var name: String
        public var hostname: String
        public var ipAddress: String
        public var pid: String
        public var state: String
        public var queues: [String]
        public var successfulJobs: Int
        public var failedJobs: Int
    }

    /// The queues, sorted by name.
    public var queues: [QueueLine]
    /// The workers, sorted by name.
    public var workers: [WorkerLine]

    /// Collects the figures as `rq info` does: registry cleanup first (finished and failed), dead
    /// worker keys pruned from the worker sets, then counts. `only` restricts it to named queues.
    public static func collect(_ store: RQStore, only: [String] = []) async throws -> RQInfo {
        let names = only.isEmpty ? try await store.queueNames() : only.sorted()
        var queueLines: [QueueLine] = []
        var workerKeys = Set<String>()
        for name in names {
            try await store.cleanup(.finished, queue: name)
            try await store.cleanup(.started, queue: name)
            try await store.cleanup(.failed, queue: name)
            queueLines.append(QueueLine(
                name: name,
                queued: try await store.queue(name).count(),
                executing: try await store.count(.started, queue: name),
                finished: try await store.count(.finished, queue: name),
                failed: try await store.count(.failed, queue: name)
            ))
            let members = try await store.redis.send("SMEMBERS", RedisArgument(store.keys.workers(queue: name)))
            for key in members.array?.compactMap(\.string) ?? [] { workerKeys.insert(key) }
        }
        if names.isEmpty {
            let members = try await store.redis.send("SMEMBERS", RedisArgument(store.keys.workers))
            for key in members.array?.compactMap(\.string) ?? [] { workerKeys.insert(key) }
        }
        var workerLines: [WorkerLine] = []
        for key in workerKeys.sorted() {
            let fields = try await store.redis.send("HGETALL", RedisArgument(key)).fieldMap
            guard !fields.isEmpty else {
                // A dead worker whose hash expired: prune it like RQ does.
                _ = try await store.redis.send("SREM", RedisArgument(store.keys.workers), RedisArgument(key))
                for name in names { _ = try await store.redis.send("SREM", RedisArgument(store.keys.workers(queue: name)), RedisArgument(key)) }
                continue
            }
            func text(_ name: String) -> String? { fields[name].map { String(decoding: $0, as: UTF8.self) } }
            workerLines.append(WorkerLine(
                name: String(key.dropFirst(store.keys.workerPrefix.count)),
                hostname: text("hostname") ?? "None",
                ipAddress: text("ip_address") ?? "None",
                pid: text("pid") ?? "None",
                state: text("state") ?? "?",
                queues: (text("queues") ?? "").split(separator: ",").map(String.init),
                successfulJobs: Int(text("successful_job_count") ?? "") ?? 0,
                failedJobs: Int(text("failed_job_count") ?? "") ?? 0
            ))
        }
        return RQInfo(queues: queueLines, workers: workerLines)
    }

    /// `rq info --raw` lines.
    public var rawText: String {
        var lines = queues.map { "queue \($0.name) \($0.queued), \($0.executing) executing, \($0.finished) finished, \($0.failed) failed" }
        lines += workers.map {
            "worker \($0.name) (\($0.hostname) \($0.ipAddress) \($0.pid)) \($0.state) \($0.queues.joined(separator: ", ")). jobs: \($0.successfulJobs) finished, \($0.failedJobs) failed"
        }
        return lines.joined(separator: "\n")
    }

    /// `rq info` (default mode, without colours).
    public func text(now: Date = Date()) -> String {
        let maximum = queues.map(\.queued).max() ?? 0
        let scale = [20, 50, 100, 200, 400, 600, 800, 1000].first { maximum <= $0 } ?? maximum
        let ratio = 20.0 / Double(max(scale, 1))
        var lines = queues.map { line -> String in
            let name = line.name.count >= 12 ? line.name : line.name + String(repeating: " ", count: 12 - line.name.count)
            let chart = "|" + String(repeating: "█", count: Int(ratio * Double(line.queued)))
            return "\(name) \(chart) \(line.queued), \(line.executing) executing, \(line.finished) finished, \(line.failed) failed"
        }
        lines.append("\(queues.count) queues, \(queues.map(\.queued).reduce(0, +)) jobs total")
        lines.append("")
        lines += workers.map {
            "\($0.name) (\($0.hostname) \($0.ipAddress) \($0.pid)): \($0.state) \($0.queues.joined(separator: ", ")). jobs: \($0.successfulJobs) finished, \($0.failedJobs) failed"
        }
        lines.append("\(workers.count) workers, \(queues.count) queues")
        lines.append("")
        lines.append("Updated: \(WireTime.format(now).replacingOccurrences(of: "T", with: " ").dropLast())")
        return lines.joined(separator: "\n")
    }
}
