import ClientSupport

/// A job failed; `message` becomes the failure text (RQ's `exc_string`, the native `error`).
///
/// ``kind`` is the handler's word on whether running the job again may help; the processor
/// turns it, the job's remaining retries and the queue format's rule for unclassified failures
/// into one ``JobDisposition``.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    /// Whether a retry may succeed.
    public enum Kind: Sendable, Hashable {
        /// A retry may well succeed: a timeout, a 5xx answer, a lost connection, a shutdown.
        case transient
        /// The handler does not know. RQ mode retries it while the job has `retries_left`
        /// (Python RQ retries any exception); native mode does not.
        case unclassified
        /// A retry cannot succeed: bad input, an unreadable file, an unknown row or function.
        case permanent
    }

    /// Python-style exception type name shown first, e.g. `ValueError`.
    public var type: String
    /// The message.
    public var message: String
    /// Whether a retry may succeed. Default: `.unclassified`.
    public var kind: Kind

    /// Creates a failure.
    public init(type: String = "JobError", _ message: String, kind: Kind = .unclassified) {
        self.type = type
        self.message = message
        self.kind = kind
    }

    /// `"<type>: <message>"`, the last line of a Python traceback.
    public var description: String { "\(type): \(message)" }

    /// The failure recorded for a job still running when the worker is shut down (or cancelled).
    public static let shutDown = JobFailure(type: "ShutDownImminentException", "the worker was shut down while the job ran", kind: .transient)

    /// The failure recorded for a job its queue's stop command ended (RQ's `stop-job`).
    public static let stopRequested = JobFailure(type: "StopRequested", "Job stopped by user, work-horse terminated.", kind: .permanent)

    /// The failure recorded for a job a kill command ended (RQ's `kill-horse`): unclassified, so
    /// a format that retries those retries it, as RQ does for a killed work horse.
    public static let killed = JobFailure(type: "Killed", "the job was killed by a kill command", kind: .unclassified)

    /// The failure recorded for a job that ran past `limit`: `Task exceeded maximum timeout value
    /// (N seconds)`, N written as Python writes the job's timeout (`1`, `1.5`).
    public static func timedOut(after limit: Duration) -> JobFailure {
        let seconds = limit.seconds
        let text = seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int64(seconds)) : String(seconds)
        return JobFailure(type: "JobTimeoutException", "Task exceeded maximum timeout value (\(text) seconds)", kind: .transient)
    }
}
