import AppConfig
import NativeQueue
import RQ

/// The queue-level view of one job, for `GET /jobs/{job_id}` and the sweeper. The job is kept as
/// the queue client read it; how it is shown (JSON, timestamps) is the HTTP API's business.
public struct JobStatusReport: Sendable {
    /// What the queue holds for the job, by queue format.
    public enum Details: Sendable {
        /// The `job:{id}` hash of native mode.
        case native(NativeJob)
        /// The RQ job, and the newest entry of its result stream (`nil` when there is none or it
        /// could not be read).
        case rq(RQJob, latestResult: RQResult?)
    }

    /// The job id.
    public var id: String
    /// The queue format it lives in.
    public var mode: QueueMode
    /// The queue's own status word (`queued`, `started`, `finished`, `failed`, …).
    public var status: String
    /// The job itself.
    public var details: Details

    /// Creates a report.
    public init(id: String, mode: QueueMode, status: String, details: Details) {
        self.id = id
        self.mode = mode
        self.status = status
        self.details = details
    }
}
