import AppConfig
import ApplicationStore
import Foundation
import Postgres
import HTTPAPI
import Redis
import TestSupport
import Testing

@Suite("HTTP API health, metrics, OpenAPI and API key", .serialized)
struct OperationalTests {
    @Test func healthAndReady() async throws {
        try await APITestServer.with { server in
            let health = try await RawHTTP.getJSON(port: server.port, "/health")
            #expect(health.status == 200)
            #expect(health.json?["status"] as? String == "ok")
            let ready = try await RawHTTP.getJSON(port: server.port, "/ready")
            #expect(ready.status == 200, "\(ready.text)")
            #expect(ready.json?["status"] as? String == "ready")
        }
    }

    @Test func readyIs503WhenRedisIsUnreachable() async throws {
        let closedPort = try freeLoopbackPort()
        try await APITestServer.with(redisURL: "redis://127.0.0.1:\(closedPort)/0") { server in
            let clock = ContinuousClock()
            let start = clock.now
            let ready = try await RawHTTP.getJSON(port: server.port, "/ready")
            #expect(clock.now - start < .seconds(5))
            #expect(ready.status == 503)
            #expect(ready.errorCode == "not_ready")
            #expect(ready.errorFields["redis"] != nil)
            #expect(ready.errorFields["postgres"] == nil)
            #expect(try await RawHTTP.getJSON(port: server.port, "/health").status == 200)
            // /metrics still answers, counting the failed queue sample.
            let metrics = try await RawHTTP.getJSON(port: server.port, "/metrics")
            #expect(metrics.status == 200)
            #expect(try PrometheusText.parse(metrics.text).value("resume_queue_sample_failures_total") == 1)
        }
    }

    @Test(arguments: [QueueMode.native, .rq])
    func metricsParseAsPrometheusText(_ mode: QueueMode) async throws {
        try await APITestServer.with(mode: mode) { server in
            for _ in 0..<3 { _ = try await RawHTTP.getJSON(port: server.port, "/health") }
            _ = try await RawHTTP.getJSON(port: server.port, "/resumes/\(UUID().uuidString)")
            _ = try await RawHTTP.getJSON(port: server.port, "/nowhere")
            let response = try await RawHTTP.getJSON(port: server.port, "/metrics")
            #expect(response.status == 200)
            #expect(response.header("Content-Type")?.hasPrefix("text/plain") == true)
            let metrics = try PrometheusText.parse(response.text)
            #expect(metrics.value("http_requests_total", ["method": "GET", "route": "/health", "status": "200"]) == 3)
            #expect(metrics.value("http_requests_total", ["method": "GET", "route": "/resumes/{application_id}", "status": "404"]) == 1)
            #expect(metrics.samples.contains { $0.name == "http_requests_total" && $0.labels["status"] == "404" && $0.labels["route"] != "/resumes/{application_id}" })
            #expect(metrics.types["http_request_duration_seconds"] == "histogram")
            #expect(metrics.samples.contains { $0.name == "http_request_duration_seconds_bucket" && $0.labels["le"] == "+Inf" })
            #expect(metrics.value("resume_queue_jobs", ["mode": mode.rawValue, "state": "queued"]) != nil)
            if mode == .rq {
                for registry in ["started", "finished", "failed", "deferred", "scheduled", "canceled"] {
                    #expect(metrics.value("resume_rq_registry_jobs", ["queue": "resume_processing", "registry": registry]) != nil, "\(registry)")
                }
            } else {
                #expect(metrics.value("resume_queue_jobs", ["mode": "native", "state": "dead"]) != nil)
            }
        }
    }

