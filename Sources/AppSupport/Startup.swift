import AppConfig
import ApplicationStore
import Foundation
import Logging
import Postgres
import Redis

/// What a connectivity check found.
public struct ConnectivityReport: Sendable, CustomStringConvertible {
    /// `INFO server` → `redis_version`.
    public var redisVersion: String
    /// `SHOW server_version`.
    public var postgresVersion: String
    /// Applied schema versions.
    public var schemaVersions: [Int]
    /// Round trip of one Redis `PING`.
    public var redisPing: Duration

    /// One line per server.
    public var description: String {
        """
        redis: ok (version \(redisVersion), PING \(redisPing.formatted(.units(allowed: [.microseconds, .milliseconds], width: .narrow))))
        postgres: ok (version \(postgresVersion), schema versions \(schemaVersions.map(String.init).joined(separator: ",")))
        """
    }
}

/// Start-up steps shared by the `worker` and `api` executables.
public enum Startup {
    /// Builds the process logger: level from `--verbose`/`--quiet`, else `LOG_LEVEL`, else `info`.
    public static func makeLogger(label: String, verbose: Bool, quiet: Bool) -> Logger {
        var logger = Logger(label: label)
        if verbose {
            logger.logLevel = .debug
        } else if quiet {
            logger.logLevel = .warning
        } else if let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap({ Logger.Level(rawValue: $0.lowercased()) }) {
            logger.logLevel = level
        } else {
            logger.logLevel = .info
        }
        return logger
    }

    /// Loads `.env` plus the environment, exiting with a message naming the variable on error.
    public static func loadConfiguration(dotEnvPath: String) -> AppConfiguration {
        do {
            return try AppConfiguration.load(dotEnvPath: dotEnvPath)
        } catch {
            FileHandle.standardError.write(Data("configuration error: \(error.description)\n".utf8))
            exit(78)  // EX_CONFIG
        }
    }

    /// Applies pending migrations and returns the versions applied.
    public static func migrate(_ postgres: PostgresClient, logger: Logger) async throws -> [Int] {
        try await PostgresMigrator(migrations: ResumeSchema.migrations, logger: logger).migrate(postgres)
    }

    /// Pings Redis and PostgreSQL and reads the schema version.
    public static func checkConnectivity(redis: RedisClient, postgres: PostgresClient, logger: Logger) async throws -> ConnectivityReport {
        let clock = ContinuousClock()
        let start = clock.now
        try await redis.send("PING")
        let ping = clock.now - start
        let info = try await redis.send("INFO", "server").string ?? ""
        let version = info.split(whereSeparator: \.isNewline)
            .first { $0.hasPrefix("redis_version:") }
            .map { String($0.dropFirst("redis_version:".count)) } ?? "unknown"
        let postgresVersion = try await postgres.query("SHOW server_version").first?.decode(0, as: String.self) ?? "unknown"
        let schema = try await PostgresMigrator(migrations: ResumeSchema.migrations, logger: logger).appliedVersions(postgres)
        return ConnectivityReport(redisVersion: version, postgresVersion: postgresVersion, schemaVersions: schema, redisPing: ping)
    }
}
