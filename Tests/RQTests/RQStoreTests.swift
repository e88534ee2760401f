import Foundation
import Pickle
import Redis
import RQ
import Testing
import TestSupport

@Suite("RQ enqueue and administration against a real Redis", .timeLimit(.minutes(2)))
struct RQStoreTests {
    private func queueName() -> String { "swift-" + UUID().uuidString.prefix(8).lowercased() }

    @Test func enqueueThenFetchRoundTrips() async throws {
        try await withTestRedis { redis in
            let store = RQStore(redis: redis)
            let name = queueName()
            let call = RQCall("resume_processor.jobs.echo", args: ["a", 2, .float(0.5), .bytes([0, 1])], kwargs: [("k", .tuple([1, 2]))])
            let job = try await store.queue(name).enqueue(call, options: RQEnqueueOptions(
                resultTTL: 60, meta: [PythonDictEntry("source", "test")], retry: RQRetry(maximum: 2, intervals: [5])))
            let fetched = try #require(try await store.fetchJob(job.id))
            #expect(fetched.call == call)
            #expect(fetched.status == .queued && fetched.origin == name && fetched.timeout == 180 && fetched.resultTTL == 60)
            #expect(fetched.retriesLeft == 2 && fetched.retryIntervals == [5])
            #expect(fetched.metaDictionary["source"] == "test")
            #expect(fetched.description == "resume_processor.jobs.echo('a', 2, 0.5, b'\\x00\\x01', k=(1, 2))")
            #expect(try await store.queue(name).jobIDs() == [job.id])
            #expect(try await store.queueNames().contains(name))
            #expect(try await store.fetchJob("missing-\(UUID().uuidString)") == nil)
        }
    }

    @Test func enqueueManyUsesOneTransactionInOrder() async throws {
        try await withTestRedis { redis in
            let queue = RQStore(redis: redis).queue(queueName())
            let jobs = try await queue.enqueueMany((0..<50).map { (RQCall("f", args: [.int($0)]), RQEnqueueOptions()) })
            #expect(try await queue.jobIDs() == jobs.map(\.id))
            #expect(try await queue.count() == 50)
        }
    }

    @Test func atFrontScheduledAndDeferred() async throws {
        try await withTestRedis { redis in
            let store = RQStore(redis: redis)
            let name = queueName()
            let queue = store.queue(name)
            let first = try await queue.enqueue(RQCall("f"))
            let front = try await queue.enqueue(RQCall("f"), options: RQEnqueueOptions(atFront: true))
            #expect(try await queue.jobIDs() == [front.id, first.id])
            let later = try await queue.enqueue(RQCall("f"), options: RQEnqueueOptions(scheduledAt: Date().addingTimeInterval(600)))
            #expect(try await store.jobIDs(.scheduled, queue: name) == [later.id])
            #expect(try await store.fetchJob(later.id)?.status == .scheduled)
            let child = try await queue.enqueue(RQCall("f"), options: RQEnqueueOptions(dependsOn: [first.id]))
            #expect(child.status == .deferred)
            #expect(try await store.jobIDs(.deferred, queue: name) == [child.id])
            let dependents = try await redis.send("SMEMBERS", RedisArgument("rq:job:\(first.id):dependents"))
            #expect(dependents.array?.compactMap(\.string) == [child.id])
            // A parent that finished does not defer its child.
            try await redis.send("HSET", RedisArgument("rq:job:\(front.id)"), "status", "finished")
            let free = try await queue.enqueue(RQCall("f"), options: RQEnqueueOptions(dependsOn: [front.id]))
            #expect(free.status == .queued)
            #expect(try await queue.jobIDs().last == free.id)
        }
    }

