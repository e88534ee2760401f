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
        var sawReplicas = false
    }

    private let state: Mutex<State>
    /// The connections made with this topology, so a master change can wake their blocked waits.
    private let connections = Mutex<[ObjectIdentifier: WeakConnection]>([:])

    private struct WeakConnection: Sendable {
        weak var connection: RedisConnection?
    }

    init(configuration: RedisConfiguration) {
        state = Mutex(State(sentinels: configuration.sentinel?.sentinels ?? []))
    }

    /// The current generation; a link made at an older one is not reused.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Marks every open link as stale (the master may have moved) and wakes the blocking pops
    /// and subscriptions waiting on the old server, which would otherwise wait out their timeout
    /// there while jobs arrive on the new master.
    func invalidate() {
        state.withLock { $0.generation &+= 1 }
        let live = connections.withLock { entries -> [RedisConnection] in
            entries = entries.filter { $0.value.connection != nil }
            return entries.values.compactMap(\.connection)
        }
        for connection in live { connection.interruptBlockingWait() }
    }

    /// Remembers `connection` (weakly) for ``invalidate()``.
    func track(_ connection: RedisConnection) {
        connections.withLock { $0[ObjectIdentifier(connection)] = WeakConnection(connection: connection) }
    }

    /// Whether a master reached through this topology lately had replicas: a master that shows
    /// none now has lost them (an old master whose replica was just promoted), not a single node.
    var sawReplicas: Bool {
        get { state.withLock { $0.sawReplicas } }
        set { state.withLock { $0.sawReplicas = newValue } }
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
