import Foundation
import NativeQueue
import Pickle
import Redis
import Testing
import TestSupport

@Suite("Native queue: reliable fetch, retries, dead letters, reaper", .timeLimit(.minutes(1)))
struct NativeQueueTests {
    private func client(_ redis: RedisClient) -> NativeQueueClient {
        NativeQueueClient(redis: redis, keys: NativeQueueKeys(queue: "test-native-" + UUID().uuidString.prefix(8).lowercased()))
    }

    @Test func enqueueDequeueComplete() async throws {
        try await withTestRedis { redis in
            let queue = client(redis)
            let id = try await queue.enqueue(function: "resume_processor.jobs.echo", args: ["a", 1], kwargs: [PythonDictEntry("k", true)])
            let connection = try await redis.makeDedicatedConnection()
            defer { connection.close() }
            let job = try #require(try await queue.dequeue(worker: "w1", on: connection, timeout: .seconds(1)))
            #expect(job.id == id && job.function == "resume_processor.jobs.echo" && job.args == ["a", 1] && job.status == .started)
            #expect(job.attempts == 1 && job.worker == "w1")
            // Reliable fetch: the id sits in the worker's processing list until completion.
            #expect(try await redis.send("LRANGE", RedisArgument(queue.keys.processing("w1")), "0", "-1") == .array([.bulk(Array(id.utf8))]))
            try await queue.complete(job, worker: "w1", result: .dict([PythonDictEntry("ok", true)]))
            let done = try #require(try await queue.job(id))
            #expect(done.status == .finished && done.result == .dict([PythonDictEntry("ok", true)]) && done.endedAt != nil)
            #expect(try await redis.send("LLEN", RedisArgument(queue.keys.processing("w1"))).int == 0)
            #expect(try await queue.dequeue(worker: "w1", on: connection, timeout: .milliseconds(100)) == nil)
        }
    }

    @Test func retriesThenDeadLetterThenRequeue() async throws {
        try await withTestRedis { redis in
            let queue = client(redis)
            let id = try await queue.enqueue(function: "f", maxAttempts: 2)
            let connection = try await redis.makeDedicatedConnection()
            defer { connection.close() }
            var job = try #require(try await queue.dequeue(worker: "w1", on: connection, timeout: .seconds(1)))
            // One fixed clock for the failure and the promotions: the backoff (0.5–1 s for the first
            // attempt) is measured from it, not from however long a loaded machine took in between.
            let failedAt = Date()
            #expect(try await queue.fail(job, worker: "w1", error: "TimeoutError: slow", now: failedAt) == true)
            #expect(try await queue.job(id)?.status == .retrying)
            #expect(try await queue.promoteDue(now: failedAt) == 0)  // backoff not over yet
            #expect(try await queue.promoteDue(now: failedAt.addingTimeInterval(3)) == 1)
            job = try #require(try await queue.dequeue(worker: "w1", on: connection, timeout: .seconds(1)))
            #expect(job.attempts == 2)
            #expect(try await queue.fail(job, worker: "w1", error: "TimeoutError: slow again") == false)
            let dead = try #require(try await queue.job(id))
            #expect(dead.status == .failed && dead.error == "TimeoutError: slow again")
            #expect(try await queue.deadLetters() == [id])
            #expect(try await queue.requeueDeadLetters() == 1)
            #expect(try await queue.queuedIDs() == [id])
            #expect(try await queue.job(id)?.attempts == 0)
        }
    }

    @Test func permanentErrorsSkipRetries() async throws {
        try await withTestRedis { redis in
            let queue = client(redis)
            let id = try await queue.enqueue(function: "f", maxAttempts: 5)
            let connection = try await redis.makeDedicatedConnection()
            defer { connection.close() }
            let job = try #require(try await queue.dequeue(worker: "w1", on: connection, timeout: .seconds(1)))
            #expect(try await queue.fail(job, worker: "w1", error: "ValueError: unreadable file", retry: false) == false)
            #expect(try await queue.deadLetters() == [id])
        }
    }

