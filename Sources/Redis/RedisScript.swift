import Crypto
import Synchronization

/// A Lua script sent by its SHA-1 (`EVALSHA`), so the body crosses the wire and is hashed by the
/// server once per server rather than once per call.
///
/// A server that does not know the script (first use, restart, `SCRIPT FLUSH`) answers `NOSCRIPT`;
/// the connection then sends that command once more as `EVAL` with the full body, right after the
/// batch it came in, and returns that reply in its place. So a pipeline of independent script
/// calls behaves as with `EVAL`; do not put an `EVALSHA` inside `MULTI`, where the fallback cannot
/// apply.
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// The lowercase hex SHA-1 of ``source``, as Redis names it.
    public let sha1: String

    /// A script with this source (registered so connections can fall back to `EVAL`).
    public init(_ source: String) {
        self.source = source
        let hex = Array("0123456789abcdef".utf8)
        var digits: [UInt8] = []
        for byte in Insecure.SHA1.hash(data: Array(source.utf8)) {
            digits.append(hex[Int(byte >> 4)])
            digits.append(hex[Int(byte & 0x0f)])
        }
        sha1 = String(decoding: digits, as: UTF8.self)
        Self.known.withLock { $0[sha1] = source }
    }

    /// `EVALSHA sha numkeys keys… arguments…`.
    public func command(keys: [RedisArgument], arguments: [RedisArgument]) -> RedisCommand {
        var command: RedisCommand = ["EVALSHA", RedisArgument(sha1), RedisArgument(keys.count)]
        command.reserveCapacity(3 + keys.count + arguments.count)
        command += keys
        command += arguments
        return command
    }

    /// Every script made in this process, by SHA-1.
    private static let known = Mutex<[String: String]>([:])

    /// `command` as `EVAL` with the full body, when it is an `EVALSHA` of a known script.
    static func evalFallback(for command: RedisCommand) -> RedisCommand? {
        guard command.count >= 3, command[0].bytes == Array("EVALSHA".utf8) else { return nil }
        let sha = String(decoding: command[1].bytes, as: UTF8.self)
        guard let source = known.withLock({ $0[sha] }) else { return nil }
        return ["EVAL", RedisArgument(source)] + command[2...]
    }

    /// Whether `reply` is the server's "unknown script" error.
    static func isUnknownScript(_ reply: RedisReply) -> Bool {
        if case .error(let message) = reply { return message.hasPrefix("NOSCRIPT") }
        return false
    }
}
