/// An error from the Redis client. Match on ``code``; the ``message`` is safe to log (it never
/// contains a password or a command's arguments).
public struct RedisClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidURL, unsupportedURL, connectionFailed, connectionClosed, timeout, protocolError
            case serverError, transactionAborted, poolClosed, cancelled, notReplicated
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The URL could not be parsed.
        public static let invalidURL = Code(.invalidURL)
        /// The URL asks for something this client does not do (for example TLS with `rediss://`).
        public static let unsupportedURL = Code(.unsupportedURL)
        /// No connection could be established within the reconnect budget.
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection broke while a command was in flight; the command may or may not have run.
        public static let connectionClosed = Code(.connectionClosed)
        /// The server did not answer within the command timeout.
        public static let timeout = Code(.timeout)
        /// The server's bytes could not be parsed.
        public static let protocolError = Code(.protocolError)
        /// The server answered with an error reply.
        public static let serverError = Code(.serverError)
        /// `EXEC` refused the transaction because a queued command was rejected (`EXECABORT`).
        public static let transactionAborted = Code(.transactionAborted)
        /// The client was shut down.
        public static let poolClosed = Code(.poolClosed)
        /// The calling task was cancelled while a command was in flight.
        public static let cancelled = Code(.cancelled)
        /// A write was applied by a master that could not show a replica holding it before the
        /// master changed (a failover in progress): it may be lost, so write it again on the new
        /// master. Transient.
        public static let notReplicated = Code(.notReplicated)

        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation, free of secrets.
    public var message: String

    /// Whether a reconnect loop should try again (false for rejected credentials or database, a
    /// refused certificate or TLS setting, which no retry can fix).
    public internal(set) var retryable = true

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether retrying later may succeed: connection and timeout failures, and the server errors
    /// of a server that will answer soon — `LOADING` (restarted, reading its AOF/RDB), `BUSY` (a
    /// long script), `TRYAGAIN`, `MASTERDOWN`, `READONLY` (a replica during a failover), `NOREPLICAS` (a master that
    /// lost its replicas under `min-replicas-to-write`: an old master after a failover),
    /// `CLUSTERDOWN`.
    public var isTransient: Bool {
        switch code {
        case .connectionFailed, .connectionClosed, .timeout, .notReplicated: return true
        case .serverError: return Self.isTransientServerError(message)
        default: return false
        }
    }

    /// Whether a server error reply names a passing condition (see ``isTransient``).
    public static func isTransientServerError(_ message: String) -> Bool {
        ["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY", "NOREPLICAS", "CLUSTERDOWN"].contains { prefix in
            message.hasPrefix(prefix) && (message.count == prefix.count || message.dropFirst(prefix.count).first == " ")
        }
    }

    /// `"Redis <code>: <message>"`.
    public var description: String { "Redis \(code): \(message)" }
}
