internal import CLibPQ
import ClientSupport
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One PostgreSQL connection over libpq, owned by a private serial queue.
///
/// Every libpq call on the `PGconn` runs inside a closure on ``executor``, so the connection has one
/// owner and the cooperative pool never blocks on the socket. Results are copied into
/// ``PostgresResult`` before `PQclear`. Parameters always travel apart from the SQL text: a
/// statement with parameters is prepared once per connection (`PQprepare`, named `rp_N`) and then
/// run with `PQexecPrepared`, so the server parses and plans it once rather than on every call
/// (``PostgresConfiguration/preparedStatements``; with it off, every call is `PQexecParams`). A
/// prepared statement the server no longer has (a pooler's `DISCARD ALL`) or whose result shape
/// changed (a migration) is prepared again and the call retried once.
///
/// Like the Redis connection it repairs itself between statements (a dropped idle connection is
/// reopened with backoff), but never inside a transaction: a connection that breaks after `BEGIN`
/// fails every statement with ``PostgresError/Code/connectionClosed`` until ``rollback()``.
public final class PostgresConnection: PooledConnection, @unchecked Sendable {
    // `@unchecked`: `connection`, `closed` and `inTransaction` are only touched on `executor`;
    // `cancelHandle` is guarded by its Mutex (PQcancel is documented as thread-safe).
    private var connection: OpaquePointer?
    private var closed = false
    private var inTransaction = false
    /// Statements prepared on the current `PGconn`: name by SQL text and parameter types.
    private var prepared: [PreparedKey: String] = [:]
    private var statementCounter = 0
    private let cancelHandle = Mutex<CancelHandle?>(nil)
    private let executor = BlockingExecutor(label: "postgres.connection")

    /// The configuration this connection was made with.
    public let configuration: PostgresConfiguration
    private let logger: Logger

    private init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Opens a connection, retrying with backoff for up to the configuration's reconnect budget.
    public static func connect(configuration: PostgresConfiguration, logger: Logger) async throws -> PostgresConnection {
        let connection = PostgresConnection(configuration: configuration, logger: logger)
        try await connection.ensureConnected()
        return connection
    }

    deinit {
        cancelHandle.withLock { handle in
            if let handle { PQfreeCancel(handle.pointer) }
        }
        if let connection { PQfinish(connection) }
    }

    private struct PreparedKey: Hashable {
        let sql: String
        let types: [UInt32]
    }

    /// At most this many prepared statements per connection; past it they are all deallocated.
    static let preparedStatementLimit = 256

    /// A `PGcancel*`, which libpq allows to use from any thread.
    private struct CancelHandle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// Closes the connection; later statements throw ``PostgresError/Code/poolClosed``.
    public func close() {
        executor.submit { [self] in
            closed = true
            dropConnectionOnQueue()
        }
    }

    /// The connection's own thread as a `TaskExecutor` (see `RedisConnection.taskExecutor`).
    public var taskExecutor: any TaskExecutor { executor.taskExecutor }

    // MARK: Statements

