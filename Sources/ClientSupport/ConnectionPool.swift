import DequeModule
import Synchronization

/// A connection the pool can own: it can be closed when the pool shuts down.
public protocol PooledConnection: AnyObject, Sendable {
    /// Releases the connection's resources; it is not used again afterwards. Must not block: the
    /// connections hand the work to their own queue.
    func close()
}

/// Counters describing a pool at one instant.
public struct ConnectionPoolStatistics: Sendable, Hashable {
    /// Connections that exist (idle or leased).
    public var open: Int
    /// Connections waiting in the pool, ready to lease.
    public var idle: Int
    /// Tasks waiting for a connection because `open` reached the bound.
    public var waiters: Int
}

/// A bounded pool of connections shared by many tasks.
///
/// At most `maximumConnections` connections exist at once; further callers of
/// ``withConnection(_:)`` wait (cancellably) until one is returned. Connections are created lazily
/// by the `factory`. A connection that breaks is expected to repair itself on its next use (both
/// the Redis and the PostgreSQL connections reconnect), so the pool keeps it.
public final class ConnectionPool<Connection: PooledConnection>: Sendable {
    /// What a waiting task receives: a connection, or the right to create one.
    private enum Grant: Sendable {
        case connection(Connection)
        case create
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Grant, any Error>
    }

    private struct State: ~Copyable {
        var idle: [Connection] = []
        var open = 0
        var waiters: Deque<Waiter> = []
        var nextWaiterID: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let factory: @Sendable () async throws -> Connection
    private let closedError: @Sendable () -> any Error

    /// The bound on open connections.
    public let maximumConnections: Int

    /// Creates a pool.
    /// - Parameters:
    ///   - maximumConnections: the bound on connections open at once (at least 1).
    ///   - closedError: the error thrown to callers once the pool is shut down.
    ///   - factory: opens a new connection.
    public init(
        maximumConnections: Int,
        closedError: @escaping @Sendable () -> any Error,
        factory: @escaping @Sendable () async throws -> Connection
    ) {
        precondition(maximumConnections >= 1, "a pool needs at least one connection")
        self.maximumConnections = maximumConnections
        self.closedError = closedError
        self.factory = factory
    }

    /// The pool's counters now.
    public var statistics: ConnectionPoolStatistics {
        state.withLock { ConnectionPoolStatistics(open: $0.open, idle: $0.idle.count, waiters: $0.waiters.count) }
    }

    /// Leases a connection for the duration of `body`, then returns it to the pool.
    public func withConnection<Result: Sendable>(
        _ body: (Connection) async throws -> Result
    ) async throws -> Result {
        let connection = try await lease()
        do {
            let result = try await body(connection)
            release(connection)
            return result
        } catch {
            release(connection)
            throw error
        }
    }

    /// Closes idle connections and refuses new leases; leased connections close when returned.
    public func shutdown() async {
        let (idle, waiters) = state.withLock { state -> ([Connection], Deque<Waiter>) in
            state.closed = true
            let idle = state.idle
            state.open -= idle.count
            state.idle = []
            let waiters = state.waiters
            state.waiters = []
            return (idle, waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: closedError()) }
        for connection in idle { connection.close() }
    }

    private enum LeaseAction {
        case use(Connection)
        case create
        case wait
        case fail
    }

    private func lease() async throws -> Connection {
        try Task.checkCancellation()
        let action = state.withLock { state -> LeaseAction in
            if state.closed { return .fail }
            if let connection = state.idle.popLast() { return .use(connection) }
            if state.open < maximumConnections {
                state.open += 1
                return .create
            }
            return .wait
        }
        switch action {
        case .use(let connection): return connection
        case .create: return try await create()
        case .fail: throw closedError()
        case .wait:
            switch try await waitForGrant() {
            case .connection(let connection): return connection
            case .create: return try await create()
            }
        }
    }

    /// Opens a connection for a slot already counted in `open`; gives the slot back on failure.
    private func create() async throws -> Connection {
        do {
            return try await factory()
        } catch {
            let next = state.withLock { state -> Waiter? in
                if let waiter = state.waiters.popFirst() { return waiter }
                state.open -= 1
                return nil
            }
            // A waiter inherits the slot and tries to connect itself.
            next?.continuation.resume(returning: .create)
            throw error
        }
    }

    private func waitForGrant() async throws -> Grant {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                let outcome = state.withLock { state -> Grant? in
                    // The pool may have changed between computing `.wait` and getting here.
                    if let connection = state.idle.popLast() { return .connection(connection) }
                    if state.open < maximumConnections {
                        state.open += 1
                        return .create
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(returning: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func release(_ connection: Connection) {
        let (waiter, closeIt) = state.withLock { state -> (Waiter?, Bool) in
            if state.closed {
                state.open -= 1
                return (nil, true)
            }
            if let waiter = state.waiters.popFirst() { return (waiter, false) }
            state.idle.append(connection)
            return (nil, false)
        }
        if let waiter {
            waiter.continuation.resume(returning: .connection(connection))
        } else if closeIt {
            connection.close()
        }
    }
}
