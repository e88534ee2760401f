import ClientSupport

/// How to reach a Redis server and how the client behaves towards it.
public struct RedisConfiguration: Sendable, Hashable {
    /// Where the server listens.
    public enum Endpoint: Sendable, Hashable {
        /// A TCP host and port.
        case tcp(host: String, port: Int)
        /// A Unix domain socket path.
        case unix(path: String)
    }

    /// Where the server listens. Default: `127.0.0.1:6379`.
    public var endpoint: Endpoint
    /// ACL user name for `AUTH`, if any. Default: `nil`.
    public var username: String?
    /// Password for `AUTH`, if any. Never printed. Default: `nil`.
    public var password: String?
    /// Logical database selected after connecting. Default: `0`.
    public var database: Int
    /// Bound on establishing one TCP connection. Default: `.seconds(5)`.
    public var connectTimeout: Duration
    /// Bound on waiting for a reply (blocking commands add their own timeout). `nil` waits forever.
    /// Default: `.seconds(30)`.
    public var commandTimeout: Duration?
    /// Pacing of reconnect attempts after the server went away. Default: 50 ms doubling to 1 s, so a
    /// client is back at most about a second after the server is (the chaos suite's goal is 2 s).
    public var reconnectBackoff: Backoff
    /// How long one operation keeps trying to (re)connect before it fails with
    /// ``RedisClientError/Code/connectionFailed``. Default: `.seconds(10)`.
    public var reconnectBudget: Duration
    /// The bound on pooled connections of a ``RedisClient``. Default: `8`.
    public var maximumConnections: Int
    /// Name shown by `CLIENT LIST`, if any. Default: `nil`.
    public var clientName: String?

    /// Creates a configuration; see the properties for the defaults.
    public init(
        endpoint: Endpoint = .tcp(host: "127.0.0.1", port: 6379),
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(5),
        commandTimeout: Duration? = .seconds(30),
        reconnectBackoff: Backoff = Backoff(initialDelay: .milliseconds(50), maximumDelay: .seconds(1)),
        reconnectBudget: Duration = .seconds(10),
        maximumConnections: Int = 8,
        clientName: String? = nil
    ) {
        precondition(maximumConnections >= 1, "maximumConnections must be at least 1")
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectBackoff = reconnectBackoff
        self.reconnectBudget = reconnectBudget
        self.maximumConnections = maximumConnections
        self.clientName = clientName
    }

    /// Parses a `REDIS_URL`: `redis://[user:password@]host[:port][/db]` or
    /// `unix://[user:password@]/path/to.sock[?db=N]`.
    ///
    /// - Throws: ``RedisClientError`` with code `invalidURL`, or `unsupportedURL` for `rediss://`
    ///   (TLS is not supported by this client). Messages never repeat the password.
    public init(url: String) throws(RedisClientError) {
        self.init()
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw RedisClientError(.invalidURL, "REDIS_URL must look like redis://host:port/db (got no scheme)")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(url[schemeEnd.upperBound...])
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = URLText.percentDecoded(userInfo[..<colon])
                username = user.isEmpty ? nil : user
                password = URLText.percentDecoded(userInfo[userInfo.index(after: colon)...])
            } else if !userInfo.isEmpty {
                // redis-py treats a lone user-info part as the password.
                password = URLText.percentDecoded(userInfo)
            }
        }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "db":
                guard let db = Int(parts[1]), db >= 0 else {
                    throw RedisClientError(.invalidURL, "REDIS_URL has an invalid db query value")
                }
                database = db
            case "password": password = URLText.percentDecoded(parts[1])
            default: continue
            }
        }
        switch scheme {
        case "redis", "valkey":
            var hostPort = rest
            if let slash = rest.firstIndex(of: "/") {
                hostPort = rest[..<slash]
                let dbPart = rest[rest.index(after: slash)...]
                if !dbPart.isEmpty {
                    guard let db = Int(dbPart), db >= 0 else {
                        throw RedisClientError(.invalidURL, "REDIS_URL database must be a number, got '\(dbPart)'")
                    }
                    database = db
                }
            }
            var host = "127.0.0.1"
            var port = 6379
            if hostPort.hasPrefix("[") {
                guard let close = hostPort.firstIndex(of: "]") else {
                    throw RedisClientError(.invalidURL, "REDIS_URL has an unterminated IPv6 address")
                }
                host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
                let after = hostPort[hostPort.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()) else {
                        throw RedisClientError(.invalidURL, "REDIS_URL port must be a number")
                    }
                    port = p
                }
            } else if let colon = hostPort.lastIndex(of: ":") {
                host = String(hostPort[..<colon])
                guard let p = Int(hostPort[hostPort.index(after: colon)...]) else {
                    throw RedisClientError(.invalidURL, "REDIS_URL port must be a number")
                }
                port = p
            } else if !hostPort.isEmpty {
                host = String(hostPort)
            }
            if host.isEmpty || host == "localhost" { host = "127.0.0.1" }
            guard (1...65535).contains(port) else {
                throw RedisClientError(.invalidURL, "REDIS_URL port \(port) is out of range")
            }
            endpoint = .tcp(host: host, port: port)
        case "unix":
            guard rest.hasPrefix("/") else {
                throw RedisClientError(.invalidURL, "unix:// REDIS_URL needs an absolute socket path")
            }
            endpoint = .unix(path: String(rest))
        case "rediss", "valkeys":
            throw RedisClientError(.unsupportedURL, "TLS (rediss://) is not supported by this client; use redis:// or a TLS proxy such as stunnel")
        default:
            throw RedisClientError(.invalidURL, "REDIS_URL scheme '\(scheme)' is not one of redis, unix, rediss")
        }
    }

    /// The URL with any password replaced by `***`, for logs.
    public var redactedURL: String {
        let auth: String
        switch (username, password) {
        case (nil, nil): auth = ""
        case (let user?, nil): auth = "\(user)@"
        case (let user, _?): auth = "\(user ?? ""):***@"
        }
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "redis://\(auth)\(shownHost):\(port)/\(database)"
        case .unix(let path):
            return "unix://\(auth)\(path)?db=\(database)"
        }
    }
}

extension RedisConfiguration: CustomStringConvertible {
    /// The redacted URL; the password is never shown.
    public var description: String { redactedURL }
}

extension RedisConfiguration: CustomReflectable {
    /// A mirror that shows the redacted URL only, so `dump` cannot print the password.
    public var customMirror: Mirror { Mirror(self, children: ["url": redactedURL]) }
}
