import ApplicationStore
import Foundation
import Postgres
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `worker` and `api` started before their servers: they stay up, log each attempt, answer
/// `/ready` 503, and start (migrations first) once the servers answer — or exit when told to.
@Suite("Waiting for servers at start", .serialized, .timeLimit(.minutes(4)))
struct StartupWaitTests {
    private static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func binary(_ name: String) throws -> String {
        let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSetupError("\(path) is missing: build with `swift build --build-tests`")
        }
        return path
    }

    private func folder(_ name: String) throws -> String {
        let path = "/tmp/rp-startup-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        return path
    }

    /// This process's environment with the servers and the data folder of one test.
    private func environment(redis: String, db: String, directory: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_URL"] = redis
        environment["DB_URL"] = db
        environment["DATA_DIR"] = "\(directory)/files"
        return environment
    }

    private func log(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    private func occurrences(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// A worker whose PostgreSQL is not there yet waits, then migrates and runs once
    /// `scripts/services.sh` brings a real server up on the port it was given.
    @Test func aWorkerStartedBeforePostgreSQLWaitsAndThenStarts() async throws {
        let worker = try binary("worker")
        let directory = try folder("pg")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pgPort = try freeLoopbackPort()
        let metricsPort = try freeLoopbackPort()
        // services.sh reuses the ports it finds in DIR/ports: its PostgreSQL comes up where the
        // worker already looks.
        try "REDIS_PORT=\(try freeLoopbackPort())\nPG_PORT=\(pgPort)\n".write(toFile: "\(directory)/ports", atomically: true, encoding: .utf8)
        let environment = environment(
            redis: try TestEnvironment.redisURL, db: "postgresql://resume:resume-local-dev@127.0.0.1:\(pgPort)/resume_processor", directory: directory)
        let logPath = "\(directory)/worker.log"
        let process = try ChildProcess(
            executable: worker, arguments: ["run", "--metrics-port", "\(metricsPort)", "--env-file", "\(directory)/absent.env", "--name", "startup-wait-\(UUID().uuidString.prefix(6))"],
            logPath: logPath, environment: environment)
        defer { process.signal(SIGKILL) }
        try await waitUntil(.seconds(30), "two logged attempts") { occurrences("waiting for postgres", in: log(logPath)) >= 2 }
        #expect(log(logPath).contains("next attempt in"))
        #expect(log(logPath).contains("Connection refused") || log(logPath).contains("connection refused"))
        let waiting = try await RawHTTP.getJSON(port: metricsPort, "/ready")
        #expect(waiting.status == 503)
        #expect(waiting.text.contains("waiting for postgres"), "\(waiting.text)")
        #expect(process.isRunning)

        let script = Self.repositoryRoot.appendingPathComponent("scripts/services.sh").path
        let services = try ChildProcess(
            executable: "bash", arguments: [script, "start", "--dir", directory, "--ephemeral"], logPath: "\(directory)/services.log")
        do {
            #expect(try await services.waitForExit(.seconds(90)), "services.sh did not finish: \(log("\(directory)/services.log"))")
            try await waitUntil(.seconds(60), "the worker's /ready to answer 200") {
                (try? await RawHTTP.getJSON(port: metricsPort, "/ready").status) == 200
            }
            #expect(log(logPath).contains("servers answer; starting"))
            // The migrations ran on the server that came up.
            let postgres = PostgresClient(configuration: try PostgresConfiguration(url: environment["DB_URL"]!), logger: TestEnvironment.logger)
            #expect(try await postgres.query("SELECT count(*) FROM applications").first?.decode(0, as: Int.self) == 0)
            await postgres.shutdown()
            try await process.stop(grace: .seconds(20))
            #expect(process.exitStatus == 0, "\(log(logPath).suffix(2000))")
            // (stdout reaches the log file when the process flushes it, at the latest at exit)
            #expect(log(logPath).contains("migrations applied now: \(ResumeSchema.migrations.count)"), "\(log(logPath).suffix(2000))")
        } catch {
            Issue.record("\(error)\nworker log:\n\(log(logPath).suffix(3000))\nservices.sh:\n\(log("\(directory)/services.log"))")
        }
        // The servers the script started, stopped by pid through the script.
        let stop = try ChildProcess(executable: "bash", arguments: [script, "stop", "--dir", directory], logPath: "\(directory)/stop.log")
        #expect(try await stop.waitForExit(.seconds(60)))
    }

    /// The API serves from the start: `/health` 200, `/ready` 503, uploads 503 `starting`; once
    /// Redis answers it is ready and takes uploads.
    @Test func theAPIAnswersWhileRedisIsDownAndStartsWhenItComesUp() async throws {
        let api = try binary("api")
        let redis = try RedisServerProcess()
        let directory = try folder("api")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withTemporaryDatabase { postgres, configuration in
            _ = try await PostgresMigrator(migrations: ResumeSchema.migrations, logger: TestEnvironment.logger).migrate(postgres)
            let post = JobPost(id: UUID(), title: "t", description: "d", seniorityLevel: .mid)
            try await ApplicationRepository(client: postgres).insert(post)
            let port = try freeLoopbackPort()
            var environment = environment(redis: redis.url, db: configuration.url, directory: directory)
            environment["QUEUE_MODE"] = "native"
            let logPath = "\(directory)/api.log"
            let process = try ChildProcess(
                executable: api, arguments: ["run", "--port", "\(port)", "--env-file", "\(directory)/absent.env"],
                logPath: logPath, environment: environment)
            defer { process.signal(SIGKILL) }
            try await waitUntil(.seconds(30), "api listening on \(port)") { canConnect(port: port) }
            try await waitUntil(.seconds(30), "a logged attempt") { log(logPath).contains("waiting for redis") }
            #expect(try await RawHTTP.getJSON(port: port, "/health").status == 200)
            let ready = try await RawHTTP.getJSON(port: port, "/ready")
            #expect(ready.status == 503)
            #expect(ready.text.contains("waiting for redis"), "\(ready.text)")
            var form = MultipartBody.upload(jobPostID: post.id.uuidString, data: Documents.pdf)
            form.boundary = "startup-boundary"
            let refused = try await RawHTTP.send(
                port: port, "POST", "/resumes/upload", headers: [("Content-Type", form.contentType)], body: form.bytes)
            #expect(refused.status == 503)
            #expect(refused.text.contains("\"starting\""), "\(refused.text)")

            try await redis.start()
            try await waitUntil(.seconds(30), "/ready to answer 200") { (try? await RawHTTP.getJSON(port: port, "/ready").status) == 200 }
            let accepted = try await RawHTTP.send(
                port: port, "POST", "/resumes/upload", headers: [("Content-Type", form.contentType)], body: form.bytes)
            #expect(accepted.status == 202, "\(accepted.text)")
            try await process.stop(grace: .seconds(20))
        }
    }

    @Test func startupTimeoutEndsTheWait() async throws {
        let worker = try binary("worker")
        let directory = try folder("timeout")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = environment(
            redis: try TestEnvironment.redisURL, db: "postgresql://resume:resume-local-dev@127.0.0.1:\(try freeLoopbackPort())/resume_processor",
            directory: directory)
        let logPath = "\(directory)/worker.log"
        let process = try ChildProcess(
            executable: worker, arguments: ["run", "--startup-timeout", "2", "--env-file", "\(directory)/absent.env"],
            logPath: logPath, environment: environment)
        defer { process.signal(SIGKILL) }
        #expect(try await process.waitForExit(.seconds(30)))
        #expect(process.exitStatus != 0)
        #expect(log(logPath).contains("did not answer within the startup timeout"), "\(log(logPath).suffix(2000))")
    }

    /// A refused password that lasts is not a server still coming up: exit after the grace (10 s,
    /// for a role a set-up script is about to create), saying why, without the password.
    @Test func aLastingRefusedPasswordEndsTheWait() async throws {
        let worker = try binary("worker")
        let directory = try folder("password")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let url = try TestEnvironment.postgresURL
        let userEnd = try #require(url.firstRange(of: "://")).upperBound
        let at = try #require(url.lastIndex(of: "@"))
        let user = url[userEnd..<at].prefix { $0 != ":" }
        let environment = environment(
            redis: try TestEnvironment.redisURL, db: "postgresql://\(user):Wrong-Secret-42@\(url[url.index(after: at)...])", directory: directory)
        let logPath = "\(directory)/worker.log"
        let process = try ChildProcess(
            executable: worker, arguments: ["run", "--env-file", "\(directory)/absent.env"], logPath: logPath, environment: environment)
        defer { process.signal(SIGKILL) }
        #expect(try await process.waitForExit(.seconds(40)))
        #expect(process.exitStatus != 0)
        #expect(log(logPath).contains("cannot start: postgres:"), "\(log(logPath).suffix(2000))")
        #expect(log(logPath).contains("password authentication failed"), "\(log(logPath).suffix(2000))")
        #expect(!log(logPath).contains("Wrong-Secret-42"))
    }
}
