import Foundation

/// A queue format as the ``JobProcessor`` sees it: how a worker registers, heartbeats, takes jobs,
/// starts them, records their ends, keeps its queue healthy and leaves.
///
/// The processor owns everything that is not a wire format — slots, timeouts, stop requests,
/// graceful shutdown, retry decisions, statistics and metrics — and calls the driver for
/// everything that is. A driver knows nothing of handlers, tasks or clocks beyond its own
/// records. The drivers: `NativeQueueDriver` (module `NativeQueue`, the seed's list format) and
/// `RQWorkerDriver` (module `RQ`, Python RQ's wire format); tests use an in-memory one.
///
/// Call order: ``register()`` once, then ``maintain()`` once, then any mix of
/// ``heartbeat(_:)``, ``dequeue(upTo:wait:)``, ``start(_:)``, ``finish(_:as:endedAt:)``,
/// ``heartbeat(running:)`` and ``maintain()`` (from two tasks: the dequeue loop and the job
/// monitor) while ``runCompanions(_:)`` runs beside them, and ``deregister()`` once at the end —
/// also after a failure or a cancellation.
public protocol JobQueueDriver: Sendable {
    /// What ``dequeue(upTo:wait:)`` hands over: an id taken off the queue, not yet started.
    associatedtype Ticket: Sendable
    /// What the driver keeps about a started job until it is finished.
    associatedtype Lease: Sendable

    /// The worker's name, for logs.
    var workerName: String { get }
    /// The `mode` label of the worker's metrics (`native`, `rq`).
    var metricsMode: String { get }
    /// Whether a failure of kind ``JobFailure/Kind/unclassified`` is retried (while the job has
    /// retries left): RQ retries any exception, the native queue only transient ones.
    var retriesUnclassifiedFailures: Bool { get }
    /// The executor the dequeue loop prefers (a Redis connection's own thread, so its blocking
    /// calls need no hop), or `nil`. Read after ``register()``.
    var loopExecutor: (any TaskExecutor)? { get }

    /// Announces the worker (RQ: the worker hash and sets; native: its heartbeat key).
    func register() async throws
    /// The idle heartbeat, at most once per ``JobProcessorConfiguration/heartbeatInterval`` and on
    /// every change of `activity`; the answer may pause dequeuing (RQ's `rq:suspended`).
    func heartbeat(_ activity: WorkerActivity) async throws -> DriverHeartbeat
    /// Takes up to `limit` jobs off the queue; with `wait`, blocks a while for the first one.
    /// Empty when nothing is queued.
    func dequeue(upTo limit: Int, wait: Bool) async throws -> [Ticket]
    /// Marks taken jobs started and reads them. A ticket whose job is gone is dropped; one that
    /// cannot be read is failed by the driver with the reason and counted in ``JobStarts/failed``.
    func start(_ tickets: [Ticket]) async throws -> JobStarts<Lease>
    /// The busy heartbeat of the jobs running now, every
    /// ``JobProcessorConfiguration/jobMonitoringInterval``; errors are the driver's to log.
    func heartbeat(running: [ClaimedJob<Lease>]) async
    /// Records a job's end as `disposition`. Called outside any cancellation, so a shutdown never
    /// loses an outcome; the driver retries its own transient errors as long as it sees fit.
    /// Returns what was recorded: `disposition`, or what the format made of it (RQ: a success
    /// callback that fails turns a finish into a failure).
    func finish(_ job: ClaimedJob<Lease>, as disposition: JobDisposition, endedAt: Date) async throws -> JobDisposition
    /// The queue's housekeeping (abandoned jobs, due retries, dead workers), once before the first
    /// dequeue and then every ``JobProcessorConfiguration/maintenanceInterval``; errors are the
    /// driver's to log.
    func maintain() async
    /// Burst mode, nothing dequeued and nothing running: whether the queue is really done (the
    /// native queue also waits for its delayed retries).
    func isDrained() async throws -> Bool
    /// Whether the dequeue loop should wait and try again after `error` (the server went away)
    /// rather than end the worker with it.
    func isRecoverable(_ error: any Error) -> Bool
    /// Long-lived extras beside the loop (RQ: the command channel, the scheduler, the
    /// vanished-worker check), cancelled when the loop ends. `control` stops jobs or the worker.
    func runCompanions(_ control: JobProcessorControl) async throws
    /// Takes the worker out of the queue's records; unfinished jobs go back to the queue.
    func deregister() async throws
}
