internal import CHiredis
import ClientSupport
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One Redis connection over hiredis, owned by a private serial queue.
///
/// The `redisContext` is touched only inside closures run on ``executor``, so it has exactly one
/// owner and the cooperative thread pool never blocks on socket I/O. Replies are converted to
/// ``RedisReply`` before the C reply is freed.
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
    // `@unchecked`: `context` is only read or written inside closures on `executor` (a serial
    // queue); `inFlight` is guarded by its Mutex.
    private var context: UnsafeMutablePointer<redisContext>?
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
        var nextOperation: UInt64 = 0
    }

    /// The configuration this connection was made with.
    public let configuration: RedisConfiguration
    let logger: Logger

    private init(configuration: RedisConfiguration, logger: Logger) {
        _ = Self.ignoreBrokenPipes
        self.configuration = configuration
        self.logger = logger
        self.executor = BlockingExecutor(label: "redis.connection")
    }

    /// hiredis writes with `write(2)`: a write to a socket the server (or our own interrupt)
    /// already closed would raise `SIGPIPE` and kill the process. Ignored process-wide, once, when
    /// the first connection is made: the write then fails with `EPIPE`, which is an ordinary
    /// connection error here (reconnect and retry). NIO and libpq guard their own writes.
    static let ignoreBrokenPipes: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Opens a connection, retrying with backoff for up to the configuration's reconnect budget.
    public static func connect(configuration: RedisConfiguration, logger: Logger) async throws -> RedisConnection {
        let connection = RedisConnection(configuration: configuration, logger: logger)
        try await connection.ensureConnected()
        return connection
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// Frees the hiredis context. Later operations throw ``RedisClientError/Code/poolClosed``.
    public func close() {
        executor.submit { [self] in
            closed = true
            if let context {
                redisFree(context)
                self.context = nil
            }
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
        get async { (try? await executor.run { [self] in context.map { $0.pointee.fd } ?? -1 }) ?? -1 }
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

    /// Marks `operation` as running on `context`'s socket; throws if it was cancelled already.
    private func beginOperation(_ operation: UInt64, _ context: UnsafeMutablePointer<redisContext>) throws {
        let cancelled = inFlight.withLock { state -> Bool in
            if operation != 0 && state.cancelledOperation == operation { return true }
            state.operation = operation
            state.descriptor = context.pointee.fd
            return false
        }
        if cancelled { throw CancellationError() }
    }

    private func endOperation() {
        inFlight.withLock { state in
            state.operation = 0
            state.descriptor = -1
        }
    }

    /// Makes sure a live context exists, reconnecting with backoff within the reconnect budget.
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
        if let context {
            if context.pointee.err == 0 && !SocketProbe.idleConnectionLooksClosed(context.pointee.fd) { return }
            logger.debug("redis connection found closed; reconnecting")
            redisFree(context)
            self.context = nil
        }
        let (seconds, micros) = configuration.connectTimeout.secondsAndMicroseconds
        let timeout = timeval(tv_sec: seconds, tv_usec: .init(micros))
        let newContext: UnsafeMutablePointer<redisContext>?
        switch configuration.endpoint {
        case .tcp(let host, let port): newContext = redisConnectWithTimeout(host, Int32(port), timeout)
        case .unix(let path): newContext = redisConnectUnixWithTimeout(path, timeout)
        }
        guard let newContext else {
            throw RedisClientError(.connectionFailed, "could not allocate a hiredis context")
        }
        if newContext.pointee.err != 0 {
            let reason = Self.errorString(newContext)
            redisFree(newContext)
            throw RedisClientError(.connectionFailed, "cannot connect to \(configuration.redactedURL): \(reason)")
        }
        if case .tcp = configuration.endpoint { _ = redisEnableKeepAlive(newContext) }
        applyTimeout(newContext, configuration.commandTimeout)
        context = newContext
        do {
            try handshakeOnQueue()
        } catch {
            redisFree(newContext)
            context = nil
            throw error
        }
    }

    private func handshakeOnQueue() throws {
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
        guard !commands.isEmpty else { return }
        let replies: [RedisReply]
        do {
            replies = try runOnQueue(commands, blockTimeout: nil)
        } catch let error as RedisClientError {
            throw RedisClientError(.connectionFailed, "handshake with \(configuration.redactedURL) failed: \(error.message)")
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
    }

    /// Appends all commands, then reads all replies: one round trip for the batch.
    private func runOnQueue(_ commands: [RedisCommand], blockTimeout: Duration?, operation: UInt64 = 0) throws -> [RedisReply] {
        guard let context else { throw RedisClientError(.connectionClosed, "not connected") }
        try beginOperation(operation, context)
        defer { endOperation() }
        for command in commands {
            try Self.append(command, to: context)
        }
        if let blockTimeout {
            // A zero server timeout blocks forever, so the socket must too.
            applyTimeout(context, blockTimeout == .zero ? nil : configuration.commandTimeout.map { $0 + blockTimeout })
        }
        defer {
            if blockTimeout != nil, self.context != nil { applyTimeout(context, configuration.commandTimeout) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(context, &raw) != REDIS_OK || raw == nil {
                let error = Self.ioError(context, commandTimeout: configuration.commandTimeout)
                redisFree(context)
                self.context = nil
                throw error
            }
            let reply = raw!.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.convert(reply))
            freeReplyObject(raw)
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
    }

    /// Reads one unsolicited reply (pub/sub messages); blocks until it arrives or the socket is
    /// interrupted.
    func readPushedReply() async throws -> RedisReply {
        try await interruptible { [self] operation in
                    guard let context else { throw RedisClientError(.connectionClosed, "not connected") }
                    try beginOperation(operation, context)
                    defer { endOperation() }
                    applyTimeout(context, nil)
                    var raw: UnsafeMutableRawPointer?
                    if redisGetReply(context, &raw) != REDIS_OK || raw == nil {
                        let error = Self.ioError(context, commandTimeout: nil)
                        redisFree(context)
                        self.context = nil
                        throw error
                    }
                    defer { freeReplyObject(raw) }
                    return Self.convert(raw!.assumingMemoryBound(to: redisReply.self))
        }
    }

    private func applyTimeout(_ context: UnsafeMutablePointer<redisContext>, _ timeout: Duration?) {
        // hiredis treats a zero timeval as "no timeout" (SO_RCVTIMEO 0).
        let (seconds, micros) = (timeout ?? .zero).secondsAndMicroseconds
        _ = redisSetTimeout(context, timeval(tv_sec: seconds, tv_usec: .init(micros)))
    }

    private static func append(_ command: RedisCommand, to context: UnsafeMutablePointer<redisContext>) throws {
        let count = command.count
        var total = 0
        for argument in command { total += argument.bytes.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        let pointers = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: count)
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: count)
        defer {
            storage.deallocate()
            pointers.deallocate()
            lengths.deallocate()
        }
        var offset = 0
        for (index, argument) in command.enumerated() {
            let length = argument.bytes.count
            if length > 0 {
                argument.bytes.withUnsafeBytes { source in
                    UnsafeMutableRawBufferPointer(rebasing: storage[offset..<(offset + length)]).copyMemory(from: source)
                }
            }
            pointers[index] = UnsafePointer(storage.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self))
            lengths[index] = length
            offset += length
        }
        // hiredis copies the formatted command into its output buffer; our buffers can go.
        if redisAppendCommandArgv(context, Int32(count), pointers, lengths) != REDIS_OK {
            throw RedisClientError(.protocolError, "could not format command: \(errorString(context))")
        }
    }

    static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulk(Array(UnsafeRawBufferPointer(start: value.str, count: Int(value.len))))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: value.str, count: Int(value.len)), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: value.str, count: Int(value.len)), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] { elements.append(convert(element)) } else { elements.append(.null) }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func ioError(_ context: UnsafeMutablePointer<redisContext>, commandTimeout: Duration?) -> RedisClientError {
        let reason = errorString(context)
        switch context.pointee.err {
        case REDIS_ERR_PROTOCOL, REDIS_ERR_OOM:
            return RedisClientError(.protocolError, reason)
        case REDIS_ERR_IO where reason.contains("temporarily unavailable") || reason.contains("timed out"):
            let limit = commandTimeout.map { " within \($0)" } ?? ""
            return RedisClientError(.timeout, "no reply from the server\(limit)")
        default:
            return RedisClientError(.connectionClosed, reason.isEmpty ? "connection closed by the server" : reason)
        }
    }
}
