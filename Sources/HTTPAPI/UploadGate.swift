import Synchronization

/// Counts uploads in progress against a limit.
final class UploadGate: Sendable {
    private let count = Mutex(0)

    /// Takes a slot if fewer than `limit` are taken.
    func enter(limit: Int) -> Bool {
        count.withLock { value in
            guard value < limit else { return false }
            value += 1
            return true
        }
    }

    /// Returns a slot.
    func leave() {
        count.withLock { $0 -= 1 }
    }
}
