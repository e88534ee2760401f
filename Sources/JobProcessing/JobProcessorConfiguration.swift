/// Settings of a ``JobProcessor`` (the queue format's own settings live in its driver's
/// configuration).
public struct JobProcessorConfiguration: Sendable {
    /// Jobs run at once. Default: `1`.
    public var concurrency: Int
    /// Exit once the queue is drained and nothing runs (like `rq worker --burst`). Default: `false`.
    public var burst: Bool
    /// After a graceful shutdown of the processor's service, how long running jobs may take before they are cancelled
    /// and recorded as interrupted (``JobFailure/shutDown``); `nil` waits for them until the
    /// processor's task is cancelled. Default: `.seconds(30)`.
    public var shutdownGrace: Duration?
    /// How often the idle heartbeat runs at most (it also runs on every change of activity).
    /// Default: `.seconds(1)`.
    public var heartbeatInterval: Duration
    /// How often the busy heartbeat of the running jobs runs. Default: `.seconds(30)` (RQ's
    /// `job_monitoring_interval`).
    public var jobMonitoringInterval: Duration
    /// How often ``JobQueueDriver/maintain()`` runs; it also runs once before the first dequeue.
    /// Default: `.seconds(600)` (RQ's `maintenance_interval`).
    public var maintenanceInterval: Duration
    /// How often the job monitor checks deadlines. Default: `.milliseconds(100)`.
    public var monitorTick: Duration
    /// In burst mode, how long to wait before looking again when the queue is empty but not
    /// drained (native retries waiting for their time). Default: `.milliseconds(200)`.
    public var drainPollInterval: Duration
    /// Stop after taking this many jobs, once they ended (`rq worker --max-jobs`); `nil`: no
    /// limit. Default: `nil`.
    public var maximumJobs: Int?
    /// Stop once no job has run for this long (`rq worker --max-idle-time`); `nil`: never.
    /// Checked when a dequeue comes back empty, so the driver's dequeue wait should not be longer.
    /// Default: `nil`.
    public var maximumIdleTime: Duration?

    /// Creates a configuration; see the properties for the defaults.
    public init(
        concurrency: Int = 1, burst: Bool = false, shutdownGrace: Duration? = .seconds(30), heartbeatInterval: Duration = .seconds(1),
        jobMonitoringInterval: Duration = .seconds(30), maintenanceInterval: Duration = .seconds(600),
        monitorTick: Duration = .milliseconds(100), drainPollInterval: Duration = .milliseconds(200)
    ) {
        precondition(concurrency >= 1, "concurrency must be at least 1")
        precondition(monitorTick > .zero && jobMonitoringInterval > .zero && maintenanceInterval > .zero, "intervals must be positive")
        self.concurrency = concurrency
        self.burst = burst
        self.shutdownGrace = shutdownGrace
        self.heartbeatInterval = heartbeatInterval
        self.jobMonitoringInterval = jobMonitoringInterval
        self.maintenanceInterval = maintenanceInterval
        self.monitorTick = monitorTick
        self.drainPollInterval = drainPollInterval
    }
}
