import Foundation
import Pickle
import Redis
import RQ
import Testing
import TestSupport
import WorkerRuntime

@Suite("RQ worker against a real Redis", .timeLimit(.minutes(1)))
struct RQWorkerTests {
    @Test func busyHeartbeatsKeepALongJobAlive() async throws {
        try await withTestRedis { redis in
            let queueName = "swift-hb-" + UUID().uuidString.prefix(8).lowercased()
            let store = RQStore(redis: redis)
            let job = try await store.queue(queueName).enqueue(RQCall("resume_processor.jobs.sleep", args: [.float(1.5)]))
            var settings = RQWorkerConfiguration(queues: [queueName], burst: true)
            settings.jobMonitoringInterval = .milliseconds(300)
            let worker = RQWorker(redis: redis, handlers: .builtIns, configuration: settings, logger: TestEnvironment.logger)
            let run = Task { try await worker.run() }
            try await waitUntil(.seconds(5), "the job to start") { try await store.fetchJob(job.id)?.status == .started }
            let first = try #require(try await store.fetchJob(job.id)?.lastHeartbeat)
            try await waitUntil(.seconds(5), "a busy heartbeat") {
                (try await store.fetchJob(job.id)?.lastHeartbeat ?? first) > first
            }
            let members = try await redis.send("ZRANGE", RedisArgument("rq:wip:\(queueName)"), "0", "-1", "WITHSCORES").array ?? []
            #expect(members.count == 2)
            #expect((members.last?.int ?? 0) >= Int(Date().timeIntervalSince1970) + 60)
            try await run.value
            #expect(try await store.fetchJob(job.id)?.status == .finished)
            #expect(try await store.count(.started, queue: queueName) == 0)
        }
    }
}
