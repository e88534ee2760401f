import JobProcessing
import Pickle
import Redis

/// What a Swift callback is called with: RQ passes `(job, connection, result)` to a success
/// callback, `(job, connection, type, value, traceback)` to a failure callback and
/// `(job, connection)` to a stopped callback; here the job, the worker's Redis client, and the
/// return value or the failure.
public struct RQCallbackContext: Sendable {
    /// The job as the worker ran it.
    public let job: RQJob
    /// The worker's Redis client (RQ's `connection`).
    public let redis: RedisClient
    /// The handler's return value (success callbacks).
    public let result: PythonValue?
    /// Why the job failed (failure callbacks).
    public let failure: JobFailure?
}

/// A Swift callback: throwing fails as a raising Python callback does (a success callback's
/// error fails the job; a failure callback's error becomes the recorded failure; a stopped
/// callback's error is logged).
public typealias RQCallback = @Sendable (RQCallbackContext) async throws -> Void
