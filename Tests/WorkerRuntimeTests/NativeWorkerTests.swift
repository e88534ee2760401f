import Foundation
import NativeQueue
import Pickle
import Redis
import ServiceLifecycle
import Testing
import TestSupport
import JobProcessing
import WorkerRuntime

@Suite("Native worker against a real Redis", .timeLimit(.minutes(1)))
struct NativeWorkerTests {
    private func queue(_ redis: RedisClient) -> NativeQueueClient {
        NativeQueueClient(redis: redis, keys: NativeQueueKeys(queue: "test-worker-" + UUID().uuidString.prefix(8).lowercased()))
    }

    /// `timeout` is a hang guard for jobs that should finish at once: a stalled test machine must not
    /// turn them into timeouts (four 10 s timeouts were seen once in the parallel pass).
    private func configuration(burst: Bool = true, timeout: Duration = .seconds(60)) -> NativeWorkerConfiguration {
        NativeWorkerConfiguration(concurrency: 4, jobTimeout: timeout, shutdownGrace: .seconds(2),
                                  maintenanceInterval: .milliseconds(200), heartbeatTTL: .seconds(2),
                                  fetchTimeout: .milliseconds(200), burst: burst)
    }

    @Test func burstRunsEveryJobAndRecordsOutcomes() async throws {
        try await withTestRedis { redis in
            let queue = queue(redis)
            var ids: [String] = []
            for index in 0..<20 {
                ids.append(try await queue.enqueue(function: "resume_processor.jobs.echo", args: [.int(index)]))
            }
            let failing = try await queue.enqueue(function: "resume_processor.jobs.fail", args: ["boom"], maxAttempts: 1)
            let unknown = try await queue.enqueue(function: "no.such.function", maxAttempts: 3)
            let worker = NativeWorker(redis: redis, queue: queue, handlers: .builtIns, configuration: configuration(), logger: TestEnvironment.logger)
            try await withTimeout(.seconds(20), "the burst worker") { try await worker.run() }
            for (index, id) in ids.enumerated() {
                let job = try #require(try await queue.job(id))
                #expect(job.status == .finished)
                #expect(job.result.map(PythonRepr.repr) == "{'args': [\(index)], 'kwargs': {}}")
            }
            #expect(try await queue.job(failing)?.error == "ValueError: boom")
            let unknownJob = try #require(try await queue.job(unknown))
            #expect(unknownJob.status == .failed && unknownJob.attempts == 1)  // permanent: no retries
            #expect(unknownJob.error?.contains("no handler is registered for 'no.such.function'") == true)
            #expect(Set(try await queue.deadLetters()) == [failing, unknown])
            #expect(worker.statistics == WorkerStatistics(finished: 20, retried: 0, failed: 2))
            #expect(try await redis.send("SCARD", RedisArgument(queue.keys.workers)).int == 0)  // retired
        }
    }

    @Test func timeoutsFailTheJobAndAreRetried() async throws {
        try await withTestRedis { redis in
            let queue = queue(redis)
            let id = try await queue.enqueue(function: "resume_processor.jobs.sleep", args: [30], maxAttempts: 2)
            let worker = NativeWorker(redis: redis, queue: queue, handlers: .builtIns,
                                      configuration: configuration(timeout: .milliseconds(200)), logger: TestEnvironment.logger)
            let task = Task { try await worker.run() }
            // 0.2 s, a backoff of at most 1 s, 0.2 s: under 2 s alone; the bound is a hang guard,
            // wide enough for the parallel pass on two cores (10 s was missed there once).
            try await waitUntil(.seconds(30), "the job to time out twice and be dead-lettered") {
                try await queue.job(id)?.status == .failed
            }
            task.cancel()
            _ = await task.result
            let job = try #require(try await queue.job(id))
            #expect(job.attempts == 2 && job.error?.hasPrefix("JobTimeoutException") == true)
        }
    }

    @Test func gracefulShutdownLetsRunningJobsFinish() async throws {
        try await withTestRedis { redis in
            let queue = queue(redis)
            let id = try await queue.enqueue(function: "resume_processor.jobs.sleep", args: [.float(0.5)])
            let worker = NativeWorker(redis: redis, queue: queue, handlers: .builtIns, configuration: configuration(burst: false), logger: TestEnvironment.logger)
            let group = ServiceGroup(services: [worker], gracefulShutdownSignals: [], logger: TestEnvironment.logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await waitUntil(.seconds(30), "the job to start") { try await queue.job(id)?.status == .started }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(try await queue.job(id)?.status == .finished)
            #expect(try await queue.queuedIDs().isEmpty)
        }
    }
}
