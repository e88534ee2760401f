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

    /// A write sent with `pipelineReplicated` is on the replica when the call returns (`WAIT 1`),
    /// so a failover right then cannot lose it; a plain pipeline gives no such promise.
    @Test func replicatedWritesAreOnTheReplicaWhenTheyReturn() async throws {
        let group = try SentinelGroup()
        let redis = RedisClient(configuration: try RedisConfiguration(url: try TestEnvironment.topology("TOPO_SENTINEL_URL")),
                                logger: TestEnvironment.logger)
        let master = try await group.masterPort()
        let ports = [try TestEnvironment.topology("TOPO_MASTER_PORT"), try TestEnvironment.topology("TOPO_REPLICA_PORT")].compactMap { Int($0) }
        let replicaPort = try #require(ports.first { $0 != master })
        let replica = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(replicaPort)/0"), logger: TestEnvironment.logger)
        // The replica may still be resyncing after an earlier failover.
        try await withTimeout(.seconds(30), "the replica's link to the master") {
            while try await replica.send("INFO", "replication").string?.contains("master_link_status:up") != true {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let key = uniqueKey()
        for round in 0..<200 {
            let replies = try await redis.withConnection { connection in
                try await connection.pipelineReplicated([["SET", RedisArgument(key), RedisArgument(round)], ["GET", RedisArgument(key)]])
            }
            #expect(replies.count == 2 && replies[1].string == String(round))
            let seen = try await replica.send("GET", RedisArgument(key)).string
            #expect(seen == String(round), "round \(round): the replica had \(seen ?? "nothing")")
            if seen != String(round) { break }
        }
        // Nothing written (the closure says so): no wait, the replies as they are.
        let untouched = try await redis.withConnection { connection in
            try await connection.pipelineReplicated([["GET", RedisArgument(key)]]) { _ in false }
        }
        #expect(untouched.first?.string == "199")
        try await redis.send("DEL", RedisArgument(key))
        await replica.shutdown()
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
