/// What the worker is doing, as the idle heartbeat reports it.
public enum WorkerActivity: String, Sendable, Hashable {
    /// No job is running.
    case idle
    /// At least one job is running.
    case busy
}

/// A driver's answer to an idle heartbeat.
public struct DriverHeartbeat: Sendable, Hashable {
    /// Dequeuing is paused (RQ's `rq suspend`); the processor asks again a second later.
    public var paused: Bool
    /// Queue lengths sampled on the way, for the `worker_queue_length` gauge.
    public var queueLengths: [String: Int]

    /// Creates an answer.
    public init(paused: Bool = false, queueLengths: [String: Int] = [:]) {
        self.paused = paused
        self.queueLengths = queueLengths
    }
}
