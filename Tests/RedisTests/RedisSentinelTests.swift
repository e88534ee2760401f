import Foundation
import Redis
import Synchronization
import Testing
import TestSupport

/// The client behind Sentinel (`scripts/topology.sh`: a master, a replica, three Sentinels),
/// through a `SENTINEL FAILOVER` while it writes.
@Suite("Redis through Sentinel", .serialized, .timeLimit(.minutes(3)))
struct RedisSentinelTests {
    @Test func findsTheMasterAndFollowsAFailoverWhileWriting() async throws {
        let group = try SentinelGroup()
        var configuration = try RedisConfiguration(url: try TestEnvironment.topology("TOPO_SENTINEL_URL"))
        configuration.reconnectBudget = .seconds(20)
        let redis = RedisClient(configuration: configuration, logger: TestEnvironment.logger)
        let key = uniqueKey()
        let first = try await group.masterPort()
        #expect(try await redis.send("ROLE").array?.first?.string == "master")
        #expect(try await redis.send("CONFIG", "GET", "port").array?.last?.string == String(first))

        // A writer keeps going through the failover; a write may fail while the master changes
        // (the error is transient), none may land on a replica.
        let stop = Mutex(false)
        let writers = Task {
            var acknowledged = 0
            var transient = 0
            while !stop.withLock({ $0 }) {
                do {
                    try await redis.send("INCR", RedisArgument(key))
                    acknowledged += 1
                } catch let error as RedisClientError where error.isTransient {
                    transient += 1
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            return (acknowledged, transient)
        }
        try await Task.sleep(for: .milliseconds(300))
        let second = try await group.failOver()
        #expect(second != first)
        // The client moves to the new master on its own (the +switch-master announcement, or the
        // old master's kills), pooled and dedicated connections alike.
        try await withTimeout(.seconds(10), "the client reaching the new master") {
            while try await redis.send("CONFIG", "GET", "port").array?.last?.string != String(second) {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        stop.withLock { $0 = true }
        let (acknowledged, transient) = try await writers.value
        #expect(acknowledged > 0, "\(acknowledged) writes went through, \(transient) transient failures")
        #expect(try await redis.send("ROLE").array?.first?.string == "master")
        let dedicated = try await redis.makeDedicatedConnection()
        #expect(try await dedicated.send("CONFIG", "GET", "port").array?.last?.string == String(second))
        dedicated.close()
        // Asynchronous replication may lose the last writes before the switch, never more than
        // were acknowledged.
        let counted = try #require(try await redis.send("GET", RedisArgument(key)).string.flatMap { Int($0) })
        #expect(counted <= acknowledged + transient && counted > 0)
        try await redis.send("DEL", RedisArgument(key))
        await redis.shutdown()
    }

    @Test func anUnknownMasterNameSaysSo() async throws {
        let ports = try TestEnvironment.topology("TOPO_SENTINEL_PORTS")
        var configuration = try RedisConfiguration(url: "redis+sentinel://127.0.0.1:\(ports.split(separator: ",")[0])/nosuchmaster/0")
        configuration.reconnectBudget = .milliseconds(300)
        let redis = RedisClient(configuration: configuration, logger: TestEnvironment.logger)
        await #expect {
            try await redis.send("PING")
        } throws: { error in
            let message = (error as? RedisClientError)?.message ?? ""
            return message.contains("nosuchmaster") && message.contains("does not know")
        }
        await redis.shutdown()
    }
}
