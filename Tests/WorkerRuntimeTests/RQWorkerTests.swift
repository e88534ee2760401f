import Foundation
import Pickle
import Redis
import RQ
import Testing
import TestSupport
import JobProcessing
import WorkerRuntime

@Suite("RQ worker against a real Redis", .timeLimit(.minutes(1)))
struct RQWorkerTests {
    @Test func busyHeartbeatsKeepALongJobAlive() async throws {
        try await withTestRedis { redis in
            let queueName = "swift-hb-" + UUID().uuidString.prefix(8).lowercased()
            let store = RQStore(redis: redis)
            let job = try await store.queue(queueName).enqueue(RQCall("resume_processor.jobs.sleep", args: [.float(1.5)]))
            var settings = RQWorkerConfiguration(queues: [queueName], burst: true)
            settings.processor.jobMonitoringInterval = .milliseconds(300)
            let worker = RQWorker(redis: redis, handlers: .builtIns, configuration: settings, logger: TestEnvironment.logger)
            let run = Task { try await worker.run() }
            // Generous waits: conditions, not timings (the suite runs many tests in parallel on two cores).
            try await waitUntil(.seconds(20), "the job to start") { try await store.fetchJob(job.id)?.status == .started }
            let first = try #require(try await store.fetchJob(job.id)?.lastHeartbeat)
            try await waitUntil(.seconds(20), "a busy heartbeat") {
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

    @Test func survivesARedisRestartAndRegistersAgain() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.reconnectBudget = .seconds(2)
        let redis = RedisClient(configuration: configuration, logger: TestEnvironment.logger)
        let queueName = "swift-restart-" + UUID().uuidString.prefix(8).lowercased()
        let store = RQStore(redis: redis)
        var settings = RQWorkerConfiguration(name: "restart-" + UUID().uuidString.prefix(8).lowercased(), queues: [queueName],
                                             dequeueTimeout: .seconds(1), concurrency: 2)
        settings.processor.heartbeatInterval = .milliseconds(200)
        let worker = RQWorker(redis: redis, handlers: .builtIns, configuration: settings, logger: TestEnvironment.logger)
        let run = Task { try await worker.run() }
        let first = try await store.queue(queueName).enqueue(RQCall("resume_processor.jobs.echo", args: [.int(1)]))
        try await waitUntil(.seconds(10), "the first job to finish") { try await store.fetchJob(first.id)?.status == .finished }

        // Redis goes away for a while (longer than the reconnect budget) and comes back empty.
        try await server.stop()
        try await Task.sleep(for: .seconds(3))
        try await server.start()

        let second = try await store.queue(queueName).enqueue(RQCall("resume_processor.jobs.echo", args: [.int(2)]))
        try await waitUntil(.seconds(20), "the second job to finish after the restart") {
            try await store.fetchJob(second.id)?.status == .finished
        }
        let key = RedisArgument("rq:worker:\(settings.driver.name)")
        try await waitUntil(.seconds(5), "the worker to register again") {
            try await redis.send("SISMEMBER", "rq:workers", key).int == 1
        }
        #expect(try await redis.send("HGET", key, "birth").string != nil)
        // The counters follow the recorded end, a moment after Redis shows it.
        try await waitUntil(.seconds(5), "both jobs to be counted") { worker.statistics.finished == 2 }
        run.cancel()
        try? await run.value
        await redis.shutdown()
        try await server.stop()
    }
}
