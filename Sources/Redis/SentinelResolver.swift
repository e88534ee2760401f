import Logging
import NetworkTransport

/// Asks the Sentinels of a ``RedisSentinelConfiguration`` where the master is
/// (`SENTINEL get-master-addr-by-name`). Blocking; runs on the connection's own thread.
enum SentinelResolver {
    /// The master's address from the first Sentinel that knows it; a Sentinel that cannot be
    /// reached or does not know the name is skipped. Throws a retryable `connectionFailed` naming
    /// each Sentinel's failure when none answered.
    static func masterAddress(
        _ sentinel: RedisSentinelConfiguration, configuration: RedisConfiguration, topology: RedisTopology, logger: Logger
    ) throws(RedisClientError) -> TransportAddress {
        var failures: [String] = []
        for address in topology.sentinels {
            do {
                let link = try RedisLinkOpener.open(
                    address, tls: sentinel.usesTLS ? configuration.tls : nil, serverName: nil, configuration: configuration, generation: 0)
                link.setTimeout(configuration.connectTimeout)
                var commands: [RedisCommand] = []
                if let password = sentinel.password {
                    commands.append(sentinel.username.map { ["AUTH", RedisArgument($0), RedisArgument(password)] } ?? ["AUTH", RedisArgument(password)])
                }
                commands.append(["SENTINEL", "get-master-addr-by-name", RedisArgument(sentinel.masterName)])
                for command in commands { try link.append(command) }
                try link.flush()
                var replies: [RedisReply] = []
                for _ in commands { replies.append(try link.readReply(timeout: configuration.connectTimeout)) }
                if commands.count == 2, case .error(let message) = replies[0] {
                    failures.append("\(address): AUTH rejected: \(message)")
                    continue
                }
                let answer = replies[replies.count - 1]
                if let parts = answer.array, parts.count == 2, let host = parts[0].string, let port = parts[1].string.flatMap({ Int($0) }) {
                    topology.answered(address)
                    logger.debug("sentinel named the master", metadata: ["redis.sentinel": "\(address)", "redis.master": "\(host):\(port)"])
                    return .tcp(host: host, port: port)
                }
                switch answer {
                case .error(let message):
                    failures.append("\(address): \(message)")
                default:
                    failures.append("\(address): does not know a master named '\(sentinel.masterName)'")
                }
            } catch {
                failures.append(error.message)
            }
        }
        throw RedisClientError(
            .connectionFailed, "no Sentinel named the master '\(sentinel.masterName)' (\(failures.joined(separator: "; ")))")
    }
}
