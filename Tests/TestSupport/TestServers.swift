import Foundation
import Logging
import Postgres
@_exported import ProcessSupport
import Redis

#if canImport(Glibc)
import Glibc
#endif

/// Where the test servers are: `scripts/test.sh` starts a Redis and a PostgreSQL on free loopback
/// ports and exports `TEST_REDIS_URL` and `TEST_DB_URL` (falling back to `REDIS_URL`/`DB_URL`).
/// The servers are a hard dependency of the suite: without them a test fails with a message that
/// says how to run it.
public enum TestEnvironment {
    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The Redis URL of the test server.
    public static var redisURL: String {
        get throws {
            guard let url = environment["TEST_REDIS_URL"] ?? environment["REDIS_URL"] else {
                throw TestSetupError("TEST_REDIS_URL is not set: run the suite with scripts/test.sh")
            }
            return url
        }
    }

    /// The PostgreSQL URL of the test server (its role may create databases).
    public static var postgresURL: String {
        get throws {
            guard let url = environment["TEST_DB_URL"] ?? environment["DB_URL"] else {
                throw TestSetupError("TEST_DB_URL is not set: run the suite with scripts/test.sh")
            }
            return url
        }
    }

    /// The moto server (S3 and a scripted Textract, no signature checks) that `scripts/moto.sh`
    /// starts for `scripts/test.sh` (`TEST_MOTO_URL`).
    public static var motoURL: URL {
        get throws {
            guard let text = environment["TEST_MOTO_URL"], let url = URL(string: text) else {
                throw TestSetupError(
                    "TEST_MOTO_URL is not set: run the suite with scripts/test.sh, or start moto with "
                        + "`bash scripts/moto.sh start --dir DIR` and `source DIR/env`")
            }
            return url
        }
    }

    /// The second moto server, which checks SigV4 signatures, and the access key it accepts
    /// (`TEST_MOTO_AUTH_URL`, `TEST_MOTO_AUTH_ACCESS_KEY_ID`, `TEST_MOTO_AUTH_SECRET_ACCESS_KEY`).
    public static var motoSignatureChecking: (url: URL, accessKeyID: String, secretAccessKey: String) {
        get throws {
            guard let text = environment["TEST_MOTO_AUTH_URL"], let url = URL(string: text),
                let keyID = environment["TEST_MOTO_AUTH_ACCESS_KEY_ID"],
                let secret = environment["TEST_MOTO_AUTH_SECRET_ACCESS_KEY"]
            else {
                throw TestSetupError(
                    "TEST_MOTO_AUTH_URL and its keys are not set: run the suite with scripts/test.sh, or start moto "
                        + "with `bash scripts/moto.sh start --dir DIR` and `source DIR/env`")
            }
            return (url, keyID, secret)
        }
    }

    /// The `redis-server` binary, for tests that start and restart a private server.
    public static var redisServerBinary: String {
        environment["REDIS_SERVER_BIN"] ?? "/usr/bin/redis-server"
    }

    /// A variable of the extra servers `scripts/topology.sh` starts for `scripts/test.sh` (TLS
    /// Redis, a Sentinel group, TLS-only PostgreSQL), e.g. `topology("TOPO_TLS_URL")`.
    public static func topology(_ name: String) throws -> String {
        guard let value = environment[name], !value.isEmpty else {
            throw TestSetupError(
                "\(name) is not set: run the suite with scripts/test.sh, or start the servers with "
                    + "`bash scripts/topology.sh start --dir DIR` and `source DIR/env`")
        }
        return value
    }

    /// The local embedding model's folder: `TEST_EMBEDDING_MODEL`, else the `.models/` copy that
    /// `scripts/test.sh` (and `scripts/run.sh`) fetch.
    public static func embeddingModel() throws -> URL {
        if let path = environment["TEST_EMBEDDING_MODEL"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let fetched = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".models/all-minilm-l6-v2")
        guard FileManager.default.fileExists(atPath: fetched.appendingPathComponent("model.safetensors").path) else {
            throw TestSetupError(
                "the embedding model is not fetched: run the suite with scripts/test.sh, or "
                    + "`bash -c 'source scripts/lib.sh; ensure_embedding_model'`")
        }
        return fetched
    }