    /// Runs one statement with `parameters` bound to `$1…$n` and returns its rows.
    ///
    /// Cancelling the calling task sends a cancel request to the server.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresBindable] = []) async throws -> PostgresResult {
        let values = parameters.map { parameter in
            parameter.postgresBinary.map(ParameterValue.binary) ?? .text(parameter.postgresText)
        }
        let types = parameters.map(\.postgresTypeOID)
        return try await perform { [self] in try execParamsOnQueue(sql, values, types) }
    }

    /// Runs a fixed, multi-statement SQL script with no parameters (simple query protocol).
    ///
    /// Only for SQL shipped with the program, such as migrations; never for text that contains
    /// user input, which must go through ``query(_:_:)`` parameters.
    public func executeScript(_ sql: String) async throws {
        _ = try await perform { [self] in try execScriptOnQueue(sql) }
    }

    /// Starts a transaction (`BEGIN`).
    public func begin() async throws {
        try await query("BEGIN")
        try await executor.run { [self] in inTransaction = true }
    }

    /// Commits the transaction (`COMMIT`).
    public func commit() async throws {
        do {
            try await query("COMMIT")
        } catch {
            await endTransaction()
            throw error
        }
        await endTransaction()
    }

    private func endTransaction() async {
        _ = try? await executor.run { [self] in inTransaction = false }
    }

    /// Rolls the transaction back; on a broken connection it only clears the transaction state.
    public func rollback() async {
        let broken = (try? await executor.run { [self] in
            inTransaction = false
            return connection == nil
        }) ?? true
        if !broken { _ = try? await query("ROLLBACK") }
    }

    // MARK: Internals

    private func perform(_ body: @escaping @Sendable () throws -> PostgresResult) async throws -> PostgresResult {
        try Task.checkCancellation()
        // One trip to the connection's thread: check the socket, reconnect at once if needed, run.
        // Only when connecting fails does the backoff loop take over.
        return try await withTaskCancellationHandler {
            do {
                return try await executor.run { [self] in
                    try connectIfNeededOnQueue()
                    return try body()
                }
            } catch let error as PostgresError where error.code == .connectionFailed && error.retryable {
                try await ensureConnected()
                return try await executor.run { [self] in
                    try connectIfNeededOnQueue()
                    return try body()
                }
            }
        } onCancel: {
            cancelHandle.withLock { handle in
                guard let handle else { return }
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(handle.pointer, &buffer, Int32(buffer.count))
            }
        }
    }

    func ensureConnected() async throws {
        try await ReconnectLoop(budget: configuration.reconnectBudget, backoff: configuration.reconnectBackoff).run(
            { try await executor.run { [self] in try connectIfNeededOnQueue() } },
            isRetryable: { (error: PostgresError) in error.code == .connectionFailed && error.retryable },
            onRetry: { attempt, error in
                logger.debug("postgres reconnect attempt failed", metadata: ["postgres.attempt": "\(attempt)", "postgres.error": "\(error.message)"])
            })
    }

    private func connectIfNeededOnQueue() throws {
        if closed { throw PostgresError(.poolClosed, "the connection was closed") }
        if let connection {
            // An idle connection whose socket is readable has been spoken to unasked: in practice
            // the server's FATAL goodbye (restart, pg_terminate_backend, idle timeout) before it
            // hangs up. Notices and notifications are not used here, so start afresh.
            if PQstatus(connection) == CONNECTION_OK && !SocketProbe.idleConnectionLooksClosed(PQsocket(connection)) {
                return
            }
            logger.debug("postgres connection found closed")
            dropConnectionOnQueue()
        }
        if inTransaction {
            throw PostgresError(.connectionClosed, "the connection broke inside a transaction; roll back and retry it")
        }
        let keywords = ["dbname", "connect_timeout", "application_name", "options"]
        let timeout = max(1, Int(configuration.connectTimeout.seconds.rounded(.up)))
        let values = [configuration.url, String(timeout), configuration.applicationName, "-c TimeZone=UTC -c DateStyle=ISO"]
        let newConnection = withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let newConnection else { throw PostgresError(.connectionFailed, "libpq could not allocate a connection") }
        guard PQstatus(newConnection) == CONNECTION_OK else {
            let reason = configuration.scrub(Self.message(PQerrorMessage(newConnection)))
            PQfinish(newConnection)
            var error = PostgresError(.connectionFailed, "cannot connect to \(configuration.redactedURL): \(reason)")
            let permanent = [
                "authentication failed", "does not exist", "no pg_hba.conf entry", "rejects connection", "permission denied",
                "certificate verify failed", "does not match host name", "root certificate file", "certificate present, but not private key",
            ]
            error.retryable = !permanent.contains { reason.contains($0) }
            throw error
        }
        PQsetNoticeProcessor(newConnection, { _, _ in }, nil)
        connection = newConnection
        let handle = PQgetCancel(newConnection).map(CancelHandle.init)
        cancelHandle.withLock { old in
            if let old { PQfreeCancel(old.pointer) }
            old = handle
        }
    }

    private func dropConnectionOnQueue() {
        cancelHandle.withLock { handle in
            if let handle { PQfreeCancel(handle.pointer) }
            handle = nil
        }
        if let connection { PQfinish(connection) }
        connection = nil
        prepared.removeAll()
        statementCounter = 0
    }

    private func execParamsOnQueue(_ sql: String, _ values: [ParameterValue], _ types: [UInt32]) throws -> PostgresResult {
        guard let connection else { throw PostgresError(.connectionClosed, "not connected") }
        if configuration.preparedStatements && !values.isEmpty {
            do {
                return try execPreparedOnQueue(sql, values, types, connection)
            } catch let error as PostgresError where error.sqlState == "26000" || error.sqlState == "0A000" {
                // Gone (26000) or stale (0A000, "cached plan must not change result type"): forget
                // this connection's statements and prepare again, once.
                guard self.connection != nil else { throw error }
                if !inTransaction { _ = try? collect(PQexec(connection, "DEALLOCATE ALL"), connection) }
                prepared.removeAll()
                return try execPreparedOnQueue(sql, values, types, connection)
            }
        }
        let result = withParameters(values) { valuePointers, lengths, formats in
            types.withUnsafeBufferPointer { typePointer in
                PQexecParams(connection, sql, Int32(values.count), typePointer.baseAddress, valuePointers, lengths, formats, 0)
            }
        }
        return try collect(result, connection)
    }

    private func execPreparedOnQueue(_ sql: String, _ values: [ParameterValue], _ types: [UInt32], _ connection: OpaquePointer) throws -> PostgresResult {
        let key = PreparedKey(sql: sql, types: types)
        let name: String
        if let known = prepared[key] {
            name = known
        } else {
            if prepared.count >= Self.preparedStatementLimit && !inTransaction {
                _ = try collect(PQexec(connection, "DEALLOCATE ALL"), connection)
                prepared.removeAll()
            }
            statementCounter += 1
            let fresh = "rp_\(statementCounter)"
            let result = types.withUnsafeBufferPointer { typePointer in
                PQprepare(connection, fresh, sql, Int32(types.count), typePointer.baseAddress)
            }
            _ = try collect(result, connection)
            prepared[key] = fresh
            name = fresh
        }
        let result = withParameters(values) { valuePointers, lengths, formats in
            PQexecPrepared(connection, name, Int32(values.count), valuePointers, lengths, formats, 0)
        }
        return try collect(result, connection)
    }

    private func execScriptOnQueue(_ sql: String) throws -> PostgresResult {
        guard let connection else { throw PostgresError(.connectionClosed, "not connected") }
        return try collect(PQexec(connection, sql), connection)
    }

    /// Copies a `PGresult` into Swift values and frees it.
    private func collect(_ result: OpaquePointer?, _ connection: OpaquePointer) throws -> PostgresResult {
        defer { if let result { PQclear(result) } }
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
            if PQstatus(connection) != CONNECTION_OK {
                let reason = configuration.scrub(Self.message(PQerrorMessage(connection)))
                dropConnectionOnQueue()
                throw PostgresError(.connectionClosed, reason.isEmpty ? "the server closed the connection" : reason)
            }
            let sqlState = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) }
            let primary = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "M"))) }.map { String(cString: $0) }
            let message = primary ?? Self.message(PQerrorMessage(connection))
            throw PostgresError(.server, configuration.scrub(message), sqlState: sqlState)
        }
        guard let result else { return PostgresResult(columns: PostgresColumns(names: [], types: []), rows: [], affectedRows: 0) }
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var names: [String] = []
        var types: [UInt32] = []
        for column in 0..<columnCount {
            names.append(String(cString: PQfname(result, Int32(column))))
            types.append(UInt32(PQftype(result, Int32(column))))
        }
        let columns = PostgresColumns(names: names, types: types)
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, Int32(row), Int32(column)))
                    let pointer = PQgetvalue(result, Int32(row), Int32(column))
                    values.append(String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(columns: columns, rows: rows, affectedRows: affected)
    }

    private static func message(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer).trimmingTrailingWhitespace()
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withParameters(strings.map { .text($0) }) { pointers, _, _ in
        // Terminated: PQconnectdbParams stops at the first NULL keyword.
        body(pointers!)
    }
}

