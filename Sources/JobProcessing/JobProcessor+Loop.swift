import ClientSupport
import Foundation
import Logging
import Pickle
import Synchronization

extension JobProcessor {
    /// Takes jobs while there is room and the worker is not stopping; returns when stopping (after
    /// the running jobs ended: the discarding group waits for them) or, in burst mode, drained.
    func dequeueLoop() async throws {
        let backoff = Backoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1))
        var failures = 0
        // Slots: jobs run as children of a discarding group; each signals `slotFreed` when it
        // ends, so the loop can wait for room without collecting results.
        let (slotFreed, slotSignal) = AsyncStream<Void>.makeStream()
        var slots = slotFreed.makeAsyncIterator()
        defer { slotSignal.finish() }
        let active = ActiveCount()
        let clock = ContinuousClock()
        var nextHeartbeat = clock.now
        var lastActivity: WorkerActivity?
        var taken = 0
        var idleSince: ContinuousClock.Instant?
        try await withTaskExecutorPreference(driver.loopExecutor) {
            try await withThrowingDiscardingTaskGroup { group in
                while !stoppingFlag {
                    try Task.checkCancellation()
                    do {
                        let inFlight = active.value
                        if let limit = configuration.maximumJobs, taken >= limit {
                            // --max-jobs: take no more; leave once the last ones ended.
                            if inFlight == 0 {
                                logger.info("took the maximum number of jobs; stopping", metadata: ["worker.max_jobs": "\(limit)"])
                                return
                            }
                            _ = await slots.next()
                            continue
                        }
                        if inFlight >= configuration.concurrency {
                            _ = await slots.next()  // every slot is busy: wait for a job to end
                            continue
                        }
                        let activity: WorkerActivity = inFlight == 0 ? .idle : .busy
                        if clock.now >= nextHeartbeat || activity != lastActivity {
                            nextHeartbeat = clock.now.advanced(by: configuration.heartbeatInterval)
                            lastActivity = activity
                            let beat = try await driver.heartbeat(activity)
                            for (queue, length) in beat.queueLengths { metrics.queueLength(queue, length) }
                            if beat.paused {
                                if configuration.burst && inFlight == 0 { return }
                                lastActivity = nil  // beat again when the pause is over
                                try await Task.sleep(for: .seconds(1))
                                continue
                            }
                        }
                        let room = min(configuration.concurrency - inFlight, configuration.maximumJobs.map { $0 - taken } ?? Int.max)
                        let asked = clock.now
                        let tickets = try await driver.dequeue(upTo: room, wait: !configuration.burst)
                        guard !tickets.isEmpty else {
                            if let limit = configuration.maximumIdleTime, active.value == 0 {
                                // --max-idle-time: idle since the first empty dequeue with nothing running.
                                let since = idleSince ?? asked
                                idleSince = since
                                if clock.now - since >= limit {
                                    logger.info("idle for the maximum idle time; stopping", metadata: ["worker.max_idle_time": "\(limit)"])
                                    return
                                }
                            } else {
                                idleSince = nil
                            }
                            guard configuration.burst else { continue }
                            // A burst worker leaves once nothing runs and the queue is drained
                            // (running jobs may release dependents or retry: look again after each).
                            if active.value > 0 {
                                _ = await slots.next()
                            } else if try await driver.isDrained() {
                                return
                            } else {
                                try await Task.sleep(for: configuration.drainPollInterval)
                            }
                            continue
                        }
                        failures = 0
                        idleSince = nil
                        let starts = try await driver.start(tickets)
                        taken += starts.jobs.count + starts.failed
                        if starts.failed > 0 { counters.withLock { $0.failed += starts.failed } }
                        for job in starts.jobs {
                            active.add(1)
                            lastActivity = .busy
                            group.addTask(executorPreference: globalConcurrentExecutor) {
                                defer {
                                    active.add(-1)
                                    slotSignal.yield()
                                }
                                await self.perform(job)
                            }
                        }
                    } catch let error where !(error is CancellationError) && driver.isRecoverable(error) {
                        // The server went away (or refuses for now): the clients reconnect by
                        // themselves; wait and carry on rather than let the worker die.
                        let delay = backoff.delay(afterAttempt: failures)
                        failures += 1
                        logger.warning("queue unavailable; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                        try await Task.sleep(for: delay)
                    }
                }
                // Stopping: the group waits for the running jobs; cancellation cuts them short.
            }
        }
    }

    /// Runs one job under its deadline and records its end.
    func perform(_ job: ClaimedJob<Driver.Lease>) async {
        let clock = ContinuousClock()
        let start = clock.now
        var metadata: Logger.Metadata = ["job.id": "\(job.context.jobID)", "job.function": "\(job.context.functionName)"]
        metadata.merge(job.logMetadata) { $1 }
        logger.info("job started", metadata: metadata)
        metrics.jobStarted()
        defer { metrics.jobLeft() }
        var outcome: Result<PythonValue, JobFailure>
        var stopRequested = false
        if let rejection = job.rejection {
            logger.warning("job cannot run; failing it", metadata: metadata.merging(["problem": "\(rejection.message)"]) { $1 })
            outcome = .failure(rejection)
        } else if let handler = handlers.handler(for: job.context.functionName) {
            // Unstructured on purpose: the monitor (deadline), a stop command and the grace
            // watchdog cancel this one job through its handle; cancelling the processor cancels
            // it too (the cancellation handler below).
            let context = job.context
            let task = Task { await Self.call(handler, context) }
            let key = running.add(job, task: task, deadline: job.timeout.map { start.advanced(by: $0) })
            outcome = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
            let entry = running.remove(key)
            stopRequested = entry?.stopRequested ?? false
            if entry?.timedOut == true, let limit = job.timeout { outcome = .failure(.timedOut(after: limit)) }
            if entry?.killed == true { outcome = .failure(.killed) }
        } else {
            outcome = .failure(JobHandlerRegistry.unknownFunction(job.context.functionName))
        }
        var disposition = JobDisposition.decide(
            outcome, stopRequested: stopRequested, retriesLeft: job.retriesLeft, retriesUnclassified: driver.retriesUnclassifiedFailures)
        let seconds = (clock.now - start).seconds
        do {
            // An unstructured task, awaited at once: the end is recorded even if a shutdown
            // cancels this task now, so a finished job never looks abandoned.
            disposition = try await Task { [disposition] in try await self.driver.finish(job, as: disposition, endedAt: Date()) }.value
            counters.withLock { $0.count(disposition) }
            metrics.ended(outcome: disposition.label, seconds: seconds)
            metadata["job.outcome"] = "\(disposition.label)"
            metadata["job.duration_ms"] = "\(Int((seconds * 1000).rounded()))"
            if case .retry(let failure) = disposition { metadata["job.error"] = "\(failure.description.prefix(200))" }
            if case .failed(let failure) = disposition { metadata["job.error"] = "\(failure.description.prefix(200))" }
            logger.info("job ended", metadata: metadata)
        } catch {
            // The driver's own recovery (reaper, maintenance) finds the job later.
            logger.error("could not record job outcome", metadata: ["job.id": "\(job.context.jobID)", "error": "\(error)"])
        }
    }

    /// Runs a handler, mapping what it throws to a ``JobFailure`` (a cancellation is a shutdown
    /// unless the caller knows better: a deadline or a stop command).
    static func call(_ handler: JobHandler, _ context: JobContext) async -> Result<PythonValue, JobFailure> {
        do {
            return .success(try await handler(context))
        } catch let failure as JobFailure {
            return .failure(failure)
        } catch is CancellationError {
            return .failure(.shutDown)
        } catch {
            return .failure(JobFailure(type: String(describing: type(of: error)), "\(error)"))
        }
    }
}

/// Jobs started and not yet recorded, shared by the loop and the job children.
final class ActiveCount: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    func add(_ delta: Int) { count.add(delta, ordering: .relaxed) }
}
