/// The jobs a ``JobQueueDriver/start(_:)`` call started, and how many it failed unread.
public struct JobStarts<Lease: Sendable>: Sendable {
    /// Started jobs, in dequeue order.
    public var jobs: [ClaimedJob<Lease>]
    /// Jobs the driver failed at once because their records could not be read.
    public var failed: Int

    /// Creates a result.
    public init(jobs: [ClaimedJob<Lease>] = [], failed: Int = 0) {
        self.jobs = jobs
        self.failed = failed
    }
}