    @Test func reaperReturnsJobsOfDeadWorkersOnly() async throws {
        try await withTestRedis { redis in
            let queue = client(redis)
            let lost = try await queue.enqueue(function: "f")
            let kept = try await queue.enqueue(function: "g")
            let connection = try await redis.makeDedicatedConnection()
            defer { connection.close() }
            try await queue.heartbeat(worker: "dead", ttl: .milliseconds(50))
            try await queue.heartbeat(worker: "alive", ttl: .seconds(30))
            _ = try #require(try await queue.dequeue(worker: "dead", on: connection, timeout: .seconds(1)))
            _ = try #require(try await queue.dequeue(worker: "alive", on: connection, timeout: .seconds(1)))
            try await waitUntil(.seconds(5), "the dead worker's heartbeat to expire") {
                try await redis.send("EXISTS", RedisArgument(queue.keys.heartbeat("dead"))).int == 0
            }
            #expect(try await queue.reapDeadWorkers() == [lost])
            #expect(try await queue.queuedIDs() == [lost])
            #expect(try await queue.job(lost)?.status == .queued)
            #expect(try await redis.send("LRANGE", RedisArgument(queue.keys.processing("alive")), "0", "-1") == .array([.bulk(Array(kept.utf8))]))
            #expect(try await redis.send("SMEMBERS", RedisArgument(queue.keys.workers)) == .array([.bulk(Array("alive".utf8))]))
        }
    }

    @Test func aWorkerNeverReapsItselfEvenWithAnExpiredHeartbeat() async throws {
        try await withTestRedis { redis in
            let queue = client(redis)
            let running = try await queue.enqueue(function: "f")
            let connection = try await redis.makeDedicatedConnection()
            defer { connection.close() }
            // A worker starved of CPU longer than its heartbeat TTL is still alive when it reaps.
            try await queue.heartbeat(worker: "starved", ttl: .milliseconds(50))
            _ = try #require(try await queue.dequeue(worker: "starved", on: connection, timeout: .seconds(1)))
            try await waitUntil(.seconds(5), "the heartbeat to expire") {
                try await redis.send("EXISTS", RedisArgument(queue.keys.heartbeat("starved"))).int == 0
            }
            #expect(try await queue.reapDeadWorkers(excluding: "starved") == [])
            #expect(try await queue.queuedIDs().isEmpty)
            #expect(try await redis.send("LRANGE", RedisArgument(queue.keys.processing("starved")), "0", "-1") == .array([.bulk(Array(running.utf8))]))
            // Another worker's reaper does take it back.
            #expect(try await queue.reapDeadWorkers(excluding: "other") == [running])
        }
    }

    @Test func missingHashIsSkipped() async throws {
        try await withTestRedis { redis in
            let queue = client(redis)
            let id = try await queue.enqueue(function: "f")
            try await redis.send("DEL", RedisArgument(queue.keys.job(id)))
            let connection = try await redis.makeDedicatedConnection()
            defer { connection.close() }
            #expect(try await queue.dequeue(worker: "w1", on: connection, timeout: .seconds(1)) == nil)
            #expect(try await redis.send("LLEN", RedisArgument(queue.keys.processing("w1"))).int == 0)
            #expect(try await redis.send("EXISTS", RedisArgument(queue.keys.job(id))).int == 0)
        }
    }

    @Test func backoffGrowsAndIsCapped() {
        let first = NativeQueueClient.backoff(attempt: 1)
        #expect(first >= .milliseconds(500) && first <= .seconds(1))
        let fifth = NativeQueueClient.backoff(attempt: 5)
        #expect(fifth >= .seconds(8) && fifth <= .seconds(16))
        #expect(NativeQueueClient.backoff(attempt: 40) <= .seconds(300))
    }
}
