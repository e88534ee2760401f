import Logging

/// A started job as the processor runs it: the call, its limits, and the driver's lease.
public struct ClaimedJob<Lease: Sendable>: Sendable {
    /// What the driver keeps to record the end.
    public var lease: Lease
    /// The call.
    public var context: JobContext
    /// An id unique to this run of the job (RQ's execution id), matched by stop commands.
    public var executionID: String
    /// How many more times the job may run after a retryable failure (0: none).
    public var retriesLeft: Int
    /// Cancelled and failed as a timeout after this long; `nil`: no limit.
    public var timeout: Duration?
    /// Set when the job must not run (a field out of range): it is failed with this at once.
    public var rejection: JobFailure?
    /// Extra log metadata for its start and end lines (the queue, the attempt).
    public var logMetadata: Logger.Metadata

    /// Creates a claimed job.
    public init(
        lease: Lease, context: JobContext, executionID: String, retriesLeft: Int, timeout: Duration?,
        rejection: JobFailure? = nil, logMetadata: Logger.Metadata = [:]
    ) {
        self.lease = lease
        self.context = context
        self.executionID = executionID
        self.retriesLeft = retriesLeft
        self.timeout = timeout
        self.rejection = rejection
        self.logMetadata = logMetadata
    }
}
