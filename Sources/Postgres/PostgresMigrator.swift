import Logging

/// One numbered schema change, shipped with the program.
public struct PostgresMigration: Sendable, Hashable {
    /// Order of application; unique and increasing.
    public var version: Int
    /// A short name recorded next to the version.
    public var name: String
    /// The SQL applied (may hold several statements).
    public var sql: String

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies pending ``PostgresMigration``s in order, each in its own transaction, and records them in
/// `schema_migrations`.
///
/// Safe to run twice (applied versions are skipped) and from several processes at once: the whole
/// run holds a session-level advisory lock, so a second migrator waits and then finds nothing to do.
public struct PostgresMigrator: Sendable {
    /// The advisory-lock key shared by every migrator of this schema.
    public static let lockKey = 0x7265_7375_6d65  // "resume"

    /// The migrations this migrator knows, in any order.
    public let migrations: [PostgresMigration]
    private let logger: Logger

    /// Creates a migrator. Versions must be unique.
    public init(migrations: [PostgresMigration], logger: Logger) {
        precondition(Set(migrations.map(\.version)).count == migrations.count, "migration versions must be unique")
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.logger = logger
    }

    /// Applies every pending migration and returns the versions it applied (empty if up to date).
    @discardableResult
    public func migrate(_ client: PostgresClient) async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock($1)", [Self.lockKey])
            do {
                let applied = try await migrateLocked(connection)
                try await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                throw error
            }
        }
    }

    /// The versions recorded in `schema_migrations` (empty if the table does not exist yet).
    public func appliedVersions(_ client: PostgresClient) async throws -> [Int] {
        let exists = try await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        guard try exists.first?.decode("present", as: Bool.self) == true else { return [] }
        return try await client.query("SELECT version FROM schema_migrations ORDER BY version").map { try $0.decode("version") }
    }

    private func migrateLocked(_ connection: PostgresConnection) async throws -> [Int] {
        try await connection.executeScript("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let done = Set(try await connection.query("SELECT version FROM schema_migrations").map { row in
            try row.decode("version", as: Int.self)
        })
        var applied: [Int] = []
        for migration in migrations where !done.contains(migration.version) {
            try await connection.begin()
            do {
                try await connection.executeScript(migration.sql)
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    [migration.version, migration.name]
                )
                try await connection.commit()
            } catch {
                await connection.rollback()
                let reason = (error as? PostgresError)?.message ?? "\(error)"
                throw PostgresError(
                    .migration, "migration \(migration.version) (\(migration.name)) failed: \(reason)",
                    sqlState: (error as? PostgresError)?.sqlState
                )
            }
            logger.info("applied migration", metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }
}
