import ArgumentParser
import Foundation
import JobProcessing
import RQ
import WorkerRuntime

/// `rq worker`'s options that mean something for this worker, under RQ's names and with RQ's
/// meaning, and the Python-only ones, refused with the reason (`docs/operations.md`, "rq worker's
/// options").
struct RQWorkerOptions: ParsableArguments {
    @Option(name: .customLong("max-jobs"), help: "Stop after taking this many jobs, once they ended (rq worker --max-jobs).")
    var maxJobs: Int?

    @Option(name: .customLong("max-idle-time"), help: "Stop after this many seconds without a job (rq worker --max-idle-time).")
    var maxIdleTime: Int?

    @Option(name: [.customLong("dequeue-strategy"), .customLong("ds", withSingleDash: true)], help: "RQ mode, several queues: default (priority order), round_robin or random (rq worker --dequeue-strategy).")
    var dequeueStrategy: RQDequeueStrategy = .default

    @Option(name: .customLong("results-ttl"), help: "RQ mode: seconds a result is kept when the job sets no result_ttl (rq worker --results-ttl).")
    var resultsTTL = 500

    @Option(name: .customLong("worker-ttl"), help: "RQ mode: the worker record's TTL base in seconds (rq worker --worker-ttl).")
    var workerTTL = 420

    @Option(name: .customLong("job-monitoring-interval"), help: "Seconds between the busy heartbeats of running jobs (rq worker --job-monitoring-interval; default 30 in RQ mode, the maintenance interval in native mode).")
    var jobMonitoringInterval: Int?

    @Option(name: .customLong("pid"), help: "Write the process id to this file (rq worker --pid).")
    var pidFile: String?

    @Option(name: .customLong("rq-version"), help: "RQ mode: whose worker records to write, 2.12 or 3.0 (version field, current_job); default 3.0 under an RQ_KEY_PREFIX other than rq, else 2.12 (both versions read either).")
    var rqVersion: RQRecordVersion?

    @Option(name: [.customLong("logging_level"), .customLong("logging-level")], help: "DEBUG, INFO, WARNING, ERROR or CRITICAL (rq worker --logging_level; WARNING and above log warnings and errors).")
    var loggingLevel: String?

    // Python RQ's options that load Python code or Python services: refused, with the reason.
    @Option(name: [.customShort("P"), .customLong("path")], help: .hidden) var path: [String] = []
    @Option(name: [.customShort("c"), .customLong("config")], help: .hidden) var config: String?
    @Option(name: .customLong("exception-handler"), help: .hidden) var exceptionHandler: [String] = []
    @Option(name: [.customShort("w"), .customLong("worker-class")], help: .hidden) var workerClass: String?
    @Option(name: [.customShort("j"), .customLong("job-class")], help: .hidden) var jobClass: String?
    @Option(name: .customLong("queue-class"), help: .hidden) var queueClass: String?
    @Option(name: .customLong("connection-class"), help: .hidden) var connectionClass: String?
    @Option(name: .customLong("sentry-dsn"), help: .hidden) var sentryDSN: String?
    @Option(name: .customLong("sentry-ca-certs"), help: .hidden) var sentryCACerts: String?
    @Flag(name: .customLong("sentry-debug"), help: .hidden) var sentryDebug = false
    @Flag(name: [.customShort("d"), .customLong("disable-default-exception-handler")], help: .hidden) var noDefaultHandler = false

    /// The refused Python-only options that were given, by their flag.
    private var pythonOnly: [String] {
        var given: [String] = []
        if !path.isEmpty { given.append("--path") }
        if config != nil { given.append("--config") }
        if !exceptionHandler.isEmpty { given.append("--exception-handler") }
        if workerClass != nil { given.append("--worker-class") }
        if jobClass != nil { given.append("--job-class") }
        if queueClass != nil { given.append("--queue-class") }
        if connectionClass != nil { given.append("--connection-class") }
        if sentryDSN != nil { given.append("--sentry-dsn") }
        if sentryCACerts != nil { given.append("--sentry-ca-certs") }
        if sentryDebug { given.append("--sentry-debug") }
        if noDefaultHandler { given.append("--disable-default-exception-handler") }
        return given
    }

    /// RQ's level names, and whether each means verbose or quiet here.
    static let levels = ["DEBUG": (true, false), "INFO": (false, false), "WARNING": (false, true), "ERROR": (false, true), "CRITICAL": (false, true)]

    func validate() throws {
        if let first = pythonOnly.first {
            let reason = first == "--disable-default-exception-handler"
                ? "failed jobs always reach the failed registry here"
                : "it loads Python code or a Python service; this worker runs Swift handlers"
            throw ValidationError("\(first) is a Python RQ option not supported here: \(reason) (docs/operations.md, \"rq worker's options\")")
        }
        if let maxJobs, maxJobs < 1 { throw ValidationError("--max-jobs must be at least 1") }
        if let maxIdleTime, !(1...1_000_000_000).contains(maxIdleTime) { throw ValidationError("--max-idle-time must be 1-1000000000 seconds") }
        guard (-1...RQLimits.maxSeconds).contains(resultsTTL) else { throw ValidationError("--results-ttl must be -1 (forever) to \(RQLimits.maxSeconds)") }
        guard (1...1_000_000_000).contains(workerTTL) else { throw ValidationError("--worker-ttl must be 1-1000000000 seconds") }
        if let jobMonitoringInterval, !(1...1_000_000_000).contains(jobMonitoringInterval) {
            throw ValidationError("--job-monitoring-interval must be 1-1000000000 seconds")
        }
        if let loggingLevel, Self.levels[loggingLevel.uppercased()] == nil {
            throw ValidationError("--logging_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        }
    }

    /// `(verbose, quiet)` for `--logging-level`, or `nil` when not given.
    var logLevel: (verbose: Bool, quiet: Bool)? { loggingLevel.flatMap { Self.levels[$0.uppercased()] } }

    /// The processor's share: `--max-jobs`, `--max-idle-time`, and `--job-monitoring-interval` when
    /// given (each mode keeps its own default otherwise: the native heartbeat key must outlive it).
    func apply(to processor: inout JobProcessorConfiguration) {
        processor.maximumJobs = maxJobs
        processor.maximumIdleTime = maxIdleTime.map { .seconds($0) }
        if let jobMonitoringInterval { processor.jobMonitoringInterval = .seconds(jobMonitoringInterval) }
    }

    /// The RQ driver's share, and the processor's.
    func apply(to settings: inout RQWorkerConfiguration) {
        apply(to: &settings.processor)
        settings.driver.dequeueStrategy = dequeueStrategy
        settings.driver.defaultResultTTL = resultsTTL
        settings.driver.workerTTL = workerTTL
        if let rqVersion { settings.driver.recordVersion = rqVersion }
        // An empty dequeue is where idleness is noticed: wait no longer than the idle limit.
        if let maxIdleTime { settings.driver.dequeueTimeout = min(settings.driver.dequeueTimeout, .seconds(maxIdleTime)) }
    }

    /// Writes the process id to `--pid`'s file, as `rq worker --pid` does.
    func writePID() throws {
        guard let pidFile else { return }
        let path = NSString(string: pidFile).expandingTildeInPath
        do {
            try "\(ProcessInfo.processInfo.processIdentifier)".write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw ValidationError("--pid: cannot write \(pidFile): \(error.localizedDescription)")
        }
    }
}

extension RQDequeueStrategy: ExpressibleByArgument {}
extension RQRecordVersion: ExpressibleByArgument {}