    /// A logger that prints warnings and worse (set `TEST_LOG_LEVEL=debug` to see more).
    public static var logger: Logger {
        var logger = Logger(label: "tests")
        logger.logLevel = environment["TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        return logger
    }
}

/// The suite was started without its servers.
public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A key no other test uses: `test:<prefix>:<uuid>`.
public func uniqueKey(_ prefix: String = #function) -> String {
    let cleaned = prefix.prefix { $0 != "(" }
    return "test:\(cleaned):\(UUID().uuidString.lowercased())"
}

/// A test waited too long.
public struct TimeoutError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs `body`, failing with ``TimeoutError`` if it takes longer than `limit`.
public func withTimeout<Result: Sendable>(
    _ limit: Duration,
    _ what: String = "operation",
    _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError(description: "\(what) did not finish within \(limit)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Polls `condition` every 20 ms until it holds, failing after `limit`.
public func waitUntil(
    _ limit: Duration = .seconds(5),
    _ what: String,
    _ condition: @Sendable () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TimeoutError(description: "\(what) did not happen within \(limit)")
}

/// Runs `body` with a client on the test Redis, shutting it down afterwards.
@discardableResult
public func withTestRedis<Result: Sendable>(
    maximumConnections: Int = 8,
    clientName: String? = nil,
    _ body: (RedisClient) async throws -> Result
) async throws -> Result {
    var configuration = try RedisConfiguration(url: try TestEnvironment.redisURL)
    configuration.maximumConnections = maximumConnections
    configuration.clientName = clientName
    let client = RedisClient(configuration: configuration, logger: TestEnvironment.logger)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Runs `body` with a client on a fresh, empty database created for this test and dropped after.
@discardableResult
public func withTemporaryDatabase<Result: Sendable>(
    maximumConnections: Int = 5,
    _ body: (PostgresClient, PostgresConfiguration) async throws -> Result
) async throws -> Result {
    let adminConfiguration = try PostgresConfiguration(url: try TestEnvironment.postgresURL)
    let admin = PostgresClient(configuration: adminConfiguration, logger: TestEnvironment.logger)
    let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    // Identifiers cannot be parameters; `name` is generated here from hex digits only.
    try await admin.query("CREATE DATABASE \(name)")
    let url = try TestEnvironment.postgresURL
    let base = url[..<(url.lastIndex(of: "/") ?? url.endIndex)]
    let configuration = try PostgresConfiguration(url: "\(base)/\(name)", maximumConnections: maximumConnections)
    let client = PostgresClient(configuration: configuration, logger: TestEnvironment.logger)
    func cleanUp() async {
        await client.shutdown()
        _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.shutdown()
    }
    do {
        let result = try await body(client, configuration)
        await cleanUp()
        return result
    } catch {
        await cleanUp()
        throw error
    }
}

/// A private `redis-server` process for tests that stop and restart the server.
public final class RedisServerProcess: @unchecked Sendable {
    // `@unchecked`: `process` is only touched by the one test that owns this object.
    public let port: Int
    private var process: ChildProcess?
    private let directory: URL

    /// Reserves a free loopback port; call ``start()`` to launch.
    public init() throws {
        port = try freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        process = nil  // ChildProcess.deinit kills and reaps a child still running
        try? FileManager.default.removeItem(at: directory)
    }

    /// `redis://127.0.0.1:<port>/0`.
    public var url: String { "redis://127.0.0.1:\(port)/0" }

    /// Launches the server and waits until it accepts connections.
    public func start() async throws {
        process = try ChildProcess(
            executable: TestEnvironment.redisServerBinary,
            arguments: ["--bind", "127.0.0.1", "--port", "\(port)", "--save", "", "--appendonly", "no", "--dir", directory.path],
            logPath: directory.appendingPathComponent("redis.log").path
        )
        try await waitUntil(.seconds(10), "redis-server on port \(port) accepting connections") {
            canConnect(port: self.port)
        }
    }

    /// Stops the server with SIGTERM (our own child only) and waits for it to exit.
    public func stop() async throws {
        try await process?.stop()
        process = nil
    }
}

/// A TCP port free on 127.0.0.1 at the time of the call.
public func freeLoopbackPort() throws -> Int { try LoopbackPort.free() }

/// Whether a TCP connection to 127.0.0.1:`port` succeeds now.
public func canConnect(port: Int) -> Bool { LoopbackPort.accepts(port) }
