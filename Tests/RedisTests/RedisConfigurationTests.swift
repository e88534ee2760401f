import NetworkTransport
import Redis
import Testing

@Suite("Redis URL parsing")
struct RedisConfigurationTests {
    @Test func hostPortAndDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://cache.internal:6380/3")
        #expect(configuration.endpoint == .tcp(host: "cache.internal", port: 6380))
        #expect(configuration.database == 3)
        #expect(configuration.password == nil)
    }

    @Test func defaultsForBareURL() throws {
        let configuration = try RedisConfiguration(url: "redis://localhost")
        #expect(configuration.endpoint == .tcp(host: "127.0.0.1", port: 6379))
        #expect(configuration.database == 0)
    }

    @Test func userPasswordArePercentDecodedAndRedacted() throws {
        let configuration = try RedisConfiguration(url: "redis://app:s3cr%40t@127.0.0.1:6379/0")
        #expect(configuration.username == "app")
        #expect(configuration.password == "s3cr@t")
        #expect(!configuration.description.contains("s3cr"))
        #expect(configuration.redactedURL == "redis://app:***@127.0.0.1:6379/0")
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("s3cr"))
    }

    @Test func passwordOnlyUserInfo() throws {
        let configuration = try RedisConfiguration(url: "redis://:pw@127.0.0.1:6379")
        #expect(configuration.username == nil)
        #expect(configuration.password == "pw")
    }

    @Test func unixSocket() throws {
        let configuration = try RedisConfiguration(url: "unix:///run/redis/redis.sock?db=2")
        #expect(configuration.endpoint == .unix(path: "/run/redis/redis.sock"))
        #expect(configuration.database == 2)
    }

    @Test(arguments: ["127.0.0.1:6379", "http://host", "redis://host:notaport", "redis://host:6379/x", "redis://host:70000"])
    func invalidURLs(url: String) {
        #expect(throws: RedisClientError.self) { try RedisConfiguration(url: url) }
    }
}

@Suite("Redis TLS and Sentinel URLs (redis-py's query options)")
struct RedisURLOptionTests {
    @Test func redissTurnsOnVerifiedTLSWithTheHostAsServerName() throws {
        let configuration = try RedisConfiguration(url: "rediss://:pw@localhost:6380/2")
        #expect(configuration.tls == TLSConfiguration())
        #expect(configuration.tls?.certificateRequirement == .required)
        #expect(configuration.tls?.checkHostname == true)
        #expect(configuration.serverName == "localhost")
        #expect(configuration.database == 2)
        #expect(configuration.redactedURL == "rediss://:***@127.0.0.1:6380/2")
    }

    @Test func sslOptionsAreRead() throws {
        let configuration = try RedisConfiguration(
            url: "rediss://cache:6380?ssl_cert_reqs=none&ssl_ca_certs=/ca%20dir/ca.pem&ssl_certfile=/c.pem&ssl_keyfile=/k.pem"
                + "&ssl_check_hostname=False&ssl_min_version=772&ssl_password=secret&socket_connect_timeout=1.5&socket_timeout=7")
        let tls = try #require(configuration.tls)
        #expect(tls.certificateRequirement == .none)
        #expect(tls.caFile == "/ca dir/ca.pem")
        #expect(tls.certificateFile == "/c.pem" && tls.keyFile == "/k.pem")
        #expect(tls.checkHostname == false)
        #expect(tls.minimumVersion == 772)
        #expect(configuration.connectTimeout == .milliseconds(1500))
        #expect(configuration.commandTimeout == .seconds(7))
        #expect(!tls.description.contains("secret"))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("secret"))
    }

    @Test(arguments: ["rediss://h?ssl_cert_reqs=maybe", "rediss://h?ssl_min_version=3", "redis://h?ssl_ca_certs=/ca.pem",
                      "redis+sentinel://h:26379", "redis+sentinel:///mymaster"])
    func badOptionsAreRefused(url: String) {
        #expect(throws: RedisClientError.self) { try RedisConfiguration(url: url) }
    }

    @Test func optionsThisClientCannotHonourAreRefusedByName() {
        #expect {
            try RedisConfiguration(url: "rediss://h?ssl_validate_ocsp=true")
        } throws: { error in
            (error as? RedisClientError)?.code == .unsupportedURL && (error as? RedisClientError)?.message.contains("ssl_validate_ocsp") == true
        }
    }

    @Test func sentinelURLs() throws {
        let configuration = try RedisConfiguration(
            url: "redis+sentinel://app:pw@10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster/3?sentinel_password=sp")
        let sentinel = try #require(configuration.sentinel)
        #expect(sentinel.sentinels == [.tcp(host: "10.0.0.1", port: 26379), .tcp(host: "10.0.0.2", port: 26379), .tcp(host: "::1", port: 26380)])
        #expect(sentinel.masterName == "mymaster")
        #expect(sentinel.password == "sp")
        #expect(configuration.username == "app" && configuration.password == "pw")
        #expect(configuration.database == 3)
        #expect(configuration.tls == nil)
        #expect(configuration.redactedURL == "redis+sentinel://app:***@10.0.0.1:26379,10.0.0.2:26379,[::1]:26380/mymaster/3")
        let tls = try RedisConfiguration(url: "rediss+sentinel://s:26379/m?ssl_ca_certs=/ca.pem")
        #expect(tls.sentinel?.usesTLS == true && tls.tls?.caFile == "/ca.pem")
        #expect(try RedisConfiguration(url: "rediss+sentinel://s/m?sentinel_ssl=false").sentinel?.usesTLS == false)
    }
}
