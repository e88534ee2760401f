/// An error from the PostgreSQL client. Match on ``code`` (and ``sqlState`` for server errors).
/// The message never contains the connection password.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidURL, connectionFailed, connectionClosed, server, decoding, poolClosed, migration
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// `DB_URL` could not be parsed.
        public static let invalidURL = Code(.invalidURL)
        /// No connection could be established within the reconnect budget.
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection broke while a statement was in flight; it may or may not have run.
        public static let connectionClosed = Code(.connectionClosed)
        /// The server rejected the statement; see ``PostgresError/sqlState``.
        public static let server = Code(.server)
        /// A column could not be decoded as the requested Swift type.
        public static let decoding = Code(.decoding)
        /// The client was shut down.
        public static let poolClosed = Code(.poolClosed)
        /// A schema migration failed.
        public static let migration = Code(.migration)

        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// The five-character SQLSTATE for server errors (e.g. `23505` unique violation).
    public var sqlState: String?
    /// A human-readable explanation, free of secrets.
    public var message: String

    /// Whether a reconnect loop should try again (false for refused credentials, a missing
    /// database or a refused certificate, which no retry can fix).
    public internal(set) var retryable = true

    /// Creates an error.
    public init(_ code: Code, _ message: String, sqlState: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
    }

    /// Whether retrying later may succeed: connection problems, serialization failures,
    /// deadlocks and the server shutting down or starting up (SQLSTATE classes 08, 40, 53, 57P).
    public var isTransient: Bool {
        if code == .connectionFailed || code == .connectionClosed { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || sqlState.hasPrefix("40") || sqlState.hasPrefix("53") || sqlState.hasPrefix("57P")
    }

    /// `"Postgres <code> [SQLSTATE]: <message>"`.
    public var description: String {
        "Postgres \(code)\(sqlState.map { " [\($0)]" } ?? ""): \(message)"
    }
}
