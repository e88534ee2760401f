import ClientSupport
import NetworkTransport

/// How to reach a Redis server and how the client behaves towards it.
public struct RedisConfiguration: Sendable, Hashable {
    /// Where the server listens.
    public enum Endpoint: Sendable, Hashable {
        /// A TCP host and port.
        case tcp(host: String, port: Int)
        /// A Unix domain socket path.
        case unix(path: String)
    }

    /// Where the server listens (ignored when ``sentinel`` is set). Default: `127.0.0.1:6379`.
    public var endpoint: Endpoint
    /// TLS settings; `nil` speaks plain TCP. Default: `nil` (`rediss://` sets it).
    public var tls: TLSConfiguration?
    /// The name sent as SNI and matched against the server's certificate; `nil` uses the host
    /// connected to. Default: `nil` (`rediss://localhost` sets `localhost`).
    public var serverName: String?
    /// Where to find the master through Sentinel; `nil` connects to ``endpoint``. Default: `nil`.
    public var sentinel: RedisSentinelConfiguration?
    /// ACL user name for `AUTH`, if any. Default: `nil`.
    public var username: String?
    /// Password for `AUTH`, if any. Never printed. Default: `nil`.
    public var password: String?
    /// Logical database selected after connecting. Default: `0`.
    public var database: Int
    /// Bound on establishing one connection (TCP connect, TLS handshake). Default: `.seconds(5)`.
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
        clientName: String? = nil,
        tls: TLSConfiguration? = nil,
        sentinel: RedisSentinelConfiguration? = nil
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
        self.tls = tls
        self.sentinel = sentinel
    }

    /// Parses a `REDIS_URL` the way redis-py does: `redis://[[user]:password@]host[:port][/db]`,
    /// `rediss://…` (TLS, with redis-py's `ssl_*` query options), `unix:///path.sock[?db=N]`, and
    /// `redis+sentinel://[[user]:password@]host:port[,host:port…]/MASTER[/db]` (also
    /// `rediss+sentinel://`). See `docs/operations.md` for every option.
    ///
    /// - Throws: ``RedisClientError`` with code `invalidURL`, or `unsupportedURL` for an option
    ///   this client cannot honour. Messages never repeat a password.
    public init(url: String) throws(RedisClientError) {
        self = try RedisURLParser.parse(url)
    }

    /// The address data connections go to when there is no Sentinel.
    var address: TransportAddress {
        switch endpoint {
        case .tcp(let host, let port): .tcp(host: host, port: port)
        case .unix(let path): .unix(path: path)
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
        if let sentinel {
            let scheme = tls == nil ? "redis+sentinel" : "rediss+sentinel"
            let hosts = sentinel.sentinels.map(\.description).joined(separator: ",")
            return "\(scheme)://\(auth)\(hosts)/\(sentinel.masterName)/\(database)"
        }
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "\(tls == nil ? "redis" : "rediss")://\(auth)\(shownHost):\(port)/\(database)"
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
