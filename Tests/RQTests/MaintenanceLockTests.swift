import Foundation
import Redis
@testable import RQ
import Testing
import TestSupport

/// The `rq:clean_registries:Q` lock must not outlive a maintenance pass whose connection dropped:
/// left behind, it stops every worker's cleaning, and the rescue of ids stuck in the intermediate
/// list, for its full 899 s (found by the chaos suite's connection-kill scenario).
@Suite("RQ maintenance lock", .timeLimit(.minutes(1)))
struct MaintenanceLockTests {
    struct BodyFailed: Error {}

    @Test func lockIsReleasedWhenTheConnectionDropsUnderTheBody() async throws {
        try await withTestRedis(maximumConnections: 1) { redis in
            let store = RQStore(redis: redis)
            let queue = "swift-" + UUID().uuidString.prefix(8).lowercased()
            let lock = RedisArgument(store.keys.cleanRegistries(queue))
            await #expect(throws: BodyFailed.self) {
                _ = try await store.withMaintenanceLock(queue: queue) { () async throws -> Void in
                    let held = try await redis.send("EXISTS", lock).int
                    #expect(held == 1)
                    // Kill this very connection, as `CLIENT KILL` in the chaos suite does.
                    let id = try await redis.send("CLIENT", "ID").int ?? 0
                    _ = try? await redis.send("CLIENT", "KILL", "ID", RedisArgument(String(id)), "SKIPME", "no")
                    throw BodyFailed()
                }
            }
            let remaining = try await redis.send("EXISTS", lock).int
            #expect(remaining == 0)
        }
    }

    /// The release is retried: here the worker's user may not `DEL` for 300 ms after its pass
    /// failed (a deterministic stand-in for the connection kills of the chaos suite, under which
    /// a single `DEL` attempt could fail and leave the lock for 899 s).
    @Test func lockReleaseIsRetriedUntilRedisTakesIt() async throws {
        try await withTestRedis { admin in
            let user = "mlock-" + UUID().uuidString.prefix(8).lowercased()
            _ = try await admin.send("ACL", "SETUSER", RedisArgument(user), "on", RedisArgument(">pw-\(user)"), "~*", "&*", "+@all")
            var configuration = try RedisConfiguration(url: try TestEnvironment.redisURL)
            configuration.username = user
            configuration.password = "pw-\(user)"
            configuration.maximumConnections = 1
            let client = RedisClient(configuration: configuration, logger: TestEnvironment.logger)
            let store = RQStore(redis: client)
            let queue = "swift-" + UUID().uuidString.prefix(8).lowercased()
            let lock = RedisArgument(store.keys.cleanRegistries(queue))
            let started = ContinuousClock.now
            async let allowedAgain: Void = {
                try await Task.sleep(for: .milliseconds(300))
                _ = try await admin.send("ACL", "SETUSER", RedisArgument(user), "+del")
            }()
            await #expect(throws: BodyFailed.self) {
                _ = try await store.withMaintenanceLock(queue: queue) { () async throws -> Void in
                    _ = try await admin.send("ACL", "SETUSER", RedisArgument(user), "-del")
                    throw BodyFailed()
                }
            }
            try await allowedAgain
            let remaining = try await admin.send("EXISTS", lock).int
            #expect(remaining == 0)
            #expect(ContinuousClock.now - started >= .milliseconds(250), "the lock was deleted while DEL was refused?")
            await client.shutdown()
            _ = try await admin.send("ACL", "DELUSER", RedisArgument(user))
        }
    }

    @Test func lockIsReleasedAfterASuccessfulPassAndHeldMeanwhile() async throws {
        try await withTestRedis { redis in
            let store = RQStore(redis: redis)
            let queue = "swift-" + UUID().uuidString.prefix(8).lowercased()
            let lock = RedisArgument(store.keys.cleanRegistries(queue))
            let ran = try await store.withMaintenanceLock(queue: queue) { () async throws -> Int in
                // A second pass meanwhile (another worker) does not run.
                let second = try await store.withMaintenanceLock(queue: queue) { true }
                #expect(second == nil)
                return try await redis.send("TTL", lock).int ?? 0
            }
            #expect((890...899).contains(ran ?? 0))
            #expect(try await redis.send("EXISTS", lock).int == 0)
        }
    }
}
