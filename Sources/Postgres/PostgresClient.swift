import ClientSupport
import Logging
import ServiceLifecycle

/// A PostgreSQL client: a small bounded pool of self-repairing libpq connections.
///
/// Run it as a `Service`: ``run()`` waits for graceful shutdown, then closes the pool.
///
/// ```swift
/// let postgres = PostgresClient(configuration: try PostgresConfiguration(url: dbURL), logger: logger)
/// let rows = try await postgres.query("SELECT id FROM applications WHERE status = $1", ["PENDING"])
/// ```
public final class PostgresClient: Service, Sendable {
    /// The client's configuration.
    public let configuration: PostgresConfiguration
    private let pool: ConnectionPool<PostgresConnection>

    /// Creates a client. No connection is opened until the first statement.
    public init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        self.pool = ConnectionPool(
            maximumConnections: configuration.maximumConnections,
            closedError: { PostgresError(.poolClosed, "the PostgreSQL client was shut down") },
            factory: { try await PostgresConnection.connect(configuration: configuration, logger: logger) }
        )
    }

    /// Waits until graceful shutdown (or cancellation), then closes the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Closes idle connections and refuses further statements.
    public func shutdown() async {
        await pool.shutdown()
    }

    /// Counters of the connection pool.
    public var poolStatistics: ConnectionPoolStatistics { pool.statistics }

    /// Runs one statement on a pooled connection; see ``PostgresConnection/query(_:_:)``.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresBindable] = []) async throws -> PostgresResult {
        try await pool.withConnection { try await $0.query(sql, parameters) }
    }

    /// Leases a connection for `body`.
    @discardableResult
    public func withConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await pool.withConnection(body)
    }

    /// Runs `body` inside `BEGIN`/`COMMIT` on one connection; any error thrown by `body` (or by
    /// `COMMIT`) rolls the transaction back and is rethrown.
    @discardableResult
    public func withTransaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await pool.withConnection { connection in
            try await connection.begin()
            do {
                let result = try await body(connection)
                try await connection.commit()
                return result
            } catch {
                await connection.rollback()
                throw error
            }
        }
    }
}
