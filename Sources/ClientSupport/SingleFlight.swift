/// Lets concurrent callers asking for the same key share one computation: the first caller (the
/// leader) computes, the others wait for its value. A leader that fails hands nothing on; each
/// waiter then computes for itself (so one failure does not fail every waiter, and nothing is
/// cached: once the leader finished, the next caller computes anew).
///
/// Used for the job post embedding: 50 résumés of a new job post starting together make one
/// embedding request instead of 50.
public actor SingleFlight<Key: Hashable & Sendable, Value: Sendable> {
    private var waiters: [Key: [CheckedContinuation<Value?, Never>]] = [:]

    /// Creates an empty set of flights.
    public init() {}

    /// The value for `key`: from the computation in flight, if any, else from `compute`.
    ///
    /// A waiter cannot be cancelled while it waits; the leader's own deadline bounds the wait.
    public nonisolated func value(for key: Key, _ compute: () async throws -> Value) async throws -> Value {
        if await join(key) {
            do {
                let value = try await compute()
                await land(key, value)
                return value
            } catch {
                await land(key, nil)
                throw error
            }
        }
        if let shared = await wait(key) { return shared }
        return try await compute()
    }

    /// Whether the caller leads a new flight for `key`.
    private func join(_ key: Key) -> Bool {
        guard waiters[key] == nil else { return false }
        waiters[key] = []
        return true
    }

    /// The leader's value, or `nil` when it failed or had already landed.
    private func wait(_ key: Key) async -> Value? {
        guard waiters[key] != nil else { return nil }
        return await withCheckedContinuation { waiters[key]?.append($0) }
    }

    private func land(_ key: Key, _ value: Value?) {
        for waiter in waiters.removeValue(forKey: key) ?? [] { waiter.resume(returning: value) }
    }
}
