import Foundation
import JobProcessing
import Logging
import Pickle
import ServiceLifecycle
import Synchronization
import Testing

/// The processor core against the in-memory driver: no Redis, no queue format.
@Suite("Job processor core", .timeLimit(.minutes(1)))
struct JobProcessorTests {
    static let logger = Logger(label: "job-processor-tests") { _ in SwiftLogNoOpLogHandler() }

    /// Handlers that record how many run at once.
    final class Probe: Sendable {
        let state = Mutex((running: 0, peak: 0))
        var peak: Int { state.withLock { $0.peak } }

        func registry() -> JobHandlerRegistry {
            var registry = JobHandlerRegistry()
            registry.register("ok") { context in context.args.first ?? .none }
            registry.register("sleep") { context in
                self.state.withLock { $0.running += 1; $0.peak = max($0.peak, $0.running) }
                defer { self.state.withLock { $0.running -= 1 } }
                let milliseconds = context.args.first?.intValue ?? 0
                try await Task.sleep(for: .milliseconds(milliseconds))
                return .int(milliseconds)
            }
            registry.register("unclassified") { _ in throw JobFailure(type: "ValueError", "no luck") }
            registry.register("transient") { _ in throw JobFailure(type: "ConnectionError", "try later", kind: .transient) }
            registry.register("permanent") { _ in throw JobFailure(type: "ValueError", "never", kind: .permanent) }
            registry.register("untyped") { _ in throw CocoaError(.fileNoSuchFile) }
            return registry
        }
    }

    private func processor(
        _ driver: InMemoryDriver, _ probe: Probe = Probe(), concurrency: Int = 2, burst: Bool = true, grace: Duration? = .seconds(5)
    ) -> JobProcessor<InMemoryDriver> {
        JobProcessor(
            driver: driver, handlers: probe.registry(),
            configuration: JobProcessorConfiguration(
                concurrency: concurrency, burst: burst, shutdownGrace: grace, heartbeatInterval: .milliseconds(50),
                jobMonitoringInterval: .milliseconds(50), maintenanceInterval: .milliseconds(100), monitorTick: .milliseconds(10),
                drainPollInterval: .milliseconds(10)),
            logger: Self.logger)
    }

    /// Waits up to `limit` for `condition`, polling.
    private func waitUntil(_ limit: Duration, _ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: limit)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func runsNoMoreThanTheConcurrencyLimitAndFillsIt() async throws {
        let driver = InMemoryDriver()
        for index in 0..<12 { driver.enqueue(.init(id: "j\(index)", function: "sleep", args: [.int(40)])) }
        let probe = Probe()
        let worker = processor(driver, probe, concurrency: 3)
        try await worker.run()
        #expect(probe.peak == 3)
        #expect(driver.ended.count == 12 && driver.ended.allSatisfy { $0.label == "finished" })
        #expect(worker.statistics == WorkerStatistics(finished: 12, retried: 0, failed: 0))
        let state = driver.state.withLock { $0 }
        #expect(state.registered && state.deregistered == 1 && state.finishesUnderCancellation == 0)
        #expect(state.maintenanceRuns >= 1)  // once before the first dequeue
    }

    @Test func aJobPastItsTimeoutIsCancelledAndFailedAsATimeout() async throws {
        let driver = InMemoryDriver()
        driver.enqueue(.init(id: "slow", function: "sleep", args: [.int(10_000)], retriesLeft: 1, timeout: .milliseconds(50)))
        driver.enqueue(.init(id: "quick", function: "sleep", args: [.int(1)], timeout: .seconds(5)))
        let worker = processor(driver)
        try await worker.run()
        let slow = driver.ended("slow")
        #expect(slow.map(\.label) == ["retried", "failed"])  // a timeout is transient: retried once, then failed
        #expect(slow.allSatisfy { $0.failure?.type == "JobTimeoutException" })
        // Python's words, with the timeout as Python writes the job's number.
        #expect(slow.first?.failure?.message == "Task exceeded maximum timeout value (0.05 seconds)")
        #expect(JobFailure.timedOut(after: .seconds(1)).message == "Task exceeded maximum timeout value (1 seconds)")
        #expect(driver.ended("quick").map(\.label) == ["finished"])
        #expect(worker.statistics == WorkerStatistics(finished: 1, retried: 1, failed: 1))
    }

