import NetworkTransport
import Synchronization

/// What the connections of one client share about where the server is: a generation number that
/// moves on whenever the master may have changed (a `READONLY` reply, a replica reached, a
/// `+switch-master` announcement), so every pooled connection reconnects — and asks Sentinel
/// again — before its next command; and the order in which Sentinels are asked (the one that
/// answered last first, as redis-py does).
final class RedisTopology: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var sentinels: [TransportAddress]
    }

    private let state: Mutex<State>

    init(configuration: RedisConfiguration) {
        state = Mutex(State(sentinels: configuration.sentinel?.sentinels ?? []))
    }

    /// The current generation; a link made at an older one is not reused.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Marks every open link as stale (the master may have moved).
    func invalidate() {
        state.withLock { $0.generation &+= 1 }
    }

    /// The Sentinels in the order to ask them.
    var sentinels: [TransportAddress] { state.withLock { $0.sentinels } }

    /// Moves `sentinel` to the front: it answered, so it is asked first next time.
    func answered(_ sentinel: TransportAddress) {
        state.withLock { state in
            guard let index = state.sentinels.firstIndex(of: sentinel), index != 0 else { return }
            state.sentinels.remove(at: index)
            state.sentinels.insert(sentinel, at: 0)
        }
    }
}
