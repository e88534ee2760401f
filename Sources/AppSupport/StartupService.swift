import ClientSupport
import Logging
import Postgres
import Redis
import ServiceLifecycle

/// The start of a process as a `Service` in its group, so that the group's other services (the
/// HTTP server, the metrics port) answer while it waits: waits for Redis and PostgreSQL
/// (``ServerWait``), applies the migrations, runs `body` (the work that needs both servers), then
/// opens `gate`. With `body` returning at once it then waits for graceful shutdown; `body` may
/// also run for the process's life (the worker).
public struct StartupService: Service {
    let wait: ServerWait
    let redis: RedisClient
    let postgres: PostgresClient
    let gate: StartupGate
    let logger: Logger
    let body: @Sendable (_ appliedMigrations: [Int]) async throws -> Void

    /// A start that waits per `wait`, migrates, then opens `gate` and runs `body`.
    public init(
        wait: ServerWait, redis: RedisClient, postgres: PostgresClient, gate: StartupGate, logger: Logger,
        body: @escaping @Sendable (_ appliedMigrations: [Int]) async throws -> Void
    ) {
        self.wait = wait
        self.redis = redis
        self.postgres = postgres
        self.gate = gate
        self.logger = logger
        self.body = body
    }

    /// Waits, migrates, opens the gate and runs the body.
    public func run() async throws {
        do {
            try await wait.run(redis: redis.configuration, postgres: postgres.configuration, gate: gate, logger: logger)
        } catch is CancellationError {
            return
        }
        gate.wait(for: "applying migrations")
        let applied = try await Startup.migrate(postgres, logger: logger)
        gate.open()
        try await body(applied)
    }
}