    @Test(arguments: [true, false])
    func retryDecisionFollowsTheFailureKind(retriesUnclassified: Bool) async throws {
        let driver = InMemoryDriver(retriesUnclassified: retriesUnclassified)
        for function in ["unclassified", "transient", "permanent", "untyped"] {
            driver.enqueue(.init(id: function, function: function, retriesLeft: 2))
        }
        driver.enqueue(.init(id: "none-left", function: "transient", retriesLeft: 0))
        driver.enqueue(.init(id: "rejected", function: "ok", retriesLeft: 2, rejection: JobFailure(type: "InvalidJobField", "timeout out of range", kind: .permanent)))
        driver.enqueue(.init(id: "unknown", function: "no.such.function", retriesLeft: 2))
        try await processor(driver).run()
        let retried = ["retried", "retried", "failed"]
        #expect(driver.ended("transient").map(\.label) == retried)
        #expect(driver.ended("unclassified").map(\.label) == (retriesUnclassified ? retried : ["failed"]))
        #expect(driver.ended("untyped").map(\.label) == (retriesUnclassified ? retried : ["failed"]))
        #expect(driver.ended("permanent").map(\.label) == ["failed"])
        #expect(driver.ended("none-left").map(\.label) == ["failed"])
        #expect(driver.ended("rejected").map(\.label) == ["failed"])
        #expect(driver.ended("rejected").first?.failure?.type == "InvalidJobField")
        // An unknown function is unclassified, as Python's import error: RQ's Retry applies.
        #expect(driver.ended("unknown").map(\.label) == (retriesUnclassified ? retried : ["failed"]))
        #expect(driver.ended("unknown").first?.failure?.type == "UnknownFunctionError")
        #expect(driver.ended("untyped").first?.failure?.type == "CocoaError")
    }

    @Test func decideIsOneRuleForEveryKind() {
        let cases: [(JobFailure.Kind, Int, Bool, String)] = [
            (.transient, 1, false, "retried"), (.transient, 0, true, "failed"),
            (.unclassified, 1, true, "retried"), (.unclassified, 1, false, "failed"),
            (.permanent, 5, true, "failed"),
        ]
        for (kind, left, unclassified, label) in cases {
            let disposition = JobDisposition.decide(.failure(JobFailure("x", kind: kind)), stopRequested: false, retriesLeft: left,
                                                    retriesUnclassified: unclassified)
            #expect(disposition.label == label, "\(kind), \(left) left, unclassified retried: \(unclassified)")
        }
        #expect(JobDisposition.decide(.success(.int(1)), stopRequested: true, retriesLeft: 3, retriesUnclassified: true).label == "stopped")
        #expect(JobDisposition.decide(.success(.int(1)), stopRequested: false, retriesLeft: 0, retriesUnclassified: false).label == "finished")
    }

    @Test func aStopRequestEndsOnlyTheMatchingJobAsStopped() async throws {
        let driver = InMemoryDriver()
        driver.enqueue(.init(id: "victim", function: "sleep", args: [.int(10_000)], retriesLeft: 3))
        driver.enqueue(.init(id: "bystander", function: "sleep", args: [.int(300)]))
        let probe = Probe()
        let worker = processor(driver, probe)
        let run = Task { try await worker.run() }
        try await waitUntil(.seconds(10), "both jobs to run") { probe.state.withLock { $0.running } == 2 }
        let control = try #require(driver.state.withLock { $0.control })
        #expect(control.stopJobs(jobID: "nobody") == 0)
        #expect(control.stopJobs(executionID: "victim#1") == 1)
        try await run.value
        #expect(driver.ended("victim").map(\.label) == ["stopped"])  // never retried, despite retries left
        #expect(driver.ended("victim").first?.failure?.type == "StopRequested")
        #expect(driver.ended("bystander").map(\.label) == ["finished"])
        #expect(worker.statistics == WorkerStatistics(finished: 1, retried: 0, failed: 1))
    }

    @Test(arguments: [true, false])
    func aKillFailsEveryRunningJobAndItsRetryApplies(retriesUnclassified: Bool) async throws {
        let driver = InMemoryDriver(retriesUnclassified: retriesUnclassified)
        driver.enqueue(.init(id: "first", function: "sleep", args: [.int(10_000)], retriesLeft: 1))
        driver.enqueue(.init(id: "second", function: "sleep", args: [.int(10_000)]))
        let probe = Probe()
        let worker = processor(driver, probe)
        let run = Task { try await worker.run() }
        try await waitUntil(.seconds(10), "both jobs to run") { probe.state.withLock { $0.running } == 2 }
        let control = try #require(driver.state.withLock { $0.control })
        #expect(control.killRunningJobs() == 2)
        if retriesUnclassified {
            // The retried one runs again: kill it once more (it has no retries left now).
            try await waitUntil(.seconds(10), "the retried job to run again") {
                driver.ended("first").count == 1 && driver.ended("second").count == 1 && probe.state.withLock { $0.running } == 1
            }
            #expect(control.killRunningJobs() == 1)
        }
        try await run.value
        #expect(driver.ended("first").map(\.label) == (retriesUnclassified ? ["retried", "failed"] : ["failed"]))
        #expect(driver.ended("second").map(\.label) == ["failed"])
        #expect(driver.ended("second").first?.failure?.type == JobFailure.killed.type)
    }