    @Test func refusesWhatRQRefuses() async throws {
        try await withTestRedis { redis in
            let queue = RQStore(redis: redis).queue(queueName())
            await #expect { try await queue.enqueue(RQCall("f"), options: RQEnqueueOptions(jobID: "a:b")) } throws: {
                ($0 as? RQError)?.code == .invalidJobID
            }
            await #expect { try await queue.enqueue(RQCall("f"), options: RQEnqueueOptions(ttl: 0)) } throws: {
                ($0 as? RQError)?.code == .invalidArgument
            }
            let jsonQueue = RQStore(redis: redis, serializer: .json).queue(queueName())
            await #expect { try await jsonQueue.enqueue(RQCall("f", args: [.bytes([1])])) } throws: {
                ($0 as? RQError)?.code == .serialization
            }
        }
    }

    @Test func requeueCancelAndDelete() async throws {
        try await withTestRedis { redis in
            let store = RQStore(redis: redis)
            let name = queueName()
            let queue = store.queue(name)
            let job = try await queue.enqueue(RQCall("f"))
            // Simulate a worker's failure bookkeeping.
            _ = try await redis.send("LREM", RedisArgument(queue.key), "0", RedisArgument(job.id))
            _ = try await redis.send("HSET", RedisArgument("rq:job:\(job.id)"), "status", "failed", "ended_at", "2026-01-01T00:00:00.000000Z")
            _ = try await redis.send("ZADD", RedisArgument("rq:failed:\(name)"), "9999999999", RedisArgument(job.id))
            #expect(try await store.count(.failed, queue: name) == 1)
            #expect(try await store.requeueAllFailed(queue: name) == 1)
            let requeued = try #require(try await store.fetchJob(job.id))
            #expect(requeued.status == .queued && requeued.endedAt == nil)
            #expect(try await queue.jobIDs() == [job.id])
            #expect(try await store.count(.failed, queue: name) == 0)

            try await store.cancel(job.id)
            #expect(try await store.fetchJob(job.id)?.status == .canceled)
            #expect(try await queue.count() == 0)
            #expect(try await store.jobIDs(.canceled, queue: name) == [job.id])

            try await store.delete(job.id)
            #expect(try await store.fetchJob(job.id) == nil)
            #expect(try await store.count(.canceled, queue: name) == 0)
        }
    }

    @Test func cleanupDropsExpiredEntriesOnly() async throws {
        try await withTestRedis { redis in
            let store = RQStore(redis: redis)
            let name = queueName()
            _ = try await redis.send("ZADD", RedisArgument("rq:finished:\(name)"), "1", "old", "9999999999", "new")
            #expect(try await store.cleanup(.finished, queue: name) == 1)
            #expect(try await store.jobIDs(.finished, queue: name) == ["new"])
            _ = try await redis.send("ZADD", RedisArgument("rq:wip:\(name)"), "1", "job-1:0123abcd")
            #expect(try await store.jobIDs(.started, queue: name) == ["job-1"])
        }
    }

    @Test func resultsWrittenInRQsFormatReadBack() async throws {
        try await withTestRedis { redis in
            let store = RQStore(redis: redis)
            let id = UUID().uuidString.lowercased()
            let fields = try RQResult.streamFields(
                kind: .successful, workerName: "w1", returnValue: .dict([PythonDictEntry("ok", true)]),
                executionID: String(repeating: "a", count: 32), executionStartedAt: Date(), executionEndedAt: Date(), serializer: .pickle)
            var command: RedisCommand = ["XADD", RedisArgument("rq:results:\(id)"), "MAXLEN", "~", "10", "*"]
            for (name, value) in fields { command += [RedisArgument(name), RedisArgument(bytes: value)] }
            try await redis.send(command)
            let failure = try RQResult.streamFields(kind: .failed, workerName: "w1", exceptionText: "Traceback…\nValueError: x", serializer: .pickle)
            command = ["XADD", RedisArgument("rq:results:\(id)"), "MAXLEN", "~", "10", "*"]
            for (name, value) in failure { command += [RedisArgument(name), RedisArgument(bytes: value)] }
            try await redis.send(command)
            let latest = try #require(try await store.latestResult(id))
            #expect(latest.kind == .failed && latest.exceptionText == "Traceback…\nValueError: x" && latest.returnValue == nil)
            let all = try await store.results(id)
            #expect(all.count == 2)
            #expect(all[1].returnValue == .dict([PythonDictEntry("ok", true)]))
            #expect(abs(all[1].createdAt.timeIntervalSinceNow) < 60)
        }
    }
}

@Suite("RQ abandoned-job cleanup", .timeLimit(.minutes(1)))
struct RQAbandonedCleanupTests {
    @Test func expiredExecutionsAreFailedOrRetried() async throws {
        try await withTestRedis { redis in
            let store = RQStore(redis: redis)
            let name = "swift-" + UUID().uuidString.prefix(8).lowercased()
            let queue = store.queue(name)
            let doomed = try await queue.enqueue(RQCall("f"))
            let retried = try await queue.enqueue(RQCall("f"), options: RQEnqueueOptions(retry: RQRetry(maximum: 1)))
            let alive = try await queue.enqueue(RQCall("f"))
            for (job, score) in [(doomed, 1), (retried, 1), (alive, 9_999_999_999)] {
                try await redis.send("LREM", RedisArgument(queue.key), "0", RedisArgument(job.id))
                try await redis.send("HSET", RedisArgument("rq:job:\(job.id)"), "status", "started")
                try await redis.send("ZADD", RedisArgument("rq:wip:\(name)"), RedisArgument(score), RedisArgument("\(job.id):e1"))
            }
            let outcome = try await store.cleanupStarted(queue: name)
            #expect(outcome.failed == [doomed.id] && outcome.retried == [retried.id])
            #expect(try await store.fetchJob(doomed.id)?.status == .failed)
            #expect(try await store.jobIDs(.failed, queue: name) == [doomed.id])
            let result = try #require(try await store.latestResult(doomed.id))
            #expect(result.kind == .failed && result.workerName == "" && result.exceptionText?.contains("AbandonedJobError") == true)
            #expect(try await store.fetchJob(retried.id)?.retriesLeft == 0)
            #expect(try await queue.jobIDs() == [retried.id])
            #expect(try await store.jobIDs(.started, queue: name) == [alive.id])
        }
    }
}
