import Foundation
import Synchronization

/// Job posts an upload has recently seen in PostgreSQL, so the next upload for the same post skips
/// the lookup. Entries expire after `timeToLive`; the set is emptied when it reaches `capacity`.
/// Only a shortcut: the `applications.job_post_id` foreign key still refuses a post deleted since.
final class KnownJobPosts: Sendable {
    private let timeToLive: Duration
    private let capacity: Int
    private let seen = Mutex<[UUID: ContinuousClock.Instant]>([:])

    init(timeToLive: Duration, capacity: Int = 4096) {
        self.timeToLive = timeToLive
        self.capacity = capacity
    }

    /// Whether `id` was seen less than `timeToLive` ago.
    func contains(_ id: UUID) -> Bool {
        guard timeToLive > .zero else { return false }
        let now = ContinuousClock.now
        return seen.withLock { entries in
            guard let expiry = entries[id] else { return false }
            if expiry > now { return true }
            entries[id] = nil
            return false
        }
    }

    /// Remembers that `id` exists.
    func insert(_ id: UUID) {
        guard timeToLive > .zero else { return }
        let expiry = ContinuousClock.now.advanced(by: timeToLive)
        seen.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[id] = expiry
        }
    }

    /// Forgets `id` (it turned out not to exist).
    func remove(_ id: UUID) {
        _ = seen.withLock { $0.removeValue(forKey: id) }
    }
}
