import Foundation
import Logging
import Redis

/// Drives the Sentinel group of `scripts/topology.sh` (`TOPO_SENTINEL_PORTS`, master
/// `TOPO_SENTINEL_MASTER`): where the master is, and a `SENTINEL FAILOVER` that waits until the
/// group is able to fail over (a replica in sync; a previous failover's old master rejoined) and
/// until the Sentinels name the new master.
public struct SentinelGroup: Sendable {
    public let ports: [Int]
    public let masterName: String

    public init() throws {
        ports = try TestEnvironment.topology("TOPO_SENTINEL_PORTS").split(separator: ",").compactMap { Int($0) }
        masterName = try TestEnvironment.topology("TOPO_SENTINEL_MASTER")
    }

    private func sentinel(_ port: Int) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(port)/0")
        configuration.reconnectBudget = .seconds(1)
        return RedisClient(configuration: configuration, logger: TestEnvironment.logger)
    }

    /// The master's port as the first Sentinel sees it.
    public func masterPort() async throws -> Int {
        let client = try sentinel(ports[0])
        defer { Task { await client.shutdown() } }
        let reply = try await client.send("SENTINEL", "get-master-addr-by-name", RedisArgument(masterName))
        guard let text = reply.array?.last?.string, let port = Int(text) else { throw TestSetupError("no master: \(reply)") }
        return port
    }

    /// Fails over and returns the new master's port, within `limit`.
    @discardableResult
    public func failOver(within limit: Duration = .seconds(60)) async throws -> Int {
        let client = try sentinel(ports[0])
        defer { Task { await client.shutdown() } }
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        let before = try await masterPort()
        // Every Sentinel must see a healthy replica whose link to the master is up.
        while true {
            let replicas = try await client.send("SENTINEL", "replicas", RedisArgument(masterName)).array ?? []
            let healthy = replicas.contains { entry in
                let fields = entry.array?.compactMap(\.string) ?? []
                let values = Dictionary(stride(from: 0, to: fields.count - 1, by: 2).map { (fields[$0], fields[$0 + 1]) }, uniquingKeysWith: { a, _ in a })
                return values["flags"] == "slave" && values["master-link-status"] == "ok"
            }
            if healthy {
                let reply = try await client.pipeline([["SENTINEL", "FAILOVER", RedisArgument(masterName)]])
                if reply[0].errorMessage == nil { break }
            }
            guard clock.now < deadline else { throw TestSetupError("the Sentinel group never became able to fail over") }
            try await Task.sleep(for: .milliseconds(200))
        }
        while clock.now < deadline {
            let now = try await masterPort()
            if now != before { return now }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("the Sentinels still name the old master after \(limit)")
    }
}