    @Test func gracefulShutdownLetsRunningJobsFinishAndTakesNoMore() async throws {
        let driver = InMemoryDriver()
        driver.enqueue(.init(id: "running", function: "sleep", args: [.int(300)]))
        let probe = Probe()
        let worker = processor(driver, probe, concurrency: 1, burst: false)
        let group = ServiceGroup(services: [worker], gracefulShutdownSignals: [], logger: Self.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await waitUntil(.seconds(10), "the job to run") { probe.state.withLock { $0.running } == 1 }
            driver.enqueue(.init(id: "waiting", function: "ok"))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(driver.ended.map(\.id) == ["running"])
        #expect(driver.ended("running").first?.label == "finished")
        #expect(driver.state.withLock { $0.queue.map(\.id) } == ["waiting"])  // left on the queue
        #expect(driver.state.withLock { $0.deregistered } == 1)
    }

    @Test func theGracePeriodRunningOutCancelsJobsAndRecordsThemAsInterrupted() async throws {
        let driver = InMemoryDriver()
        driver.enqueue(.init(id: "long", function: "sleep", args: [.int(30_000)], retriesLeft: 1))
        driver.enqueue(.init(id: "last-try", function: "sleep", args: [.int(30_000)], retriesLeft: 0))
        let probe = Probe()
        let worker = processor(driver, probe, burst: false, grace: .milliseconds(200))
        let group = ServiceGroup(services: [worker], gracefulShutdownSignals: [], logger: Self.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await waitUntil(.seconds(10), "both jobs to run") { probe.state.withLock { $0.running } == 2 }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(driver.ended("long").map(\.label) == ["retried"])  // interrupted is transient
        #expect(driver.ended("last-try").map(\.label) == ["failed"])
        #expect(driver.ended.allSatisfy { $0.failure?.type == "ShutDownImminentException" })
        #expect(driver.state.withLock { $0.finishesUnderCancellation } == 0)
        #expect(worker.statistics == WorkerStatistics(finished: 0, retried: 1, failed: 1))
    }

    @Test func aStopAskedByTheQueueIsWarmAndOutlastsTheGrace() async throws {
        // RQ's `shutdown` command: no more dequeues, the running job finishes even past the grace.
        let driver = InMemoryDriver()
        driver.enqueue(.init(id: "running", function: "sleep", args: [.int(400)]))
        let probe = Probe()
        let worker = processor(driver, probe, concurrency: 1, burst: false, grace: .milliseconds(50))
        let run = Task { try await worker.run() }
        try await waitUntil(.seconds(10), "the job to run") { probe.state.withLock { $0.running } == 1 }
        driver.enqueue(.init(id: "waiting", function: "ok"))
        try #require(driver.state.withLock { $0.control }).requestShutdown()
        try await run.value
        #expect(driver.ended.map(\.label) == ["finished"])
        #expect(driver.state.withLock { $0.queue.map(\.id) } == ["waiting"])
    }

    @Test func cancellingTheProcessorRecordsRunningJobsAndDeregisters() async throws {
        let driver = InMemoryDriver()
        driver.enqueue(.init(id: "long", function: "sleep", args: [.int(30_000)]))
        let probe = Probe()
        let worker = processor(driver, probe, burst: false, grace: nil)
        let run = Task { try await worker.run() }
        try await waitUntil(.seconds(10), "the job to run") { probe.state.withLock { $0.running } == 1 }
        run.cancel()
        _ = await run.result
        #expect(driver.ended("long").map(\.label) == ["failed"])
        #expect(driver.ended("long").first?.failure?.type == "ShutDownImminentException")
        let state = driver.state.withLock { $0 }
        #expect(state.deregistered == 1 && state.finishesUnderCancellation == 0)
    }

    @Test func outagesAreWaitedOutAndOtherErrorsEndTheWorkerAfterDeregistering() async throws {
        let driver = InMemoryDriver()
        driver.state.withLock { $0.failNextDequeues = [InMemoryDriver.Outage(), InMemoryDriver.Outage()] }
        driver.enqueue(.init(id: "after-outage", function: "ok", args: [.int(7)]))
        try await processor(driver).run()
        #expect(driver.ended("after-outage").first?.value == .int(7))

        let failing = InMemoryDriver()
        failing.state.withLock { $0.failNextDequeues = [InMemoryDriver.Fatal()] }
        await #expect(throws: InMemoryDriver.Fatal.self) { try await processor(failing).run() }
        #expect(failing.state.withLock { $0.deregistered } == 1)
    }

    @Test func aPausedQueueIsNotDequeuedAndABurstWorkerLeaves() async throws {
        let driver = InMemoryDriver()
        driver.state.withLock { $0.paused = true }
        driver.enqueue(.init(id: "held", function: "ok"))
        try await processor(driver).run()
        #expect(driver.ended.isEmpty)
        #expect(driver.state.withLock { $0.dequeueCalls } == 0)
    }

    @Test func busyHeartbeatsAndMaintenanceRunWhileEverySlotIsBusy() async throws {
        let driver = InMemoryDriver()
        driver.enqueue(.init(id: "long", function: "sleep", args: [.int(400)]))
        try await processor(driver, concurrency: 1).run()
        let state = driver.state.withLock { $0 }
        #expect(state.busyHeartbeats >= 2)
        #expect(state.maintenanceRuns >= 2)
    }
}
