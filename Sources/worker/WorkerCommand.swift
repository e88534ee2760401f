import AppConfig
import AppSupport
import ApplicationStore
import MetricsExport
import ArgumentParser
import ClientSupport
import Foundation
import Logging
import Postgres
import Redis
import Synchronization
import NativeQueue
import ResumeJobs
import ResumePipeline
import RQ
import ServiceLifecycle
import UnixSignals
import JobProcessing
import WorkerRuntime

/// `worker`: the background job worker (native mode, or RQ mode with `--rq`).
@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Process résumé jobs from Redis (native list mode, or Python RQ wire mode with --rq).",
        subcommands: [RunWorker.self, MigrateCommand.self, CheckCommand.self, EmbedCommand.self, ReembedCommand.self, InfoCommand.self, RequeueCommand.self, RQToolsCommand.self, DeadLettersCommand.self],
        defaultSubcommand: RunWorker.self
    )
}

/// `worker [run] [--rq]`: applies migrations, checks both servers, then runs the worker: native
/// mode on the seed's `resume_processing_queue`, RQ mode as a peer of Python's `rq worker`.
struct RunWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start the worker (applies migrations first)."
    )

    @Flag(name: .long, help: "Speak Python RQ's wire format (queue rq:queue:resume_processing) instead of the native list.")
    var rq = false

    @Flag(name: [.customShort("b"), .long], help: "Exit once the queue is empty.")
    var burst = false

    @Option(name: .long, help: "Jobs run at once in this process (default: 4 native, 1 in RQ mode like `rq worker`).")
    var concurrency: Int?

    @Flag(name: [.customShort("s"), .long], help: "RQ mode: also run RQ's scheduler (moves due enqueue_at/enqueue_in jobs and interval retries; shares rq:scheduler-lock:Q with Python schedulers).")
    var withScheduler = false

    @Option(name: .long, help: "Seconds running jobs may take to finish after SIGTERM/SIGINT before they are cancelled and recorded as interrupted (retried if they have retries left). A second SIGINT/SIGTERM cancels at once.")
    var shutdownTimeout = 30

    @Option(name: .long, help: "Serve Prometheus metrics on http://127.0.0.1:<port>/metrics (off by default).")
    var metricsPort: Int?

    @Option(name: [.customShort("n"), .long], help: "Worker name (default: host.pid.random).")
    var name: String?

    @Option(name: .long, help: "Seconds a job may run before it is cancelled and failed (native mode; RQ jobs carry their own timeout).")
    var jobTimeout = 180

    @Option(name: [.customShort("S"), .long], help: "RQ payload serializer: pickle (RQ's default) or json (also rq.serializers.DefaultSerializer / JSONSerializer).")
    var serializer: RQSerializer = .pickle

    @Option(name: .long, help: "RQ mode: seconds between registry maintenance passes (abandoned jobs, dead workers, stuck intermediate entries), like `rq worker --maintenance-interval`.")
    var maintenanceInterval = 600

    @Option(name: .long, help: "RQ mode: seconds a registered worker's rq:pubsub channel may stay without a subscriber (the process is gone) before its started jobs are retried or failed (also the age at which an id left in the intermediate list counts as stuck); 0 leaves both to RQ's own rules (60-90 s started-registry expiry, one minute in the intermediate list).")
    var reclaimAfter = 15

    @Option(name: .long, help: "Seconds an application may stay PENDING with no live queue job before the sweeper enqueues it again.")
    var sweepAfter = 60

    @Option(name: .long, help: "Seconds between two pending sweeps.")
    var sweepInterval = 30

    @Option(name: .customLong("startup-timeout"), help: "Seconds to wait for Redis and PostgreSQL at start before exiting (default: wait forever; --metrics-port's /ready answers 503 meanwhile).")
    var startupTimeout: Int?

    @Argument(help: "RQ mode: the queues to listen on, in priority order (default: resume_processing).")
    var queues: [String] = []

    @OptionGroup(title: "rq worker's options") var rqOptions: RQWorkerOptions

    @OptionGroup var options: CommonOptions

    func validate() throws {
        // Upper bounds too: `running + 4` and `Task.sleep(for: .seconds(n))` must never overflow.
        guard (1...maximumConcurrency).contains(concurrency ?? 1) else { throw ValidationError("--concurrency must be 1-\(maximumConcurrency)") }
        guard (0...maximumSeconds).contains(shutdownTimeout) else { throw ValidationError("--shutdown-timeout must be 0-\(maximumSeconds)") }
        if let metricsPort, !(1...65535).contains(metricsPort) { throw ValidationError("--metrics-port must be 1-65535") }
        guard (1...maximumSeconds).contains(jobTimeout) else { throw ValidationError("--job-timeout must be 1-\(maximumSeconds) seconds") }
        guard (0...maximumSeconds).contains(reclaimAfter) else { throw ValidationError("--reclaim-after must be 0-\(maximumSeconds)") }
        guard (1...maximumSeconds).contains(maintenanceInterval) else { throw ValidationError("--maintenance-interval must be 1-\(maximumSeconds) seconds") }
        if let startupTimeout, !(1...maximumSeconds).contains(startupTimeout) { throw ValidationError("--startup-timeout must be 1-\(maximumSeconds) seconds") }
        guard (1...maximumSeconds).contains(sweepAfter), (1...maximumSeconds).contains(sweepInterval) else {
            throw ValidationError("--sweep-after and --sweep-interval must be 1-\(maximumSeconds) seconds")
        }
    }

    /// The largest value of a seconds option (about 31 years).
    private var maximumSeconds: Int { 1_000_000_000 }
    /// The largest `--concurrency`.
    private var maximumConcurrency: Int { 100_000 }

    func run() async throws {
        let mode: QueueMode? = rq ? .rq : nil
        let running = concurrency ?? (mode == .rq ? 1 : 4)
        try rqOptions.writePID()
        var options = options
        if let level = rqOptions.logLevel { (options.verbose, options.quiet) = level }
        try await options.withClients(label: "worker", redisConnections: running + 4) { configuration, redis, postgres, logger in
            let mode: QueueMode = mode ?? configuration.queueMode
            // The metrics port answers from the start (/ready 503 while waiting for the servers);
            // the worker itself starts inside StartupService once both answer and migrations ran.
            let gate = StartupGate()
            let statistics = StatisticsSource()
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: postgres)]
            if let metricsPort {
                services.append(.init(service: try MetricsServer(port: metricsPort, gate: gate, logger: logger)))
            }
            let wait = ServerWait(timeout: startupTimeout.map { .seconds($0) })
            let startup = StartupService(wait: wait, redis: redis, postgres: postgres, gate: gate, logger: logger) { applied in
                let report = try await Startup.checkConnectivity(redis: redis, postgres: postgres, logger: logger)
                print("worker (\(mode.rawValue) mode): migrations applied now: \(applied.count)")
                print(report.description)
                try await runWorker(mode: mode, running: running, configuration: configuration, redis: redis, postgres: postgres,
                                    logger: logger, statistics: statistics)
            }
            services.append(.init(service: startup, successTerminationBehavior: .gracefullyShutdownGroup))
            var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
            // The worker's grace (--shutdown-timeout) cancels its running jobs and records them as
            // interrupted; the group's own limit, a little later, is the backstop for the rest.
            groupConfiguration.maximumGracefulShutdownDuration = .seconds(shutdownTimeout + 15)
            try await TwoStepShutdown.run(ServiceGroup(configuration: groupConfiguration), logger: logger)
            if let worker = statistics.read() {
                print("worker: stopped (\(worker.finished) finished, \(worker.retried) retried, \(worker.failed) failed for good)")
            }
        }
    }

    /// Builds the résumé pipeline and the worker of `mode` and runs it, with the pending sweeper
    /// beside it, until the worker ends (graceful shutdown, or an empty queue in burst mode).
    private func runWorker(
        mode: QueueMode, running: Int, configuration: AppConfiguration, redis: RedisClient, postgres: PostgresClient,
        logger: Logger, statistics: StatisticsSource
    ) async throws {
        // The résumé pipeline as the seed's job function, beside the built-in test functions.
        let providers = ResumeProviders.make(configuration, logger: logger)
        let repository = ApplicationRepository(client: postgres)
        var handlers = JobHandlerRegistry.builtIns
        ResumeJobHandler.register(into: &handlers, processor: ResumeProcessor(repository: repository, providers: providers, logger: logger))
        print("providers: \(providers.summary)")
        // RQ 3.0's RQ_KEY_PREFIX, as `worker rq`, `info` and `requeue` read it.
        let keys = try RQKeys.fromEnvironment(ProcessInfo.processInfo.environment)
        let enqueuer: any JobEnqueuer = mode == .rq ? RQJobEnqueuer(store: RQStore(redis: redis, keys: keys)) : NativeJobEnqueuer(redis: redis)
        let sweeper = PendingSweeper(
            repository: repository, enqueuer: enqueuer,
            configuration: .init(age: .seconds(sweepAfter), interval: .seconds(sweepInterval)), logger: logger)
        let worker: any Service
        if mode == .rq {
            var settings = RQWorkerConfiguration(
                queues: queues.isEmpty ? ["resume_processing"] : queues, burst: burst, serializer: serializer, keys: keys,
                concurrency: running, withScheduler: withScheduler)
            if let name { settings.driver.name = name }
            settings.processor.maintenanceInterval = .seconds(maintenanceInterval)
            settings.driver.groupCleaningLock = max(maintenanceInterval - 1, 1)
            settings.driver.vanishedWorkerGrace = reclaimAfter > 0 ? .seconds(reclaimAfter) : nil
            settings.processor.shutdownGrace = .seconds(shutdownTimeout)
            rqOptions.apply(to: &settings)
            settings.driver.callbacks = RQCallbackRegistry.builtIns
            let rqWorker = RQWorker(redis: redis, handlers: handlers, configuration: settings, logger: logger)
            statistics.set { rqWorker.statistics }
            worker = rqWorker
        } else {
            var settings = NativeWorkerConfiguration(concurrency: running, jobTimeout: .seconds(jobTimeout), burst: burst)
            if let interval = rqOptions.jobMonitoringInterval, .seconds(interval) >= settings.driver.heartbeatTTL {
                throw ValidationError("--job-monitoring-interval must stay under the native heartbeat's \(settings.driver.heartbeatTTL) in native mode")
            }
            settings.processor.shutdownGrace = .seconds(shutdownTimeout)
            rqOptions.apply(to: &settings.processor)
            if let name { settings.driver.name = name }
            let nativeWorker = NativeWorker(
                redis: redis, queue: NativeQueueClient(redis: redis), handlers: handlers, configuration: settings, logger: logger)
            statistics.set { nativeWorker.statistics }
            worker = nativeWorker
        }
        // Child tasks inherit the group's graceful-shutdown signal; the sweeper is cancelled once
        // the worker has ended.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sweeper.run() }
            try await worker.run()
            group.cancelAll()
        }
    }
}

/// Where the worker's counters come from once it exists (it is built after the servers answer).
final class StatisticsSource: Sendable {
    private let source = Mutex<(@Sendable () -> WorkerStatistics)?>(nil)

    func set(_ read: @escaping @Sendable () -> WorkerStatistics) { source.withLock { $0 = read } }

    /// The counters now, or `nil` when the worker never started.
    func read() -> WorkerStatistics? { source.withLock { $0 }?() }
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