    @Test func openAPIDocumentMatchesTheRouter() async throws {
        try await APITestServer.with { server in
            let response = try await RawHTTP.getJSON(port: server.port, "/openapi.json")
            #expect(response.status == 200)
            let document = try #require(response.json)
            #expect(document["openapi"] as? String == "3.1.0")
            let info = try #require(document["info"] as? [String: Any])
            #expect(info["title"] is String && info["version"] is String)
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var documented: Set<String> = []
            for (path, operations) in paths {
                for method in operations.keys where ["get", "post", "put", "delete", "patch"].contains(method) {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            let (_, routes) = HTTPAPIServer.makeRouter(api: server.built.api)
            let registered = Set(routes.map(\.description))
            #expect(registered == documented, "only in router: \(registered.subtracting(documented)); only in document: \(documented.subtracting(registered))")
            #expect(registered.count == 12)
            // Every $ref resolves.
            let text = OpenAPIDocument.text
            let refs = text.components(separatedBy: "\"$ref\": \"#/").dropFirst().map { $0.prefix { $0 != "\"" } }
            for ref in refs {
                var node: Any? = document
                for key in ref.split(separator: "/") { node = (node as? [String: Any])?[String(key)] }
                #expect(node != nil, "dangling $ref \(ref)")
            }
        }
    }

    @Test func apiKeyProtectsEverythingButHealth() async throws {
        let key = "test-key-\(UUID().uuidString)"
        try await APITestServer.with(configure: { $0.apiKey = key }) { server in
            #expect(try await RawHTTP.getJSON(port: server.port, "/health").status == 200)
            for path in ["/ready", "/metrics", "/openapi.json", "/applications", "/job-posts", "/resumes/\(UUID().uuidString)", "/nowhere"] {
                let refused = try await RawHTTP.getJSON(port: server.port, path)
                #expect(refused.status == 401, "\(path)")
                #expect(refused.errorCode == "unauthorized")
                #expect(!refused.text.contains(key))
            }
            #expect(try await RawHTTP.getJSON(port: server.port, "/applications", headers: [("Authorization", "Bearer wrong")]).status == 401)
            #expect(try await RawHTTP.getJSON(port: server.port, "/applications", headers: [("Authorization", "Bearer \(key)x")]).status == 401)
            #expect(try await RawHTTP.getJSON(port: server.port, "/applications", headers: [("X-API-Key", "")]).status == 401)
            #expect(try await RawHTTP.getJSON(port: server.port, "/applications", headers: [("Authorization", "Bearer \(key)")]).status == 200)
            #expect(try await RawHTTP.getJSON(port: server.port, "/applications", headers: [("X-API-Key", key)]).status == 200)
            let jobPostID = try await server.makeJobPost()
            let body = MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.pdf)
            #expect(try await server.upload(body).status == 401)
            #expect(try await server.repository.countApplications() == 0)
            let accepted = try await server.upload(body, headers: [("Authorization", "Bearer \(key)")])
            #expect(accepted.status == 202)
            if let id = accepted.json?["job_id"] as? String { await server.cleanUpJob(id) }
        }
    }

    @Test func cursorsRoundTripAndRefuseGarbage() async throws {
        try await APITestServer.with { server in
            for garbage in ["", "x", "djE", "%3D%3D", "djF8anB8MXwtfG5vdC1hLXV1aWQ", String(repeating: "A", count: 201)] {
                let response = try await RawHTTP.getJSON(port: server.port, "/job-posts?cursor=\(garbage)")
                #expect(response.status == 422, "\(garbage)")
            }
        }
    }

    /// `api run` as a process: SIGTERM while an upload is being received lets it finish (202),
    /// refuses nothing already in flight, and the process exits cleanly.
    @Test func sigtermDrainsAnInFlightUpload() async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("api").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("\(binary) is missing: build with `swift build --build-tests`")
            return
        }
        try await withTemporaryDatabase { postgres, configuration in
            _ = try await PostgresMigrator(migrations: ResumeSchema.migrations, logger: TestEnvironment.logger).migrate(postgres)
            let post = JobPost(id: UUID(), title: "t", description: "d", seniorityLevel: .mid)
            try await ApplicationRepository(client: postgres).insert(post)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("api-proc-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let port = try freeLoopbackPort()
            var environment = ProcessInfo.processInfo.environment
            environment["REDIS_URL"] = try TestEnvironment.redisURL
            environment["DB_URL"] = configuration.url
            environment["DATA_DIR"] = "\(folder)/files"
            environment["QUEUE_MODE"] = "native"
            let process = try ChildProcess(
                executable: binary, arguments: ["run", "--port", "\(port)", "--env-file", "\(folder)/absent.env"],
                logPath: "\(folder)/api.log", environment: environment)
            try await waitUntil(.seconds(30), "api listening on \(port)") { canConnect(port: port) }
            try await waitUntil(.seconds(30), "api ready on \(port)") { (try? await RawHTTP.getJSON(port: port, "/ready").status) == 200 }

            let connection = try await RawConnection(port: port)
            var form = MultipartBody.upload(jobPostID: post.id.uuidString, data: Documents.pdf)
            form.boundary = "drain-test-boundary"
            let bytes = form.bytes
            try await connection.send(Array("POST /resumes/upload HTTP/1.1\r\nHost: x\r\nContent-Type: \(form.contentType)\r\nContent-Length: \(bytes.count)\r\n\r\n".utf8) + bytes.prefix(100))
            // Wait until the server is inside the upload handler (in flight: the upload + this scrape).
            try await waitUntil(.seconds(10), "upload in flight") {
                let metrics = try await RawHTTP.getJSON(port: port, "/metrics")
                return (try PrometheusText.parse(metrics.text).value("http_requests_in_flight") ?? 0) >= 2
            }
            process.signal(SIGTERM)
            try await connection.send(Array(bytes.dropFirst(100)))
            let response = try await connection.response()
            #expect(response.status == 202, "\(response.text)")
            #expect(try await process.waitForExit(.seconds(20)))
            #expect(!canConnect(port: port))
            let rows = try await postgres.query("SELECT count(*) FROM applications").first?.decode(0, as: Int.self)
            #expect(rows == 1)
            if let id = response.json?["job_id"] as? String {
                _ = try? await withTestRedis { redis in
                    try await redis.send("DEL", RedisArgument("job:\(id)"))
                    try await redis.send("LREM", "resume_processing_queue", "0", RedisArgument(id))
                }
            }
        }
    }
}
