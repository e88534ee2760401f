import AppConfig
import AppSupport
import ArgumentParser
import NativeQueue
import RQ
import ServiceLifecycle
import UnixSignals
import WorkerRuntime

/// `worker`: the background job worker (native mode, or RQ mode with `--rq`).
@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Process résumé jobs from Redis (native list mode, or Python RQ wire mode with --rq).",
        subcommands: [RunWorker.self, MigrateCommand.self, CheckCommand.self, InfoCommand.self, RequeueCommand.self, RQToolsCommand.self, DeadLettersCommand.self],
        defaultSubcommand: RunWorker.self
    )
}

/// `worker [run] [--rq]`: applies migrations, checks both servers, then runs the worker. Native mode
/// processes the seed's `resume_processing_queue`; RQ mode is not built yet and says so.
struct RunWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start the worker (applies migrations first)."
    )

    @Flag(name: .long, help: "Speak Python RQ's wire format (queue rq:queue:resume_processing) instead of the native list.")
    var rq = false

    @Flag(name: .long, help: "Exit once the queue is empty.")
    var burst = false

    @Option(name: .long, help: "Jobs run at once.")
    var concurrency = 4

    @Option(name: .long, help: "Worker name (default: host.pid.random).")
    var name: String?

    @Option(name: .long, help: "Seconds a job may run before it is cancelled and failed (native mode; RQ jobs carry their own timeout).")
    var jobTimeout = 180

    @Option(name: .long, help: "RQ payload serializer: pickle (RQ's default) or json.")
    var serializer: RQSerializer = .pickle

    @Argument(help: "RQ mode: the queues to listen on, in priority order (default: resume_processing).")
    var queues: [String] = []

    @OptionGroup var options: CommonOptions

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard jobTimeout >= 1 else { throw ValidationError("--job-timeout must be at least 1 second") }
    }

    func run() async throws {
        try await options.withClients(label: "worker") { configuration, redis, postgres, logger in
            let mode: QueueMode = rq ? .rq : configuration.queueMode
            let applied = try await Startup.migrate(postgres, logger: logger)
            let report = try await Startup.checkConnectivity(redis: redis, postgres: postgres, logger: logger)
            print("worker (\(mode.rawValue) mode): migrations applied now: \(applied.count)")
            print(report.description)
            if mode == .rq {
                var settings = RQWorkerConfiguration(queues: queues.isEmpty ? ["resume_processing"] : queues, burst: burst, serializer: serializer)
                if let name { settings.name = name }
                let worker = RQWorker(redis: redis, handlers: .builtIns, configuration: settings, logger: logger)
                let group = ServiceGroup(
                    configuration: .init(services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
                                         gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
                print("worker: stopped (\(worker.statistics.finished) finished, \(worker.statistics.retried) retried, \(worker.statistics.deadLettered) failed)")
                return
            }
            var settings = NativeWorkerConfiguration(concurrency: concurrency, jobTimeout: .seconds(jobTimeout), burst: burst)
            if let name { settings.name = name }
            let worker = NativeWorker(
                redis: redis, queue: NativeQueueClient(redis: redis), handlers: .builtIns, configuration: settings, logger: logger)
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            print("worker: stopped (\(worker.statistics.finished) finished, \(worker.statistics.retried) retried, \(worker.statistics.deadLettered) dead-lettered)")
        }
    }
}

/// `worker dead-letters [--requeue]`: lists (or requeues) native jobs that used their last attempt.
struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List the native queue's dead-lettered jobs, or put them back on the queue with --requeue."
    )

    @Flag(help: "Requeue every dead-lettered job with its attempts reset.")
    var requeue = false

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.withClients(label: "dead-letters") { _, redis, _, _ in
            let queue = NativeQueueClient(redis: redis)
            if requeue {
                print("requeued \(try await queue.requeueDeadLetters()) jobs")
                return
            }
            for id in try await queue.deadLetters() {
                let job = try await queue.job(id)
                print("\(id)  \(job?.function ?? "?")  attempts=\(job?.attempts ?? 0)  \(job?.error ?? "")")
            }
        }
    }
}
