import Pickle

/// How a job's run ends, decided by the processor and recorded by the driver.
public enum JobDisposition: Sendable {
    /// The handler returned this value.
    case finished(PythonValue)
    /// The handler failed and the job runs again later (it had retries left).
    case retry(JobFailure)
    /// The handler failed for good (RQ's failed registry, the native dead-letter list).
    case failed(JobFailure)
    /// A stop command ended the job (RQ's `stopped`); never retried.
    case stopped(JobFailure)

    /// The one retry rule of both queue formats: a stopped job is stopped; a success is finished;
    /// a failure is retried when the job has retries left and its kind allows it — transient
    /// always, unclassified when the format retries those (RQ), permanent never.
    public static func decide(
        _ outcome: Result<PythonValue, JobFailure>, stopRequested: Bool, retriesLeft: Int, retriesUnclassified: Bool
    ) -> JobDisposition {
        if stopRequested { return .stopped(.stopRequested) }
        switch outcome {
        case .success(let value):
            return .finished(value)
        case .failure(let failure):
            let retryable: Bool
            switch failure.kind {
            case .transient: retryable = true
            case .unclassified: retryable = retriesUnclassified
            case .permanent: retryable = false
            }
            return retryable && retriesLeft > 0 ? .retry(failure) : .failed(failure)
        }
    }

    /// The metrics and log label: `finished`, `retried`, `failed` or `stopped`.
    public var label: String {
        switch self {
        case .finished: "finished"
        case .retry: "retried"
        case .failed: "failed"
        case .stopped: "stopped"
        }
    }
}
