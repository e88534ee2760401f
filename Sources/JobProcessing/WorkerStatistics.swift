/// Outcome counters of a worker run.
public struct WorkerStatistics: Sendable, Hashable {
    /// Jobs that returned.
    public var finished = 0
    /// Failures that will be retried.
    public var retried = 0
    /// Jobs failed for good: failed, stopped, or unreadable at start.
    public var failed = 0

    /// Creates counters.
    public init(finished: Int = 0, retried: Int = 0, failed: Int = 0) {
        self.finished = finished
        self.retried = retried
        self.failed = failed
    }

    /// Counts one recorded end.
    mutating func count(_ disposition: JobDisposition) {
        switch disposition {
        case .finished: finished += 1
        case .retry: retried += 1
        case .failed, .stopped: failed += 1
        }
    }
}
