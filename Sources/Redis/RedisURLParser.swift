import ClientSupport
import NetworkTransport

/// `REDIS_URL` → ``RedisConfiguration``, following redis-py's `from_url` (and the
/// `redis+sentinel://` form of the `redis-sentinel-url` package that Python RQ setups use).
enum RedisURLParser {
    /// The `ssl_*` options of redis-py this client honours.
    private static let tlsOptions: Set<String> = [
        "ssl_cert_reqs", "ssl_ca_certs", "ssl_ca_path", "ssl_certfile", "ssl_keyfile", "ssl_password",
        "ssl_check_hostname", "ssl_min_version", "ssl_ciphers",
    ]

    static func parse(_ url: String) throws(RedisClientError) -> RedisConfiguration {
        var configuration = RedisConfiguration()
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw RedisClientError(.invalidURL, "REDIS_URL must look like redis://host:port/db (got no scheme)")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(url[schemeEnd.upperBound...])
        var query: [(String, String)] = []
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...].split(separator: "&").compactMap { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { return nil }
                return (URLText.percentDecoded(parts[0]), URLText.percentDecoded(parts[1].replacing("+", with: " ")))
            }
            rest = rest[..<mark]
        }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = URLText.percentDecoded(userInfo[..<colon])
                configuration.username = user.isEmpty ? nil : user
                configuration.password = URLText.percentDecoded(userInfo[userInfo.index(after: colon)...])
            } else if !userInfo.isEmpty {
                // redis-py treats a lone user-info part as the password.
                configuration.password = URLText.percentDecoded(userInfo)
            }
        }

        let usesTLS: Bool
        switch scheme {
        case "redis", "valkey":
            usesTLS = false
            try parseHostPath(rest, into: &configuration)
        case "rediss", "valkeys":
            usesTLS = true
            try parseHostPath(rest, into: &configuration)
        case "unix":
            usesTLS = false
            guard rest.hasPrefix("/") else {
                throw RedisClientError(.invalidURL, "unix:// REDIS_URL needs an absolute socket path")
            }
            configuration.endpoint = .unix(path: URLText.percentDecoded(rest))
        case "redis+sentinel", "rediss+sentinel", "valkey+sentinel", "valkeys+sentinel":
            usesTLS = scheme.hasPrefix("rediss") || scheme.hasPrefix("valkeys")
            try parseSentinel(rest, usesTLS: usesTLS, into: &configuration)
        default:
            throw RedisClientError(.invalidURL, "REDIS_URL scheme '\(scheme)' is not one of redis, rediss, unix, redis+sentinel")
        }
        var tls = usesTLS ? TLSConfiguration() : nil
        for (name, value) in query {
            try apply(name, value, to: &configuration, tls: &tls)
        }
        configuration.tls = tls
        if tls == nil { configuration.serverName = nil }
        return configuration
    }

    private static func apply(
        _ name: String, _ value: String, to configuration: inout RedisConfiguration, tls: inout TLSConfiguration?
    ) throws(RedisClientError) {
        if name.hasPrefix("ssl_") {
            guard tlsOptions.contains(name) else {
                throw RedisClientError(.unsupportedURL, "REDIS_URL option \(name) is not supported by this client")
            }
            guard tls != nil else {
                throw RedisClientError(.invalidURL, "REDIS_URL option \(name) needs a TLS URL (rediss://)")
            }
            try applyTLS(name, value, to: &tls!)
            return
        }
        switch name {
        case "db":
            guard let db = Int(value), db >= 0 else { throw RedisClientError(.invalidURL, "REDIS_URL has an invalid db query value") }
            configuration.database = db
        case "password": configuration.password = value
        case "username": configuration.username = value.isEmpty ? nil : value
        case "client_name": configuration.clientName = value.isEmpty ? nil : value
        case "socket_connect_timeout": configuration.connectTimeout = try seconds(name, value)
        case "socket_timeout": configuration.commandTimeout = try seconds(name, value)
        case "sentinel_password": configuration.sentinel?.password = value
        case "sentinel_username": configuration.sentinel?.username = value.isEmpty ? nil : value
        case "sentinel_ssl": configuration.sentinel?.usesTLS = Self.bool(value) ?? true
        case "client_type" where value != "master":
            throw RedisClientError(.unsupportedURL, "REDIS_URL client_type=\(value): only the master is used (jobs need writes)")
        default:
            // redis-py's other options (health_check_interval, retry_on_timeout, …) tune its own
            // pool; this client has its own rules for those.
            return
        }
    }

    private static func applyTLS(_ name: String, _ value: String, to tls: inout TLSConfiguration) throws(RedisClientError) {
        switch name {
        case "ssl_cert_reqs":
            guard let requirement = TLSConfiguration.CertificateRequirement(rawValue: value.lowercased()) else {
                throw RedisClientError(.invalidURL, "REDIS_URL ssl_cert_reqs must be none, optional or required (got '\(value)')")
            }
            tls.certificateRequirement = requirement
        case "ssl_ca_certs": tls.caFile = value
        case "ssl_ca_path": tls.caDirectory = value
        case "ssl_certfile": tls.certificateFile = value
        case "ssl_keyfile": tls.keyFile = value
        case "ssl_password": tls.keyPassword = value
        case "ssl_check_hostname": tls.checkHostname = Self.bool(value) ?? true
        case "ssl_ciphers": tls.ciphers = value
        case "ssl_min_version":
            guard let version = Int(value), version == 771 || version == 772 else {
                throw RedisClientError(.invalidURL, "REDIS_URL ssl_min_version must be 771 (TLS 1.2) or 772 (TLS 1.3)")
            }
            tls.minimumVersion = version
        default: break
        }
    }

    /// redis-py's `to_bool`: empty means unset; 0, f, false, n, no (any case) are false; the rest true.
    private static func bool(_ value: String) -> Bool? {
        if value.isEmpty { return nil }
        return !["0", "F", "FALSE", "N", "NO"].contains(value.uppercased())
    }

    private static func seconds(_ name: String, _ value: String) throws(RedisClientError) -> Duration {
        guard let number = Double(value), number > 0, number < 1_000_000 else {
            throw RedisClientError(.invalidURL, "REDIS_URL \(name) must be a positive number of seconds")
        }
        return .milliseconds(Int((number * 1000).rounded(.up)))
    }

    /// `host[:port][/db]` for `redis://` and `rediss://`.
    private static func parseHostPath(_ rest: Substring, into configuration: inout RedisConfiguration) throws(RedisClientError) {
        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let dbPart = rest[rest.index(after: slash)...]
            if !dbPart.isEmpty {
                guard let db = Int(dbPart), db >= 0 else {
                    throw RedisClientError(.invalidURL, "REDIS_URL database must be a number, got '\(dbPart)'")
                }
                configuration.database = db
            }
        }
        var (host, port) = try hostAndPort(hostPort, defaultPort: 6379)
        configuration.serverName = host.isEmpty ? "localhost" : host
        if host.isEmpty || host == "localhost" { host = "127.0.0.1" }
        configuration.endpoint = .tcp(host: host, port: port)
    }

    /// `h1:p1,h2:p2/MASTER[/db]`.
    private static func parseSentinel(_ rest: Substring, usesTLS: Bool, into configuration: inout RedisConfiguration) throws(RedisClientError) {
        let hostList = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(hostList.count).split(separator: "/", omittingEmptySubsequences: true)
        var sentinels: [TransportAddress] = []
        for item in hostList.split(separator: ",") {
            let (host, port) = try hostAndPort(item, defaultPort: 26379)
            sentinels.append(.tcp(host: host.isEmpty || host == "localhost" ? "127.0.0.1" : host, port: port))
        }
        guard !sentinels.isEmpty else { throw RedisClientError(.invalidURL, "redis+sentinel:// URL names no Sentinel host") }
        guard let master = path.first, !master.isEmpty else {
            throw RedisClientError(.invalidURL, "redis+sentinel:// URL needs the master's name: redis+sentinel://host:26379/mymaster/0")
        }
        if path.count >= 2 {
            guard let db = Int(path[1]), db >= 0 else {
                throw RedisClientError(.invalidURL, "REDIS_URL database must be a number, got '\(path[1])'")
            }
            configuration.database = db
        }
        configuration.sentinel = RedisSentinelConfiguration(
            sentinels: sentinels, masterName: URLText.percentDecoded(master), usesTLS: usesTLS)
    }

    private static func hostAndPort(_ text: Substring, defaultPort: Int) throws(RedisClientError) -> (String, Int) {
        var host = ""
        var port = defaultPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw RedisClientError(.invalidURL, "REDIS_URL has an unterminated IPv6 address")
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { throw RedisClientError(.invalidURL, "REDIS_URL port must be a number") }
                port = p
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = Int(text[text.index(after: colon)...]) else {
                throw RedisClientError(.invalidURL, "REDIS_URL port must be a number")
            }
            port = p
        } else {
            host = String(text)
        }
        guard (1...65535).contains(port) else {
            throw RedisClientError(.invalidURL, "REDIS_URL port \(port) is out of range")
        }
        return (host, port)
    }
}
