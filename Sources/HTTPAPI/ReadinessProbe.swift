import ClientSupport
import Logging
import Postgres
import Redis

/// The `/ready` checks, on clients of their own with short connect and reconnect budgets, so a
/// dead server is reported within about the readiness timeout instead of the main pool's budget.
public final class ReadinessProbe: Sendable {
    private let redis: RedisClient
    private let postgres: PostgresClient
    /// Closed while the process still waits for its servers or runs migrations: `/ready` is then
    /// 503 and every route but `/health`, `/ready`, `/metrics` and `/openapi.json` answers 503
    /// `starting`.
    public let gate: StartupGate

    /// Probe clients derived from the main configurations with every timeout set to `timeout`;
    /// `gate` says whether starting is done (default: done).
    public init(
        redis: RedisConfiguration, postgres: PostgresConfiguration, timeout: Duration, gate: StartupGate = StartupGate(open: true),
        logger: Logger
    ) {
        self.gate = gate
        var redisConfiguration = redis
        redisConfiguration.connectTimeout = timeout
        redisConfiguration.commandTimeout = timeout
        redisConfiguration.reconnectBudget = timeout
        redisConfiguration.maximumConnections = 2
        var postgresConfiguration = postgres
        postgresConfiguration.connectTimeout = timeout
        postgresConfiguration.reconnectBudget = timeout
        postgresConfiguration.maximumConnections = 2
        self.redis = RedisClient(configuration: redisConfiguration, logger: logger)
        self.postgres = PostgresClient(configuration: postgresConfiguration, logger: logger)
    }

    /// The probe's clients, to run in the service group (they close on shutdown).
    public var services: [RedisClient] { [redis] }

    /// Closes both probe clients.
    public func shutdown() async {
        await redis.shutdown()
        await postgres.shutdown()
    }

    /// Runs both checks concurrently; returns the failed ones (`redis`/`postgres` → reason).
    func check(timeout: Duration) async -> [String: String] {
        async let redisFailure: String? = {
            do {
                let reply = try await redis.send("PING")
                return reply.string == "PONG" ? nil : "unexpected reply to PING"
            } catch let error as RedisClientError {
                return "unreachable (\(error.code))"
            } catch {
                return "unreachable"
            }
        }()
        async let postgresFailure: String? = {
            do {
                let value = try await postgres.query("SELECT 1").first?.decode(0, as: Int.self)
                return value == 1 ? nil : "unexpected reply to SELECT 1"
            } catch let error as PostgresError {
                return "unreachable (\(error.code))"
            } catch {
                return "unreachable"
            }
        }()
        var failures: [String: String] = [:]
        if let waiting = gate.waitingFor { failures["startup"] = waiting }
        if let failure = await redisFailure { failures["redis"] = failure }
        if let failure = await postgresFailure { failures["postgres"] = failure }
        return failures
    }
}
