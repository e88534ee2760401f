import Foundation
import Postgres
import Testing
import TestSupport

/// libpq's TLS through the URL, against the TLS-only PostgreSQL of `scripts/topology.sh`
/// (`ssl = on`, certificates made at test time, `hostnossl … reject`).
@Suite("PostgreSQL over TLS", .timeLimit(.minutes(2)))
struct PostgresTLSTests {
    private func connectionSSL(_ url: String) async throws -> (ssl: Bool, version: String) {
        var configuration = try PostgresConfiguration(url: url)
        configuration.reconnectBudget = .milliseconds(200)
        let postgres = PostgresClient(configuration: configuration, logger: TestEnvironment.logger)
        defer { Task { await postgres.shutdown() } }
        let row = try #require(try await postgres.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first)
        return (try row.decode(0, as: Bool.self), try row.decode(1, as: String.self))
    }

    @Test func verifyFullConnectsOverTLS() async throws {
        let url = try TestEnvironment.topology("TOPO_PG_SSL_URL")
        let state = try await connectionSSL(url)
        #expect(state.ssl)
        #expect(state.version.hasPrefix("TLSv1."))
    }

    @Test func theSeedsAsyncpgFormWithSSLRequireIsMappedToSSLMode() async throws {
        let port = try TestEnvironment.topology("TOPO_PG_SSL_PORT")
        let url = "postgresql+asyncpg://resume:resume-local-dev@127.0.0.1:\(port)/resume_processor?ssl=require"
        #expect(try PostgresConfiguration(url: url).url.hasSuffix("?sslmode=require"))
        #expect(try await connectionSSL(url).ssl)
        #expect(try PostgresConfiguration(url: "postgresql://h/db?ssl=true&application_name=x").url == "postgresql://h/db?sslmode=require&application_name=x")
        #expect(try PostgresConfiguration(url: "postgresql://h/db?sslmode=verify-ca&ssl=require").url == "postgresql://h/db?sslmode=verify-ca")
    }

    @Test func refusalsSayWhatFailed() async throws {
        let port = try TestEnvironment.topology("TOPO_PG_SSL_PORT")
        let other = try TestEnvironment.topology("TOPO_TLS_OTHER_CA_CERT")
        let ca = try TestEnvironment.topology("TOPO_TLS_CA_CERT")
        let base = "postgresql://resume:resume-local-dev@"
        // A CA that did not sign the server's certificate.
        await #expect {
            _ = try await connectionSSL("\(base)localhost:\(port)/resume_processor?sslmode=verify-full&sslrootcert=\(other)")
        } throws: { error in
            let text = "\(error)"
            return text.contains("certificate verify failed") && !text.contains("resume-local-dev")
        }
        // The certificate names localhost and 127.0.0.1; another name for the same address fails
        // (libpq checks `host` and connects to `hostaddr`).
        await #expect {
            _ = try await connectionSSL("\(base)wrong.example:\(port)/resume_processor?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=\(ca)")
        } throws: { error in "\(error)".contains("does not match host name") }
        // The server refuses connections without TLS.
        await #expect {
            _ = try await connectionSSL("\(base)localhost:\(port)/resume_processor?sslmode=disable")
        } throws: { error in "\(error)".contains("no encryption") }
    }
}
