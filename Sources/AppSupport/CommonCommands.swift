import AppConfig
import ArgumentParser
import LocalProviders
import Logging
import NetworkTransport
import Postgres
import Redis

/// Options every executable accepts.
public struct CommonOptions: ParsableArguments, Sendable {
    /// The `.env` file to read (environment variables win over it).
    @Option(name: .customLong("env-file"), help: "The .env file to read; real environment variables take precedence.")
    public var envFile: String = ".env"

    /// Redis URL overriding `REDIS_URL`.
    @Option(name: [.customShort("u"), .long], help: "Redis URL (default: REDIS_URL from the environment or .env).")
    public var url: String?

    /// Debug-level logs.
    @Flag(name: .shortAndLong, help: "Log at debug level.")
    public var verbose = false

    /// Warnings and errors only.
    @Flag(name: .shortAndLong, help: "Log warnings and errors only.")
    public var quiet = false

    public init() {}

    /// The logger for this process.
    public func logger(label: String) -> Logger {
        Startup.makeLogger(label: label, verbose: verbose, quiet: quiet)
    }

    /// Runs `body` with configured Redis and PostgreSQL clients, shutting them down afterwards.
    /// `redisConnections` raises the Redis pool bound (a worker wants one per running job).
    public func withClients<Result: Sendable>(
        label: String, redisConnections: Int? = nil,
        _ body: (AppConfiguration, RedisClient, PostgresClient, Logger) async throws -> Result
    ) async throws -> Result {
        // Before any connection: OpenSSL's exit-time cleanup must not race connections closing.
        OpenSSLProcess.keepStateUntilExit()
        let logger = logger(label: label)
        var configuration = Startup.loadConfiguration(dotEnvPath: envFile)
        if let url {
            do {
                configuration.redis = try RedisConfiguration(url: url)
            } catch {
                throw ValidationError("--url: \(error.message)")
            }
        }
        if let redisConnections {
            configuration.redis.maximumConnections = max(configuration.redis.maximumConnections, redisConnections)
        }
        let redis = RedisClient(configuration: configuration.redis, logger: logger)
        let postgres = PostgresClient(configuration: configuration.postgres, logger: logger)
        do {
            let result = try await body(configuration, redis, postgres, logger)
            await redis.shutdown()
            await postgres.shutdown()
            return result
        } catch {
            await redis.shutdown()
            await postgres.shutdown()
            throw error
        }
    }
}

/// `migrate`: applies pending schema migrations and exits.
public struct MigrateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending PostgreSQL schema migrations (safe to run twice or concurrently)."
    )

    @OptionGroup public var options: CommonOptions

    public init() {}

    public func run() async throws {
        try await options.withClients(label: "migrate") { _, _, postgres, logger in
            let applied = try await Startup.migrate(postgres, logger: logger)
            print(applied.isEmpty ? "schema is up to date" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
        }
    }
}

/// `check`: prints the redacted configuration, whether local OCR can run, and checks Redis and PostgreSQL.
public struct CheckCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Print the configuration (secrets redacted), whether local OCR can run, and check that Redis and PostgreSQL answer."
    )

    @OptionGroup public var options: CommonOptions

    public init() {}

    public func run() async throws {
        try await options.withClients(label: "check") { configuration, redis, postgres, logger in
            print(configuration.description)
            if configuration.aws == nil {
                let ocr = OCRConfiguration(languages: configuration.ocrLanguages, maximumPixels: configuration.maxImagePixels)
                print(await OCRProbe.run(ocr).summary)
            }
            let report = try await Startup.checkConnectivity(redis: redis, postgres: postgres, logger: logger)
            print(report.description)
        }
    }
}
