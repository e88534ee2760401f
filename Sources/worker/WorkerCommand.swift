import AppConfig
import AppSupport
import ArgumentParser

/// `worker`: the background job worker (native mode, or RQ mode with `--rq`).
@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Process résumé jobs from Redis (native list mode, or Python RQ wire mode with --rq).",
        subcommands: [RunWorker.self, MigrateCommand.self, CheckCommand.self, InfoCommand.self, RequeueCommand.self, RQToolsCommand.self],
        defaultSubcommand: RunWorker.self
    )
}

/// `worker [run] [--rq]`: applies migrations and checks both servers. Job processing itself is
/// not built yet; the command says so instead of pretending.
struct RunWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start the worker (applies migrations first)."
    )

    @Flag(name: .long, help: "Speak Python RQ's wire format (queue rq:queue:resume_processing) instead of the native list.")
    var rq = false

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.withClients(label: "worker") { configuration, redis, postgres, logger in
            let mode: QueueMode = rq ? .rq : configuration.queueMode
            let applied = try await Startup.migrate(postgres, logger: logger)
            let report = try await Startup.checkConnectivity(redis: redis, postgres: postgres, logger: logger)
            print("worker (\(mode.rawValue) mode): migrations applied now: \(applied.count)")
            print(report.description)
            print("worker: job processing is not available in this build yet; exiting after the health check")
        }
    }
}
