import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Redis
import Testing
import TestSupport

/// The client over TLS against real `redis-server --tls-port` instances that `scripts/topology.sh`
/// starts with certificates made at test time: what works the same as plain TCP, and what each
/// refusal says.
@Suite("Redis over TLS", .timeLimit(.minutes(2)))
struct RedisTLSTests {
    private func client(_ url: String, budget: Duration = .seconds(2)) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: url)
        configuration.reconnectBudget = budget
        return RedisClient(configuration: configuration, logger: TestEnvironment.logger)
    }

    private func port(_ name: String) throws -> String { try TestEnvironment.topology(name) }
    private func ca() throws -> String { try TestEnvironment.topology("TOPO_TLS_CA_CERT") }

    /// The failure of one PING through `url`, which must fail.
    private func failure(_ url: String) async throws -> RedisClientError {
        let redis = try client(url)
        defer { Task { await redis.shutdown() } }
        do {
            try await redis.send("PING")
        } catch let error as RedisClientError {
            return error
        }
        Issue.record("PING through \(url) succeeded")
        return RedisClientError(.protocolError, "no error")
    }

    @Test func commandsPipelinesTransactionsBlockingPopsAndPubSubWorkOverTLS() async throws {
        let redis = try client(try TestEnvironment.topology("TOPO_TLS_URL"))
        let key = uniqueKey()
        try await redis.send("SET", RedisArgument(key), RedisArgument(bytes: [0, 1, 2, 255]))
        #expect(try await redis.send("GET", RedisArgument(key)).bytes == [0, 1, 2, 255])
        // A value larger than one TLS record (16 KB) and than the reader's buffer.
        let big = [UInt8](repeating: 42, count: 300_000)
        try await redis.send(["SET", RedisArgument(key), RedisArgument(bytes: big)])
        #expect(try await redis.send("GET", RedisArgument(key)).bytes == big)
        let replies = try await redis.pipeline((0..<500).map { _ in ["INCR", RedisArgument(key + ":n")] as RedisCommand })
        #expect(replies.last?.int == 500)
        let exec = try await redis.transaction([["INCR", RedisArgument(key + ":n")], ["GET", RedisArgument(key + ":n")]])
        #expect(exec?.last?.string == "501")
        let connection = try await redis.makeDedicatedConnection()
        let popped = try await connection.sendBlocking(
            ["BLMOVE", RedisArgument(key + ":empty"), RedisArgument(key + ":dst"), "LEFT", "RIGHT", "0.2"], timeout: .milliseconds(200))
        #expect(popped.isNull)
        // Cancelling a blocked pop works over TLS as over TCP: the socket is shut down.
        let blocked = Task { try await connection.sendBlocking(["BLPOP", RedisArgument(key + ":never"), "0"], timeout: .zero) }
        try await Task.sleep(for: .milliseconds(100))
        blocked.cancel()
        await #expect(throws: CancellationError.self) { try await blocked.value }
        #expect(try await connection.send("PING") == .status("PONG"))
        // The server kills the connection: the next command reconnects (a new TLS handshake).
        let id = try #require(try await connection.send("CLIENT", "ID").int)
        try await redis.send("CLIENT", "KILL", "ID", RedisArgument(id))
        #expect(try await connection.send("CLIENT", "ID").int != id)
        connection.close()
        let channel = uniqueKey("channel")
        let message = try await redis.subscribe(to: [channel]) { messages in
            try await redis.send("PUBLISH", RedisArgument(channel), "over tls")
            return try await withTimeout(.seconds(5), "a pub/sub message over TLS") {
                var iterator = messages.makeAsyncIterator()
                return try await iterator.next()
            }
        }
        #expect(message?.text == "over tls")
        try await redis.send("DEL", RedisArgument(key), RedisArgument(key + ":n"))
        await redis.shutdown()
    }

    @Test func anUnknownCAIsNamedAndNotRetried() async throws {
        let other = try TestEnvironment.topology("TOPO_TLS_OTHER_CA_CERT")
        let error = try await failure("rediss://user:hunter2secret@localhost:\(try port("TOPO_TLS_PORT"))/0?ssl_ca_certs=\(other)")
        #expect(error.code == .connectionFailed)
        #expect(error.message.contains("unknown CA"), "\(error.message)")
        #expect(!error.message.contains("hunter2secret"))
        // Without ssl_ca_certs the system's trust store is used, which does not know the test CA.
        let system = try await failure("rediss://localhost:\(try port("TOPO_TLS_PORT"))/0")
        #expect(system.message.contains("unknown CA"), "\(system.message)")
    }

    @Test func aCertificateForAnotherNameIsRefusedUnlessNameChecksAreOff() async throws {
        let url = "rediss://localhost:\(try port("TOPO_WRONGNAME_PORT"))/0?ssl_ca_certs=\(try ca())"
        let error = try await failure(url)
        #expect(error.message.contains("does not name 'localhost'"), "\(error.message)")
        let relaxed = try client(url + "&ssl_check_hostname=false")
        #expect(try await relaxed.send("PING") == .status("PONG"))
        await relaxed.shutdown()
        // ssl_cert_reqs=none: no chain and no name check at all (encrypted, not authenticated).
        let unchecked = try client("rediss://localhost:\(try port("TOPO_WRONGNAME_PORT"))/0?ssl_cert_reqs=none")
        #expect(try await unchecked.send("PING") == .status("PONG"))
        await unchecked.shutdown()
    }

    @Test func anExpiredCertificateIsNamed() async throws {
        let error = try await failure("rediss://localhost:\(try port("TOPO_EXPIRED_PORT"))/0?ssl_ca_certs=\(try ca())")
        #expect(error.message.contains("expired"), "\(error.message)")
    }

    @Test func anIPAddressIsCheckedAgainstTheCertificatesAddresses() async throws {
        let redis = try client("rediss://127.0.0.1:\(try port("TOPO_TLS_PORT"))/0?ssl_ca_certs=\(try ca())")
        #expect(try await redis.send("PING") == .status("PONG"))
        await redis.shutdown()
    }

    @Test func mutualTLSNeedsTheClientCertificate() async throws {
        let base = "rediss://localhost:\(try port("TOPO_MTLS_PORT"))/0?ssl_ca_certs=\(try ca())"
        let error = try await failure(base)
        #expect(error.message.contains("client certificate"), "\(error.message)")
        let certificate = try TestEnvironment.topology("TOPO_TLS_CLIENT_CERT")
        let key = try TestEnvironment.topology("TOPO_TLS_CLIENT_KEY")
        let redis = try client(base + "&ssl_certfile=\(certificate)&ssl_keyfile=\(key)")
        #expect(try await redis.send("PING") == .status("PONG"))
        await redis.shutdown()
    }

    @Test func tlsToAPlainPortFailsWithinTheConnectTimeout() async throws {
        let plain = try RedisConfiguration(url: try TestEnvironment.redisURL)
        guard case .tcp(_, let plainPort) = plain.endpoint else { throw TestSetupError("TEST_REDIS_URL is not TCP") }
        let error = try await withTimeout(.seconds(20), "TLS against a plain port") {
            try await failure("rediss://localhost:\(plainPort)/0?socket_connect_timeout=1&ssl_ca_certs=\(try ca())")
        }
        #expect(error.message.contains("non-TLS port"), "\(error.message)")
    }

    /// SNI: `openssl s_server` shows a certificate for another name unless the client names
    /// `localhost` in its hello, when it shows one for `localhost`. The handshake (chain and name
    /// checked) passing proves the name was sent; s_server speaks no RESP, so the PING then fails.
    @Test func theServerNameIsSentAsSNI() async throws {
        let directory = try TestEnvironment.topology("TOPO_TLS_DIR")
        let port = try freeLoopbackPort()
        let server = try ChildProcess(
            executable: "openssl",
            arguments: [
                "s_server", "-accept", "127.0.0.1:\(port)", "-quiet",
                "-cert", "\(directory)/wrong.crt", "-key", "\(directory)/wrong.key",
                "-servername", "localhost", "-cert2", "\(directory)/server.crt", "-key2", "\(directory)/server.key",
            ],
            logPath: "/dev/null")
        defer { server.signal(SIGTERM) }
        try await waitUntil(.seconds(10), "openssl s_server on \(port)") { canConnect(port: port) }
        let error = try await failure("rediss://localhost:\(port)/0?ssl_ca_certs=\(try ca())&socket_timeout=0.5")
        #expect(error.message.contains("no reply") || error.message.contains("close_notify"), "\(error.message)")
        #expect(!error.message.contains("does not name") && !error.message.contains("unknown CA"), "\(error.message)")
        // Control: an IP address is never sent as SNI, so s_server shows the other certificate.
        let control = try await failure("rediss://127.0.0.1:\(port)/0?ssl_ca_certs=\(try ca())&socket_timeout=0.5")
        #expect(control.message.contains("does not name '127.0.0.1'"), "\(control.message)")
    }

    @Test func unreadableFilesAreNamed() async throws {
        let error = try await failure("rediss://localhost:\(try port("TOPO_TLS_PORT"))/0?ssl_ca_certs=/nonexistent/ca.pem")
        #expect(error.message.contains("/nonexistent/ca.pem"), "\(error.message)")
        let keyError = try await failure(
            "rediss://localhost:\(try port("TOPO_TLS_PORT"))/0?ssl_ca_certs=\(try ca())&ssl_certfile=\(try ca())&ssl_password=keyphrase42")
        #expect(keyError.message.contains("client key"), "\(keyError.message)")
        #expect(!keyError.message.contains("keyphrase42"))
    }
}
