import ClientSupport
import Logging
import ServiceLifecycle

/// A Redis client: a bounded pool of self-repairing hiredis connections.
///
/// Run it as a `Service` in the application's `ServiceGroup`: ``run()`` waits for graceful
/// shutdown and then closes the pool. Commands may be sent before or without `run()`; connections
/// are opened lazily.
///
/// ```swift
/// let redis = RedisClient(configuration: try RedisConfiguration(url: url), logger: logger)
/// try await redis.send("SET", "greeting", "hello")
/// let value = try await redis.send("GET", "greeting").string
/// ```
///
/// Blocking commands (`BLMOVE`, `BLPOP`) should run on a connection of their own
/// (``makeDedicatedConnection()``) so they do not hold a pooled one.
public final class RedisClient: Service, Sendable {
    /// The client's configuration.
    public let configuration: RedisConfiguration
    private let logger: Logger
    private let pool: ConnectionPool<RedisConnection>
    /// Where the master is, shared by the pooled and the dedicated connections.
    private let topology: RedisTopology
    /// In Sentinel mode, the listener for `+switch-master`; `nil` otherwise.
    private let watcher: SentinelWatcher?

    /// Creates a client. No connection is opened until the first command.
    public init(configuration: RedisConfiguration, logger: Logger) {
        let topology = RedisTopology(configuration: configuration)
        let watcher = configuration.sentinel == nil ? nil : SentinelWatcher(configuration: configuration, topology: topology, logger: logger)
        self.configuration = configuration
        self.logger = logger
        self.topology = topology
        self.watcher = watcher
        self.pool = ConnectionPool(
            maximumConnections: configuration.maximumConnections,
            closedError: { RedisClientError(.poolClosed, "the Redis client was shut down") },
            factory: {
                watcher?.startIfNeeded()
                return try await RedisConnection.connect(configuration: configuration, topology: topology, logger: logger)
            }
        )
    }

    /// Waits until graceful shutdown (or cancellation), then closes the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Closes idle connections and refuses further commands.
    public func shutdown() async {
        watcher?.stop()
        await pool.shutdown()
    }

    /// Counters of the connection pool.
    public var poolStatistics: ConnectionPoolStatistics { pool.statistics }

    /// Leases a pooled connection for `body` (for `WATCH`, or several commands on one connection).
    @discardableResult
    public func withConnection<Result: Sendable>(_ body: (RedisConnection) async throws -> Result) async throws -> Result {
        try await pool.withConnection(body)
    }

    /// Sends one command on a pooled connection; see ``RedisConnection/send(_:)-(RedisCommand)``.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try await pool.withConnection { try await $0.send(command) }
    }

    /// Sends one command given as arguments, e.g. `send("GET", key)`.
    @discardableResult
    public func send(_ arguments: RedisArgument...) async throws -> RedisReply {
        try await send(arguments)
    }

    /// Sends `commands` in one round trip on a pooled connection; see ``RedisConnection/pipeline(_:)``.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await pool.withConnection { try await $0.pipeline(commands) }
    }

    /// Runs `commands` in `MULTI`/`EXEC` on a pooled connection; see ``RedisConnection/transaction(_:)``.
    public func transaction(_ commands: [RedisCommand]) async throws -> [RedisReply]? {
        try await pool.withConnection { try await $0.transaction(commands) }
    }

    /// Opens a connection outside the pool, owned by the caller (for blocking pops and long waits).
    public func makeDedicatedConnection() async throws -> RedisConnection {
        watcher?.startIfNeeded()
        return try await RedisConnection.connect(configuration: configuration, topology: topology, logger: logger)
    }
}