/// One parameter as sent: text (`nil` for NULL) or binary bytes.
enum ParameterValue: Sendable {
    case text(String?)
    case binary([UInt8])
}

/// Calls `body` with libpq's parameter arrays: values (C strings for text, raw bytes for binary)
/// followed by a terminating NULL, and, when any value is binary, their lengths and formats
/// (otherwise both `nil`: all text). `connect` uses it for its keyword and value lists too.
private func withParameters<R>(
    _ values: [ParameterValue],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
) -> R {
    /// A copy of `bytes` that lives until the `defer` below.
    func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutablePointer<CChar> {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
        if let base = bytes.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: bytes.count) }
        return buffer
    }
    var owned: [UnsafeMutablePointer<CChar>?] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []
    var anyBinary = false
    owned.reserveCapacity(values.count + 1)
    for value in values {
        switch value {
        case .text(let text):
            owned.append(text.map { $0.utf8CString.withUnsafeBytes(copy) })  // NUL-terminated
            lengths.append(0)
            formats.append(0)
        case .binary(let bytes):
            owned.append(bytes.withUnsafeBytes(copy))
            lengths.append(Int32(bytes.count))
            formats.append(1)
            anyBinary = true
        }
    }
    owned.append(nil)
    defer { for pointer in owned { pointer?.deallocate() } }
    return owned.withUnsafeBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { pointers in
            guard anyBinary else { return body(pointers, nil, nil) }
            return lengths.withUnsafeBufferPointer { lengthPointer in
                formats.withUnsafeBufferPointer { formatPointer in body(pointers, lengthPointer.baseAddress, formatPointer.baseAddress) }
            }
        }
    }
}
