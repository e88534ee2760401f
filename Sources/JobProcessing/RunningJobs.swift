import Pickle
import Synchronization

/// The processor's table of running jobs: each one's handler task (so a stop command, a deadline
/// or the grace period can cancel just that job), its deadline, and why it was cancelled.
final class RunningJobs<Lease: Sendable>: Sendable {
    struct Entry {
        var job: ClaimedJob<Lease>
        var task: Task<Result<PythonValue, JobFailure>, Never>?
        var deadline: ContinuousClock.Instant?
        var timedOut = false
        var stopRequested = false
        var killed = false
    }

    private let state = Mutex<(next: UInt64, entries: [UInt64: Entry])>((0, [:]))

    /// Adds a job; returns its slot key.
    func add(_ job: ClaimedJob<Lease>, task: Task<Result<PythonValue, JobFailure>, Never>?, deadline: ContinuousClock.Instant?) -> UInt64 {
        state.withLock { state in
            state.next += 1
            state.entries[state.next] = Entry(job: job, task: task, deadline: deadline)
            return state.next
        }
    }

    /// Removes a job; returns its entry (why it ended early).
    func remove(_ key: UInt64) -> Entry? {
        state.withLock { $0.entries.removeValue(forKey: key) }
    }

    /// Cancels every job past its deadline (once each).
    func cancelExpired(now: ContinuousClock.Instant) {
        state.withLock { state in
            for (key, entry) in state.entries where !entry.timedOut {
                guard let deadline = entry.deadline, deadline <= now else { continue }
                state.entries[key]?.timedOut = true
                entry.task?.cancel()
            }
        }
    }

    /// Cancels the jobs `matching` selects, marked as stopped; returns how many.
    @discardableResult
    func stop(where matching: (ClaimedJob<Lease>) -> Bool) -> Int {
        state.withLock { state in
            var count = 0
            for (key, entry) in state.entries where matching(entry.job) {
                state.entries[key]?.stopRequested = true
                entry.task?.cancel()
                count += 1
            }
            return count
        }
    }

    /// Cancels the jobs `matching` selects, marked as killed; returns how many.
    @discardableResult
    func kill(where matching: (ClaimedJob<Lease>) -> Bool) -> Int {
        state.withLock { state in
            var count = 0
            for (key, entry) in state.entries where matching(entry.job) && !entry.stopRequested {
                state.entries[key]?.killed = true
                entry.task?.cancel()
                count += 1
            }
            return count
        }
    }

    /// Cancels every running job (the grace period ran out): recorded as interrupted.
    func cancelAll() {
        state.withLock { state in
            for entry in state.entries.values { entry.task?.cancel() }
        }
    }

    /// The jobs running now.
    var jobs: [ClaimedJob<Lease>] {
        state.withLock { $0.entries.values.map(\.job) }
    }

    /// How many jobs run now.
    var count: Int { state.withLock { $0.entries.count } }
}
