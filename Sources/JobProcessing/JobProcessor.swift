import ClientSupport
import Foundation
import Logging
import Pickle
import ServiceLifecycle
import Synchronization

/// The job-processing core: runs the jobs of one queue format, through its ``JobQueueDriver``,
/// with up to ``JobProcessorConfiguration/concurrency`` at once.
///
/// It owns the slots, each job's timeout, stop requests, the retry decision
/// (``JobDisposition/decide(_:stopRequested:retriesLeft:retriesUnclassified:)``), statistics,
/// metrics and one shutdown mechanism: a graceful-shutdown request stops dequeuing, running jobs
/// get ``JobProcessorConfiguration/shutdownGrace`` to finish, then they are cancelled and
/// recorded as interrupted (``JobFailure/shutDown``); cancelling the processor's task cuts them
/// at once, recorded the same way. Either way the driver deregisters last.
///
/// Tasks: the dequeue loop (on the driver's ``JobQueueDriver/loopExecutor``), one child per
/// running job, the job monitor (deadlines, busy heartbeats, maintenance), the grace watchdog and
/// the driver's companions.
public final class JobProcessor<Driver: JobQueueDriver>: Service, Sendable {
    /// The queue format.
    public let driver: Driver
    let handlers: JobHandlerRegistry
    let configuration: JobProcessorConfiguration
    let logger: Logger
    private let stopping = Atomic<Bool>(false)
    let counters = Mutex(WorkerStatistics())
    let metrics: WorkerMetrics
    let running = RunningJobs<Driver.Lease>()

    /// Creates a processor.
    public init(driver: Driver, handlers: JobHandlerRegistry, configuration: JobProcessorConfiguration, logger: Logger) {
        self.driver = driver
        self.handlers = handlers
        self.configuration = configuration
        self.logger = logger
        self.metrics = WorkerMetrics(mode: driver.metricsMode)
    }

    /// Counters so far.
    public var statistics: WorkerStatistics { counters.withLock { $0 } }

    var stoppingFlag: Bool { stopping.load(ordering: .relaxed) }

    /// Stops dequeuing, as a graceful shutdown does (running jobs finish).
    public func requestStop() {
        stopping.store(true, ordering: .relaxed)
    }

    /// Runs until a graceful shutdown (or, in burst mode, until the queue is drained).
    public func run() async throws {
        try await driver.register()
        var failure: (any Error)?
        do {
            try await withGracefulShutdownHandler {
                try await self.runParts()
            } onGracefulShutdown: {
                self.requestStop()
            }
        } catch {
            failure = error
        }
        // An unstructured task, awaited at once: a cancelled (cold-stopped) worker still
        // deregisters, and deregistering must not inherit the cancellation.
        do {
            try await Task { try await self.driver.deregister() }.value
        } catch where failure != nil {
            // The loop's error is the one worth reporting.
        }
        if let failure { throw failure }
    }

    private struct LoopEnded: Error {}

    /// The loop, with the monitor, the watchdog and the companions beside it.
    private func runParts() async throws {
        await driver.maintain()
        let control = JobProcessorControl(
            stopJobs: { [running] jobID, executionID in
                running.stop { job in
                    (jobID == nil || job.context.jobID == jobID) && (executionID == nil || job.executionID == executionID)
                }
            },
            killJobs: { [running] in running.kill { _ in true } },
            shutdown: { [weak self] in self?.requestStop() })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.driver.runCompanions(control) }
            group.addTask { await self.monitorJobs() }
            if let grace = configuration.shutdownGrace {
                group.addTask { await self.watchGrace(grace) }
            }
            try await self.dequeueLoop()
            // The companions end with the loop; their errors (a cancellation) are not the worker's.
            group.cancelAll()
        }
    }

    /// After a graceful-shutdown request (SIGTERM through the service group), waits `grace`, then
    /// cancels the jobs still running. A stop asked by the queue (RQ's `shutdown` command) or by
    /// ``requestStop()`` is warm and waits for the jobs, as RQ's does.
    private func watchGrace(_ grace: Duration) async {
        do {
            try await gracefulShutdown()
            try await Task.sleep(for: grace)
        } catch {
            return
        }
        guard running.count > 0 else { return }
        logger.warning("shutdown grace expired; cancelling running jobs", metadata: ["worker.name": "\(driver.workerName)"])
        running.cancelAll()
    }

    /// One task for all running jobs: cancels those past their deadline, sends the busy
    /// heartbeats every `jobMonitoringInterval` and runs the driver's maintenance.
    private func monitorJobs() async {
        let clock = ContinuousClock()
        var nextHeartbeat = clock.now.advanced(by: configuration.jobMonitoringInterval)
        var nextMaintenance = clock.now.advanced(by: configuration.maintenanceInterval)
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.monitorTick) } catch { return }
            let now = clock.now
            running.cancelExpired(now: now)
            if now >= nextHeartbeat {
                nextHeartbeat = now.advanced(by: configuration.jobMonitoringInterval)
                let jobs = running.jobs
                if !jobs.isEmpty { await driver.heartbeat(running: jobs) }
            }
            if now >= nextMaintenance {
                nextMaintenance = now.advanced(by: configuration.maintenanceInterval)
                await driver.maintain()
            }
        }
    }
}
