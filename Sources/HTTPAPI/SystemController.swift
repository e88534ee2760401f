import Hummingbird
import Logging
import ResumeJobs

/// `GET /health`, `GET /ready`, `GET /metrics` and `GET /openapi.json`.
struct SystemController: APIController {
    let readiness: ReadinessProbe
    /// Bound on each readiness check.
    let readinessTimeout: Duration
    let metrics: APIMetrics
    /// Sampled for the queue gauges at scrape time.
    let enqueuer: any JobEnqueuer
    let logger: Logger

    func addRoutes(to routes: inout APIRoutes) {
        routes.on(.get, "/health") { _, _ in try health() }
        routes.on(.get, "/ready") { _, _ in try await ready() }
        routes.on(.get, "/metrics") { _, _ in await metricsText() }
        let openAPI = Array(OpenAPIDocument.text.utf8)
        routes.on(.get, "/openapi.json") { _, _ in JSONResponse.text(openAPI, contentType: "application/json") }
    }

    func health() throws -> Response {
        try JSONResponse.make(HealthResponse())
    }

    /// 200 when Redis and PostgreSQL answer in time, else 503 `not_ready` naming what failed.
    func ready() async throws -> Response {
        let failures = await readiness.check(timeout: readinessTimeout)
        guard failures.isEmpty else {
            throw APIError(.serviceUnavailable, code: "not_ready", message: "a dependency is unavailable", fields: failures)
        }
        return try JSONResponse.make(ReadyResponse())
    }

    /// The Prometheus text, with the queue sizes sampled now.
    func metricsText() async -> Response {
        do {
            try await metrics.sampleQueues(enqueuer)
        } catch {
            logger.debug("sampling queue sizes failed", metadata: ["error": "\(error)"])
            metrics.queueSampleFailed()
        }
        return JSONResponse.text(metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
    }
}
