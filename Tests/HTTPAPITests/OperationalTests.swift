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
}
