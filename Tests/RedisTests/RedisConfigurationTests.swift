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

    @Test func tlsIsRefusedClearly() {
        #expect {
            try RedisConfiguration(url: "rediss://user:secretpw@host:6380/0")
        } throws: { error in
            let error = error as? RedisClientError
            return error?.code == .unsupportedURL && error?.message.contains("TLS") == true
                && error?.message.contains("secretpw") == false
        }
    }

    @Test(arguments: ["127.0.0.1:6379", "http://host", "redis://host:notaport", "redis://host:6379/x", "redis://host:70000"])
    func invalidURLs(url: String) {
        #expect(throws: RedisClientError.self) { try RedisConfiguration(url: url) }
    }
}
