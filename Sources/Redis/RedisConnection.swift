import ClientSupport
import Logging
import NetworkTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One Redis connection, owned by a thread of its own.
///
/// The link (a plain or TLS ``ByteStream`` with hiredis's command formatter and RESP reader) is
/// touched only inside closures run on ``executor``, so it has exactly one owner and the
/// cooperative thread pool never blocks on socket I/O. Replies are converted to ``RedisReply``
/// before the C reply is freed. In Sentinel mode each (re)connect asks Sentinel for the master.
///
/// The connection repairs itself: before each operation it checks, without blocking, whether the
/// server closed the idle socket (after `CLIENT KILL`, a timeout or a restart) and if so reconnects
/// with capped exponential backoff (``RedisConfiguration/reconnectBackoff``) for up to
/// ``RedisConfiguration/reconnectBudget``. A failure *during* a command is reported as
/// ``RedisClientError/Code/connectionClosed`` and never retried silently, because the command may
/// have run.
///
/// A connection serves one task at a time (the pool or the caller guarantees it); it is `Sendable`
/// so that it can move between tasks.
public final class RedisConnection: PooledConnection, @unchecked Sendable {
    // `@unchecked`: `link` is only read or written inside closures on `executor` (a serial
    // queue); `inFlight` is guarded by its Mutex.
    private var link: RedisLink?
    private var closed = false
    private let executor: BlockingExecutor
    /// The operation in flight, so cancellation can interrupt it from another thread.
    private let inFlight = Mutex(InFlight())

    /// Which operation is running on which socket, and which operation was cancelled before its
    /// socket was known (the cancel handler may run before the queue starts the operation).
    private struct InFlight {
        var operation: UInt64 = 0
        var descriptor: Int32 = -1
        var cancelledOperation: UInt64 = 0
        /// Whether the operation waits on the server (a blocking pop, pub/sub) rather than for a
        /// plain reply: a master change interrupts those (see ``interruptBlockingWait()``).
        var blocking = false
        var nextOperation: UInt64 = 0
    }

    /// The configuration this connection was made with.
    public let configuration: RedisConfiguration
    let logger: Logger

    /// Where the master is, shared with the other connections of the same client.
    let topology: RedisTopology

    private init(configuration: RedisConfiguration, topology: RedisTopology, logger: Logger) {
        _ = Self.ignoreBrokenPipes
        self.configuration = configuration
        self.topology = topology
        self.logger = logger
        self.executor = BlockingExecutor(label: "redis.connection")
    }

    /// A write to a socket the server (or our own interrupt) already closed would raise `SIGPIPE`
    /// and kill the process. Plain writes pass `MSG_NOSIGNAL` and ``TLSStream`` ignores the signal
    /// itself; it stays ignored process-wide here too, as it was when hiredis did the writing, so
    /// that no other writer in the process learns to depend on it by accident.
    static let ignoreBrokenPipes: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Opens a connection, retrying with backoff for up to the configuration's reconnect budget.
    public static func connect(configuration: RedisConfiguration, logger: Logger) async throws -> RedisConnection {
        try await connect(configuration: configuration, topology: RedisTopology(configuration: configuration), logger: logger)
    }

    /// Opens a connection that shares `topology` with its client's other connections.
    static func connect(configuration: RedisConfiguration, topology: RedisTopology, logger: Logger) async throws -> RedisConnection {
        let connection = RedisConnection(configuration: configuration, topology: topology, logger: logger)
        topology.track(connection)
        try await connection.ensureConnected()
        return connection
    }

    /// Closes the link. Later operations throw ``RedisClientError/Code/poolClosed``.
    public func close() {
        executor.submit { [self] in
            closed = true
            link = nil
        }
    }

    /// The connection's own thread as a `TaskExecutor`. Code that sends many commands on this
    /// connection can run under `withTaskExecutorPreference(connection.taskExecutor) { … }`; its
    /// commands then run inline on the connection's thread with no thread hop per command.
    public var taskExecutor: any TaskExecutor { executor.taskExecutor }

    // MARK: Commands

