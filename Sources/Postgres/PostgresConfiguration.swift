import ClientSupport

/// How to reach a PostgreSQL server and how the client behaves towards it.
public struct PostgresConfiguration: Sendable, Hashable {
    /// The libpq connection URI (`postgresql://…`), with the SQLAlchemy driver suffix removed.
    /// Contains the password: never print it; use ``redactedURL``.
    public var url: String
    /// The password parsed from the URL, kept only to scrub it from server messages.
    var password: String?
    /// Bound on establishing a connection. Default: `.seconds(5)`.
    public var connectTimeout: Duration
    /// Pacing of reconnect attempts. Default: `Backoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1))`.
    public var reconnectBackoff: Backoff
    /// How long one operation keeps trying to (re)connect before failing. Default: `.seconds(10)`.
    public var reconnectBudget: Duration
    /// The bound on pooled connections of a ``PostgresClient``. Default: `5`.
    public var maximumConnections: Int
    /// `application_name` shown in `pg_stat_activity`. Default: `"resume-processor"`.
    public var applicationName: String
    /// Whether statements with parameters are prepared once per connection and reused (the server
    /// then parses and plans each once). Turn it off behind a pooler that does not keep prepared
    /// statements (PgBouncer in transaction mode before 1.21): `DB_PREPARED_STATEMENTS=false`.
    /// Default: `true`.
    public var preparedStatements: Bool = true
    /// The URL with the password replaced by `***`.
    public let redactedURL: String

    /// Parses the seed's `DB_URL` (`postgresql://user:pass@host:port/db`); `ASYNC_DB_URL`'s
    /// `postgresql+asyncpg://` (any `+driver` suffix) and `postgres://` mean the same database.
    ///
    /// - Throws: ``PostgresError`` with code `invalidURL`; the message never repeats the password.
    public init(
        url: String,
        connectTimeout: Duration = .seconds(5),
        reconnectBackoff: Backoff = Backoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1)),
        reconnectBudget: Duration = .seconds(10),
        maximumConnections: Int = 5,
        applicationName: String = "resume-processor"
    ) throws(PostgresError) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw PostgresError(.invalidURL, "DB_URL must look like postgresql://user:password@host:port/db (got no scheme)")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let baseScheme = scheme.split(separator: "+", maxSplits: 1).first.map(String.init) ?? scheme
        guard baseScheme == "postgresql" || baseScheme == "postgres" else {
            throw PostgresError(.invalidURL, "DB_URL scheme '\(scheme)' is not postgresql:// (or postgresql+driver://)")
        }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        var password: String?
        var redactedAuthority = String(authority)
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                password = String(userInfo[userInfo.index(after: colon)...])
                redactedAuthority = "\(userInfo[..<colon]):***@\(authority[authority.index(after: at)...])"
            }
        }
        guard maximumConnections >= 1 else {
            throw PostgresError(.invalidURL, "the PostgreSQL pool needs at least one connection")
        }
        let libpqRest = Self.libpqQuery(String(rest))
        self.url = "postgresql://" + libpqRest
        self.password = password.map(URLText.percentDecoded)
        self.redactedURL = "postgresql://" + redactedAuthority + libpqRest.dropFirst(authority.count)
        self.connectTimeout = connectTimeout
        self.reconnectBackoff = reconnectBackoff
        self.reconnectBudget = reconnectBudget
        self.maximumConnections = maximumConnections
        self.applicationName = applicationName
    }

    /// asyncpg's `ssl=` query option (the seed's `ASYNC_DB_URL` form, `?ssl=require`) as libpq's
    /// `sslmode=`; `true` means `require` and `false` `disable`, as asyncpg reads them. Everything
    /// else (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`, …) passes to libpq as written.
    static func libpqQuery(_ rest: String) -> String {
        guard let mark = rest.firstIndex(of: "?") else { return rest }
        let pairs = rest[rest.index(after: mark)...].split(separator: "&").map(String.init)
        let hasSSLMode = pairs.contains { $0.hasPrefix("sslmode=") }
        let mapped: [String] = pairs.compactMap { pair in
            guard pair.hasPrefix("ssl=") else { return pair }
            if hasSSLMode { return nil }
            let value = pair.dropFirst(4).lowercased()
            switch value {
            case "true", "1", "yes", "on": return "sslmode=require"
            case "false", "0", "no", "off": return "sslmode=disable"
            default: return "sslmode=\(value)"
            }
        }
        return rest[..<mark] + (mapped.isEmpty ? "" : "?" + mapped.joined(separator: "&"))
    }

    /// Removes the password (raw and percent-decoded) from a message that may echo connection data.
    func scrub(_ message: String) -> String {
        var result = message
        for secret in [password, rawPassword].compactMap({ $0 }) where !secret.isEmpty {
            result = result.replacingAll(secret, with: "***")
        }
        return result
    }

    private var rawPassword: String? {
        guard let at = url.lastIndex(of: "@"), let start = url.firstRange(of: "://")?.upperBound else { return nil }
        let userInfo = url[start..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return nil }
        return String(userInfo[userInfo.index(after: colon)...])
    }
}

extension PostgresConfiguration: CustomStringConvertible, CustomReflectable {
    /// The redacted URL.
    public var description: String { redactedURL }
    /// A mirror showing the redacted URL only, so `dump` cannot print the password.
    public var customMirror: Mirror { Mirror(self, children: ["url": redactedURL]) }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var remainder = self[...]
        while let range = remainder.firstRange(of: target) {
            result += remainder[..<range.lowerBound]
            result += replacement
            remainder = remainder[range.upperBound...]
        }
        return result + remainder
    }
}
