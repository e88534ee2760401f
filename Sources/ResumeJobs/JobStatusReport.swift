import AppConfig

/// The queue-level view of one job, for `GET /jobs/{job_id}`.
public struct JobStatusReport: Sendable {
    /// The job id.
    public var id: String
    /// The queue format it lives in.
    public var mode: QueueMode
    /// The queue's own status word (`queued`, `started`, `finished`, `failed`, …).
    public var status: String
    /// Everything else, as JSON members (timestamps, attempts, error, result).
    public var details: [(String, JSONValue)]
}