    /// Sends one command and returns its reply; an error reply is thrown as
    /// ``RedisClientError/Code/serverError``.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        let reply = try await execute([command], blockingFor: nil)[0]
        if case .error(let message) = reply { throw RedisClientError(.serverError, message) }
        return reply
    }

    /// Sends one command given as strings, e.g. `send("SET", key, value)`.
    @discardableResult
    public func send(_ arguments: RedisArgument...) async throws -> RedisReply {
        try await send(arguments)
    }

    /// Sends `commands` in one round trip and returns one reply per command, in order. Error
    /// replies are returned as ``RedisReply/error(_:)``, not thrown, so each can be inspected.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        return try await execute(commands, blockingFor: nil)
    }

    /// Sends a blocking command (`BLMOVE`, `BLPOP`, `BRPOPLPUSH`, `BZPOPMIN`, …) whose server-side
    /// timeout is `timeout`; the socket read timeout is stretched accordingly. Cancelling the task
    /// interrupts the wait (the socket is shut down and the connection reconnects on its next use)
    /// and throws `CancellationError`.
    public func sendBlocking(_ command: RedisCommand, timeout: Duration) async throws -> RedisReply {
        let reply = try await execute([command], blockingFor: timeout)[0]
        if case .error(let message) = reply { throw RedisClientError(.serverError, message) }
        return reply
    }

    /// The numeric descriptor of the live socket, or -1 (for tests and diagnostics).
    public var socketDescriptor: Int32 {
        get async { (try? await executor.run { [self] in link?.descriptor ?? -1 }) ?? -1 }
    }

    // MARK: Internals

    /// Reconnects if needed, then runs `commands` on the owner queue; interruptible by cancellation.
    func execute(_ commands: [RedisCommand], blockingFor blockTimeout: Duration?) async throws -> [RedisReply] {
        try Task.checkCancellation()
        // One trip to the connection's thread: check the socket, reconnect at once if needed, send.
        // Only when connecting fails does the backoff loop (with sleeps between attempts) take over.
        do {
            return try await interruptible { [self] operation in
                try connectIfNeededOnQueue()
                return try runOnQueue(commands, blockTimeout: blockTimeout, operation: operation)
            }
        } catch let error as RedisClientError where error.code == .connectionFailed && error.retryable {
            try await ensureConnected()
            return try await interruptible { [self] operation in
                try connectIfNeededOnQueue()
                return try runOnQueue(commands, blockTimeout: blockTimeout, operation: operation)
            }
        }
    }

    /// Runs `body` on the queue such that cancelling the calling task interrupts it: the socket is
    /// shut down (waking a blocked read), or, if the body has not started, it never blocks.
    private func interruptible<Result: Sendable>(
        _ body: @escaping @Sendable (UInt64) throws -> Result
    ) async throws -> Result {
        let operation = inFlight.withLock { state -> UInt64 in
            state.nextOperation += 1
            return state.nextOperation
        }
        return try await withTaskCancellationHandler {
            do {
                return try await executor.run { try body(operation) }
            } catch let error as RedisClientError where Task.isCancelled && error.code == .connectionClosed {
                throw CancellationError()
            }
        } onCancel: {
            let descriptor = inFlight.withLock { state -> Int32 in
                if state.operation == operation { return state.descriptor }
                state.cancelledOperation = operation
                return -1
            }
            SocketProbe.interrupt(descriptor)
        }
    }

    /// Marks `operation` as running on `link`'s socket; throws if it was cancelled already.
    private func beginOperation(_ operation: UInt64, _ link: RedisLink, blocking: Bool = false) throws {
        let cancelled = inFlight.withLock { state -> Bool in
            if operation != 0 && state.cancelledOperation == operation { return true }
            state.operation = operation
            state.descriptor = link.descriptor
            state.blocking = blocking
            return false
        }
        if cancelled { throw CancellationError() }
    }

    /// Wakes a blocking pop or pub/sub read in flight (it fails as a closed connection and the
    /// next command reconnects): after a failover the old master never delivers again.
    func interruptBlockingWait() {
        let descriptor = inFlight.withLock { $0.blocking ? $0.descriptor : -1 }
        SocketProbe.interrupt(descriptor)
    }

    private func endOperation() {
        inFlight.withLock { state in
            state.operation = 0
            state.descriptor = -1
            state.blocking = false
        }
    }

    /// Makes sure a live link exists, reconnecting with backoff within the reconnect budget.
    func ensureConnected() async throws {
        try await ReconnectLoop(budget: configuration.reconnectBudget, backoff: configuration.reconnectBackoff).run(
            { try await executor.run { [self] in try connectIfNeededOnQueue() } },
            isRetryable: { (error: RedisClientError) in error.code == .connectionFailed && error.retryable },
            onRetry: { attempt, error in
                logger.debug("redis reconnect attempt failed", metadata: ["redis.attempt": "\(attempt)", "redis.error": "\(error.message)"])
            })
    }

    private func connectIfNeededOnQueue() throws {
        if closed { throw RedisClientError(.poolClosed, "the connection was closed") }
        if let link {
            if link.isUsable && link.generation == topology.generation { return }
            logger.debug("redis connection found closed or stale; reconnecting")
            self.link = nil
        }
        let generation = topology.generation
        let target: TransportAddress
        if let sentinel = configuration.sentinel {
            target = try SentinelResolver.masterAddress(sentinel, configuration: configuration, topology: topology, logger: logger)
        } else {
            target = configuration.address
        }
        let newLink = try RedisLinkOpener.open(
            target, tls: configuration.tls, serverName: configuration.serverName, configuration: configuration, generation: generation)
        newLink.setTimeout(configuration.commandTimeout)
        link = newLink
        do {
            try handshakeOnQueue(target)
        } catch {
            link = nil
            throw error
        }
    }

    /// AUTH, SELECT and CLIENT SETNAME as configured; over TLS a PING (a server that wants a client
    /// certificate says so only at the first read); in Sentinel mode ROLE, which must say master.
    private func handshakeOnQueue(_ target: TransportAddress) throws {
        var commands: [RedisCommand] = []
        if let password = configuration.password {
            if let user = configuration.username {
                commands.append(["AUTH", RedisArgument(user), RedisArgument(password)])
            } else {
                commands.append(["AUTH", RedisArgument(password)])
            }
        }
        if configuration.database != 0 { commands.append(["SELECT", RedisArgument(configuration.database)]) }
        if let name = configuration.clientName { commands.append(["CLIENT", "SETNAME", RedisArgument(name)]) }
        if configuration.sentinel != nil {
            commands.append(["ROLE"])
        } else if configuration.tls != nil && commands.isEmpty {
            commands.append(["PING"])
        }
        guard !commands.isEmpty else { return }
        let replies: [RedisReply]
        do {
            replies = try runOnQueue(commands, blockTimeout: nil)
        } catch let error as RedisClientError {
            // A TLS 1.3 server that wants a client certificate says so with an alert after the
            // handshake; when its reset overtakes the alert, only the reset is seen.
            let hint = configuration.tls != nil && configuration.tls?.certificateFile == nil && error.code == .connectionClosed
                ? " (the server may require a client certificate: set ssl_certfile and ssl_keyfile)" : ""
            var failure = RedisClientError(.connectionFailed, "handshake with \(configuration.redactedURL) failed: \(error.message)\(hint)")
            failure.retryable = error.retryable
            throw failure
        }
        for (command, reply) in zip(commands, replies) {
            if case .error(let message) = reply {
                // Name the command but never its arguments: AUTH's are secrets.
                let name = String(decoding: command[0].bytes, as: UTF8.self)
                var error = RedisClientError(.connectionFailed, "\(name) rejected by \(configuration.redactedURL): \(message)")
                error.retryable = message.hasPrefix("LOADING") || message.hasPrefix("BUSY")
                throw error
            }
        }
        if configuration.sentinel != nil, let role = replies.last?.array?.first?.string, role != "master" {
            topology.invalidate()
            throw RedisClientError(.connectionFailed, "\(target) is a \(role), not the master; asking Sentinel again")
        }
    }

    /// Appends all commands, then reads all replies: one round trip for the batch.
    private func runOnQueue(_ commands: [RedisCommand], blockTimeout: Duration?, operation: UInt64 = 0) throws -> [RedisReply] {
        guard let link else { throw RedisClientError(.connectionClosed, "not connected") }
        try beginOperation(operation, link, blocking: blockTimeout != nil)
        defer { endOperation() }
        do {
            for command in commands { try link.append(command) }
            if let blockTimeout {
                // A zero server timeout blocks forever, so the socket must too.
                link.setTimeout(blockTimeout == .zero ? nil : configuration.commandTimeout.map { $0 + blockTimeout })
            }
            defer { if blockTimeout != nil { link.setTimeout(configuration.commandTimeout) } }
            try link.flush()
            var replies: [RedisReply] = []
            replies.reserveCapacity(commands.count)
            for _ in commands {
                replies.append(try link.readReply(timeout: configuration.commandTimeout))
            }
            if replies.contains(where: { reply in ["READONLY", "NOREPLICAS"].contains { reply.errorMessage?.hasPrefix($0) == true } }) {
                // A replica answered, or a master that lost its replicas (with min-replicas-to-write,
                // an old master once its replica was promoted): the master moved. Reconnect — via
                // Sentinel, or the URL's name, which managed services repoint — before the next command.
                link.isBroken = true
                topology.invalidate()
            }
            // Scripts the server does not know yet: once more in full (see `RedisScript`).
            let unknown = replies.indices.compactMap { index in
                RedisScript.isUnknownScript(replies[index]) ? RedisScript.evalFallback(for: commands[index]).map { (index, $0) } : nil
            }
            if !unknown.isEmpty {
                let again = try runOnQueue(unknown.map(\.1), blockTimeout: nil, operation: operation)
                for ((index, _), reply) in zip(unknown, again) { replies[index] = reply }
            }
            return replies
        } catch {
            if link.isBroken { self.link = nil }
            throw error
        }
    }

    /// Reads one unsolicited reply (pub/sub messages); blocks until it arrives or the socket is
    /// interrupted.
    func readPushedReply() async throws -> RedisReply {
        try await interruptible { [self] operation in
            guard let link else { throw RedisClientError(.connectionClosed, "not connected") }
            try beginOperation(operation, link, blocking: true)
            defer { endOperation() }
            link.setTimeout(nil)
            do {
                return try link.readReply(timeout: nil)
            } catch {
                self.link = nil
                throw error
            }
        }
    }
}
