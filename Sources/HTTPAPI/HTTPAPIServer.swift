import ResumeJobs
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Postgres
import Redis

/// Builds the Hummingbird application of the résumé API.
public enum HTTPAPIServer {
    /// The router with every route, and the list of what it registered (for the OpenAPI check).
    public static func makeRouter(api: ResumeAPI) -> (Router<BasicRequestContext>, [RouteDescription]) {
        typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response
        var table: [(method: HTTPRequest.Method, path: String, handler: Handler)] = []
        func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
            table.append((method, path, handler))
        }
        on(.post, "/resumes/upload") { request, _ in try await api.upload(request) }
        on(.get, "/resumes/{application_id}") { request, context in try await api.resume(request, context: context) }
        on(.post, "/job-posts") { request, _ in try await api.createJobPost(request) }
        on(.get, "/job-posts") { request, _ in try await api.jobPosts(request) }
        on(.get, "/job-posts/{id}") { request, context in try await api.jobPost(request, context: context) }
        on(.get, "/job-posts/{id}/candidates") { request, context in try await api.candidates(request, context: context) }
        on(.get, "/applications") { request, _ in try await api.applications(request) }
        on(.get, "/jobs/{job_id}") { request, context in try await api.job(request, context: context) }
        on(.get, "/health") { _, _ in api.health() }
        on(.get, "/ready") { _, _ in try await api.ready() }
        on(.get, "/metrics") { _, _ in await api.metricsText() }
        let openAPI = OpenAPIDocument.json.bytes
        on(.get, "/openapi.json") { _, _ in JSONResponse.text(openAPI, contentType: "application/json") }
        let routes = table.map { RouteDescription(method: $0.method.rawValue, path: $0.path) }

        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: MetricsMiddleware(metrics: api.metrics))
        router.add(middleware: ErrorMiddleware(logger: api.logger, routes: RouteTable(routes)))
        router.add(middleware: APIKeyMiddleware(check: APIKeyCheck(apiKey: api.configuration.apiKey)))
        for route in table {
            router.on(RouterPath(route.path), method: route.method, use: route.handler)
        }
        return (router, routes)
    }

    /// The application: an HTTP/1.1 server on `configuration.host:port` that drains in-flight
    /// requests on graceful shutdown (run it in a `ServiceGroup`).
    public static func makeApplication(
        api: ResumeAPI, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let (router, _) = makeRouter(api: api)
        let idle = api.configuration.idleTimeout.components
        let maxBodyBytes = api.configuration.limits.maxBodyBytes
        return Application(
            router: router,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [ExpectContinueHandler(maxBodyBytes: maxBodyBytes, apiKey: APIKeyCheck(apiKey: api.configuration.apiKey))], idleTimeout: .seconds(idle.seconds))),
            configuration: ApplicationConfiguration(address: .hostname(api.configuration.host, port: api.configuration.port), serverName: nil),
            onServerRunning: onServerRunning,
            logger: api.logger
        )
    }
}
