import Synchronization

/// What a driver's companions may ask of the running processor: stop matching jobs (RQ's
/// `stop-job`, `stop-execution`), kill them (`kill-horse`) or stop the worker gracefully (RQ's `shutdown`).
public final class JobProcessorControl: Sendable {
    private let stopJobs: @Sendable (_ jobID: String?, _ executionID: String?) -> Int
    private let shutdown: @Sendable () -> Void
    private let killJobs: @Sendable () -> Int

    init(
        stopJobs: @escaping @Sendable (String?, String?) -> Int, killJobs: @escaping @Sendable () -> Int,
        shutdown: @escaping @Sendable () -> Void
    ) {
        self.stopJobs = stopJobs
        self.killJobs = killJobs
        self.shutdown = shutdown
    }

    /// Kills every running job (RQ's `kill-horse`): each is cancelled and fails with
    /// ``JobFailure/killed`` — retried when it has retries left and the format retries
    /// unclassified failures. Returns how many were running.
    @discardableResult
    public func killRunningJobs() -> Int {
        killJobs()
    }

    /// Stops the running jobs with this job id and/or execution id (`nil` matches any): each is
    /// cancelled and recorded as ``JobDisposition/stopped(_:)``. Returns how many were running.
    @discardableResult
    public func stopJobs(jobID: String? = nil, executionID: String? = nil) -> Int {
        stopJobs(jobID, executionID)
    }

    /// Stops dequeuing; running jobs finish as in a graceful shutdown.
    public func requestShutdown() {
        shutdown()
    }
}
