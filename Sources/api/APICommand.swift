import AppConfig
import AppSupport
import ArgumentParser

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

/// `api [run] [--rq]`: applies migrations and checks both servers. The HTTP server itself is not
/// built yet; the command says so instead of pretending.
struct RunAPI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start the API (applies migrations first)."
    )

    @Flag(name: .long, help: "Enqueue in Python RQ's wire format instead of the native list.")
    var rq = false

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.withClients(label: "api") { configuration, redis, postgres, logger in
            let mode: QueueMode = rq ? .rq : configuration.queueMode
            let applied = try await Startup.migrate(postgres, logger: logger)
            let report = try await Startup.checkConnectivity(redis: redis, postgres: postgres, logger: logger)
            print("api (\(mode.rawValue) mode): migrations applied now: \(applied.count)")
            print(report.description)
            print("api: the HTTP server is not available in this build yet; exiting after the health check")
        }
    }
}
