/// RQ job statuses (`docs/rq-wire.md`, "Job statuses").
public enum RQJobStatus: String, Sendable, Hashable, CaseIterable {
    case created, queued, started, finished, failed, deferred, scheduled, stopped, canceled
    /// RQ 3.0: waiting for a rate-limit slot (in no queue list). Read, never written.
    case rateLimited = "rate_limited"
    /// RQ 3.0: dependencies met, staged in `rq:ready:Q`. Read, never written.
    case readyToEnqueue = "ready_to_enqueue"
}
