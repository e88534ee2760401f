import Synchronization

/// Whether a process has finished starting — its servers answered and its migrations ran — and,
/// until then, what it is waiting for. The API's `/ready` and the worker's metrics port answer
/// 503 with ``waitingFor`` while the gate is closed; the API refuses other routes with 503 too.
public final class StartupGate: Sendable {
    private let state: Mutex<String?>

    /// A gate, closed (waiting for `reason`) unless `open`.
    public init(open: Bool = false, reason: String = "starting") {
        state = Mutex(open ? nil : reason)
    }

    /// Whether starting is done.
    public var isOpen: Bool { state.withLock { $0 == nil } }

    /// What the process waits for, or `nil` once open.
    public var waitingFor: String? { state.withLock { $0 } }

    /// Says what the process waits for now (ignored once open).
    public func wait(for reason: String) {
        state.withLock { current in if current != nil { current = reason } }
    }

    /// Opens the gate for good.
    public func open() {
        state.withLock { $0 = nil }
    }
}
