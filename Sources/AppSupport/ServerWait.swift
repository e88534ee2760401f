import ClientSupport
import Logging
import Postgres
import Redis

/// Waits at start for Redis and PostgreSQL to answer, instead of exiting: one probe of each per
/// attempt, one log line per failed attempt naming what failed and when the next attempt comes,
/// capped backoff between attempts. A failure no retry should cure (a refused password or
/// certificate) ends the wait once it has lasted ``permanentFailureGrace``, as does `timeout`.
public struct ServerWait: Sendable {
    /// How long to wait in all; `nil` waits forever (`--startup-timeout`). Default: `nil`.
    public var timeout: Duration?
    /// The delays between attempts. Default: 0.5 s doubling to 5 s.
    public var backoff: Backoff

    /// How long a failure no retry should cure (a refused password or certificate) must last
    /// before the wait ends: PostgreSQL answers "password authentication failed" for a role that
    /// does not exist yet, which is what a set-up script creating it just after the server
    /// came up looks like. Default: 10 s.
    public var permanentFailureGrace: Duration

    /// Creates a wait; see the properties for the defaults.
    public init(
        timeout: Duration? = nil, backoff: Backoff = Backoff(initialDelay: .milliseconds(500), maximumDelay: .seconds(5)),
        permanentFailureGrace: Duration = .seconds(10)
    ) {
        self.timeout = timeout
        self.backoff = backoff
        self.permanentFailureGrace = permanentFailureGrace
    }

    /// Why starting stopped: a server that cannot be used, or the timeout.
    public struct Failure: Error, CustomStringConvertible {
        /// What failed, free of secrets.
        public var description: String
    }

    /// Returns once both servers answer; `gate` hears what is awaited meanwhile.
    public func run(redis: RedisConfiguration, postgres: PostgresConfiguration, gate: StartupGate, logger: Logger) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        var attempt = 0
        var permanentSince: ContinuousClock.Instant?
        while true {
            try Task.checkCancellation()
            async let redisProbe = Self.probe(redis)
            async let postgresProbe = Self.probe(postgres)
            let results = [("redis", await redisProbe), ("postgres", await postgresProbe)]
            let failures = results.compactMap { name, result in result.map { (name, $0) } }
            if failures.isEmpty {
                if attempt > 0 { logger.info("servers answer; starting", metadata: ["startup.attempts": "\(attempt + 1)"]) }
                return
            }
            // One line per attempt: libpq's messages carry a newline and a tab-indented hint.
            let reasons = failures.map { name, failure in
                "\(name): " + failure.reason.split(whereSeparator: \.isNewline).map { $0.trimmingPrefix(while: \.isWhitespace) }.joined(separator: " ")
            }.joined(separator: "; ")
            if failures.contains(where: { $0.1.permanent }) {
                let since = permanentSince ?? clock.now
                permanentSince = since
                if since.duration(to: clock.now) >= permanentFailureGrace {
                    throw Failure(description: "cannot start: \(reasons)")
                }
            } else {
                permanentSince = nil
            }
            let delay = backoff.delay(afterAttempt: attempt)
            attempt += 1
            if let timeout, start.duration(to: clock.now) + delay > timeout {
                throw Failure(description: "servers did not answer within the startup timeout (\(timeout)): \(reasons)")
            }
            // The gate's text reaches HTTP clients: names only; the reasons go to the log.
            gate.wait(for: "waiting for \(failures.map(\.0).joined(separator: " and "))")
            logger.warning(
                "waiting for \(failures.map(\.0).joined(separator: " and ")) (\(reasons)); next attempt in \(Self.format(delay))",
                metadata: ["startup.attempt": "\(attempt)"])
            try await Task.sleep(for: delay)
        }
    }

    private struct ProbeFailure: Sendable {
        var reason: String
        var permanent: Bool
    }

    /// One connection attempt and a `PING`; `nil` when it answered.
    private static func probe(_ configuration: RedisConfiguration) async -> ProbeFailure? {
        var single = configuration
        single.reconnectBudget = .zero
        single.commandTimeout = min(configuration.commandTimeout ?? .seconds(5), .seconds(5))
        do {
            let connection = try await RedisConnection.connect(configuration: single, logger: Logger(label: "startup.probe"))
            defer { connection.close() }
            try await connection.send("PING")
            return nil
        } catch let error as RedisClientError {
            // A server still loading its data set answers LOADING: that passes.
            let permanent = error.code == .serverError ? !error.isTransient : !error.retryable
            return ProbeFailure(reason: error.message, permanent: permanent)
        } catch {
            return ProbeFailure(reason: "\(error)", permanent: false)
        }
    }

    /// One connection attempt and a `SELECT 1`; `nil` when it answered.
    private static func probe(_ configuration: PostgresConfiguration) async -> ProbeFailure? {
        var single = configuration
        single.reconnectBudget = .zero
        do {
            let connection = try await PostgresConnection.connect(configuration: single, logger: Logger(label: "startup.probe"))
            defer { connection.close() }
            _ = try await connection.query("SELECT 1")
            return nil
        } catch let error as PostgresError {
            // "the database system is starting up" is a passing state, like a refused connection;
            // so, at start, is a database or role that does not exist yet (created by a set-up
            // script just after the server came up). A refused password or certificate is not.
            let permanent = !error.retryable && !error.message.contains("does not exist")
            return ProbeFailure(reason: error.message, permanent: permanent)
        } catch {
            return ProbeFailure(reason: "\(error)", permanent: false)
        }
    }

    private static func format(_ delay: Duration) -> String {
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        return seconds < 10 ? "\((seconds * 10).rounded() / 10)s" : "\(Int(seconds.rounded()))s"
    }
}
