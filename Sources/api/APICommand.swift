import AppConfig
import AppSupport
import ArgumentParser
import ClientSupport
import Foundation
import HTTPAPI
import Logging
import RQ
import ServiceLifecycle
import StorageFactory
import UnixSignals

/// `api`: the HTTP API that accepts résumé uploads and enqueues their processing.
@main
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Serve the résumé HTTP API (POST /resumes/upload, GET /resumes/{id}, …).",
        subcommands: [RunAPI.self, MigrateCommand.self, CheckCommand.self],
        defaultSubcommand: RunAPI.self
    )
}

/// `api [run] [--rq] [--host H] [--port P] [--max-upload-bytes N]`: applies migrations, then serves
/// HTTP until SIGTERM/SIGINT, draining in-flight requests before it exits.
struct RunAPI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start the API (applies migrations first)."
    )

    @Flag(name: .long, help: "Enqueue in Python RQ's wire format (rq:queue:resume_processing) instead of the native list.")
    var rq = false

    @Option(name: .long, help: "Interface to bind (loopback by default).")
    var host = "127.0.0.1"

    @Option(name: .long, help: "TCP port.")
    var port = 8000

    @Option(name: .customLong("max-upload-bytes"), help: "Largest accepted file in bytes (default: MAX_UPLOAD_BYTES or 10485760).")
    var maxUploadBytes: Int?

    @Option(name: .customLong("startup-timeout"), help: "Seconds to wait for Redis and PostgreSQL at start before exiting (default: wait forever, answering /ready 503).")
    var startupTimeout: Int?

    @OptionGroup var options: CommonOptions

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        if let startupTimeout, !(1...1_000_000_000).contains(startupTimeout) { throw ValidationError("--startup-timeout must be 1-1000000000 seconds") }
        if let maxUploadBytes, maxUploadBytes < 1 { throw ValidationError("--max-upload-bytes must be at least 1") }
    }

    func run() async throws {
        var settings = HTTPAPIConfiguration(host: host, port: port)
        do {
            try settings.apply(environment: Self.rawValues(dotEnvPath: options.envFile))
        } catch {
            FileHandle.standardError.write(Data("configuration error: \(error.description)\n".utf8))
            throw ExitCode(78)
        }
        if let maxUploadBytes { settings.limits.maxFileBytes = maxUploadBytes }
        try await options.withClients(label: "api") { configuration, redis, postgres, logger in
            let mode: QueueMode = rq ? .rq : configuration.queueMode
            // The same storage the worker reads: S3 when AWS_S3_BUCKET_NAME is set, else DATA_DIR.
            let storage = ResumeStorageFactory.make(configuration, logger: logger)
            // The HTTP server answers from the start: /ready says 503 and the other routes 503
            // `starting` until both servers answer and the migrations ran.
            let gate = StartupGate()
            let built = HTTPAPIBuilder.build(
                configuration: settings, mode: mode, redis: redis, postgres: postgres,
                dataDirectory: configuration.dataDirectory, storage: storage,
                rqKeys: try RQKeys.fromEnvironment(ProcessInfo.processInfo.environment), gate: gate, logger: logger)
            let wait = ServerWait(timeout: startupTimeout.map { .seconds($0) })
            let startup = StartupService(wait: wait, redis: redis, postgres: postgres, gate: gate, logger: logger) { [settings, host, port] applied in
                logger.info(
                    "api ready",
                    metadata: [
                        "address": "\(host):\(port)", "queue.mode": "\(mode.rawValue)", "migrations.applied": "\(applied.count)",
                        "upload.max_bytes": "\(settings.limits.maxFileBytes)", "auth": "\(settings.apiKey == nil ? "off" : "api key")",
                    ])
                try? await gracefulShutdown()
            }
            let group = ServiceGroup(
                configuration: .init(
                    services: built.services.map { .init(service: $0) } + [.init(service: startup)],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            try await group.run()
            await built.probe.shutdown()
            logger.info("api stopped")
        }
    }

    /// `.env` merged with the environment (the environment wins), for the API's own variables.
    static func rawValues(dotEnvPath: String) -> [String: String] {
        var values: [String: String] = [:]
        if let data = FileManager.default.contents(atPath: dotEnvPath),
           let parsed = try? DotEnv.parse(String(decoding: data, as: UTF8.self)) {
            values = parsed
        }
        for (key, value) in ProcessInfo.processInfo.environment { values[key] = value }
        return values
    }
}
