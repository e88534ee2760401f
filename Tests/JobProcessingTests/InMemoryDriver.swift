import Foundation
import JobProcessing
import Logging
import Pickle
import Synchronization

/// A queue format that lives in memory: the driver the processor core's unit tests run against.
/// Jobs are `(function, args)` with a retry budget; every call the processor makes is recorded.
final class InMemoryDriver: JobQueueDriver, Sendable {
    struct QueuedJob: Sendable {
        var id: String
        var function: String
        var args: [PythonValue] = []
        var retriesLeft = 0
        var timeout: Duration? = nil
        var rejection: JobFailure? = nil
        var runs = 0
    }

    struct Ended: Sendable {
        var id: String
        var label: String
        var failure: JobFailure?
        var value: PythonValue?
    }

    struct State {
        var queue: [QueuedJob] = []
        var ended: [Ended] = []
        var registered = false
        var deregistered = 0
        var paused = false
        var dequeueCalls = 0
        var busyHeartbeats = 0
        var maintenanceRuns = 0
        var failNextDequeues: [any Error & Sendable] = []
        var control: JobProcessorControl?
        /// `finish` calls that ran inside a cancelled task (must stay 0).
        var finishesUnderCancellation = 0
    }

    let state = Mutex(State())
    let retriesUnclassifiedFailures: Bool
    let workerName = "in-memory"
    let metricsMode = "memory"
    var loopExecutor: (any TaskExecutor)? { nil }

    init(retriesUnclassified: Bool = true) {
        retriesUnclassifiedFailures = retriesUnclassified
    }

    /// An error the loop waits out (the in-memory "server went away").
    struct Outage: Error {}
    /// An error that ends the worker.
    struct Fatal: Error {}

    func enqueue(_ job: QueuedJob) { state.withLock { $0.queue.append(job) } }
    var ended: [Ended] { state.withLock { $0.ended } }
    func ended(_ id: String) -> [Ended] { ended.filter { $0.id == id } }

    func register() async throws { state.withLock { $0.registered = true } }

    func heartbeat(_ activity: WorkerActivity) async throws -> DriverHeartbeat {
        state.withLock { DriverHeartbeat(paused: $0.paused, queueLengths: ["memory": $0.queue.count]) }
    }

    func dequeue(upTo limit: Int, wait: Bool) async throws -> [QueuedJob] {
        let taken = try state.withLock { state -> [QueuedJob] in
            state.dequeueCalls += 1
            if !state.failNextDequeues.isEmpty { throw state.failNextDequeues.removeFirst() }
            let count = min(limit, state.queue.count)
            defer { state.queue.removeFirst(count) }
            return Array(state.queue.prefix(count))
        }
        // An empty blocking dequeue waits a little, as a real one would.
        if taken.isEmpty && wait { try await Task.sleep(for: .milliseconds(20)) }
        return taken
    }

    func start(_ tickets: [QueuedJob]) async throws -> JobStarts<QueuedJob> {
        JobStarts(jobs: tickets.map { ticket in
            var job = ticket
            job.runs += 1
            return ClaimedJob(
                lease: job, context: JobContext(jobID: job.id, functionName: job.function, args: job.args, kwargs: []),
                executionID: "\(job.id)#\(job.runs)", retriesLeft: job.retriesLeft, timeout: job.timeout, rejection: job.rejection)
        })
    }

    func heartbeat(running: [ClaimedJob<QueuedJob>]) async { state.withLock { $0.busyHeartbeats += 1 } }

    func finish(_ job: ClaimedJob<QueuedJob>, as disposition: JobDisposition, endedAt: Date) async throws -> JobDisposition {
        let cancelled = Task.isCancelled
        state.withLock { state in
            if cancelled { state.finishesUnderCancellation += 1 }
            switch disposition {
            case .finished(let value):
                state.ended.append(Ended(id: job.context.jobID, label: disposition.label, value: value))
            case .retry(let failure):
                state.ended.append(Ended(id: job.context.jobID, label: disposition.label, failure: failure))
                var again = job.lease
                again.retriesLeft -= 1
                state.queue.append(again)
            case .failed(let failure), .stopped(let failure):
                state.ended.append(Ended(id: job.context.jobID, label: disposition.label, failure: failure))
            }
        }
        return disposition
    }

    func maintain() async { state.withLock { $0.maintenanceRuns += 1 } }
    func isDrained() async throws -> Bool { state.withLock { $0.queue.isEmpty } }
    func isRecoverable(_ error: any Error) -> Bool { error is Outage }

    func runCompanions(_ control: JobProcessorControl) async throws {
        state.withLock { $0.control = control }
        // Lives until the loop ends, as real companions do.
        while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
    }

    func deregister() async throws { state.withLock { $0.deregistered += 1 } }
}
