import Foundation
import NativeQueue
import Redis
import TestSupport
import Testing

/// Issue #14, point 3: the reaper returns a dead worker's job once; a job whose worker died a
/// second time while holding it is dead-lettered with the reason, never queued for a third worker.
@Suite("Native reaper: poison jobs")
struct NativeReaperPoisonTests {
    @Test func secondWorkerDeathDeadLettersTheJob() async throws {
        try await withTestRedis { redis in
            let queue = NativeQueueClient(redis: redis, keys: NativeQueueKeys(queue: "poison-\(UUID().uuidString.lowercased())"))
            let id = try await queue.enqueue(function: "f", maxAttempts: 5)
            let connection = try await redis.makeDedicatedConnection()
            defer { connection.close() }
            for (death, worker) in ["first", "second"].enumerated() {
                try await queue.heartbeat(worker: worker, ttl: .seconds(30))
                _ = try #require(try await queue.dequeue(worker: worker, on: connection, timeout: .seconds(1)))
                // The worker is killed: its heartbeat goes (deleted here rather than waited for).
                _ = try await redis.send("DEL", RedisArgument(queue.keys.heartbeat(worker)))
                let returned = try await queue.reapDeadWorkers(excluding: "reaper")
                let job = try #require(try await queue.job(id))
                #expect(job.workerDeaths == death + 1)
                if death == 0 {
                    #expect(returned == [id])
                    #expect(job.status == .queued)
                } else {
                    #expect(returned.isEmpty)
                    #expect(job.status == .failed)
                    #expect(job.error == NativeQueueClient.workerDiedTwiceError)
                    #expect(try await queue.deadLetters() == [id])
                    #expect(try await queue.queuedIDs().isEmpty)
                }
                #expect(try await redis.send("LLEN", RedisArgument(queue.keys.processing(worker))).int == 0)
            }
            #expect(try await queue.job(id)?.attempts == 2)
            _ = try await redis.send("DEL", RedisArgument(queue.keys.job(id)), RedisArgument(queue.keys.dead), RedisArgument(queue.keys.workers))
        }
    }

    @Test func retireIsNotADeath() async throws {
        try await withTestRedis { redis in
            let queue = NativeQueueClient(redis: redis, keys: NativeQueueKeys(queue: "poison-\(UUID().uuidString.lowercased())"))
            let id = try await queue.enqueue(function: "f")
            let connection = try await redis.makeDedicatedConnection()
            defer { connection.close() }
            try await queue.heartbeat(worker: "leaving", ttl: .seconds(30))
            _ = try #require(try await queue.dequeue(worker: "leaving", on: connection, timeout: .seconds(1)))
            try await queue.retire(worker: "leaving")
            #expect(try await queue.queuedIDs() == [id])
            #expect(try await queue.job(id)?.workerDeaths == 0)
            _ = try await redis.send("DEL", RedisArgument(queue.keys.job(id)), RedisArgument(queue.keys.queue))
        }
    }
}
