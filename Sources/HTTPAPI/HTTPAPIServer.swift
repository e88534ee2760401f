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

/// A route as registered in the router (`GET /resumes/{application_id}`).
public struct RouteDescription: Sendable, Hashable, CustomStringConvertible {
    /// `GET`, `POST`, ….
    public var method: String
    /// The path template with `{name}` captures.
    public var path: String
    /// `"METHOD path"`.
    public var description: String { "\(method) \(path)" }
}

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

/// The registered routes by path template, for 405 answers.
struct RouteTable: Sendable {
    private let routes: [(segments: [Substring], method: String)]

    init(_ routes: [RouteDescription]) {
        self.routes = routes.map { ($0.path.split(separator: "/"), $0.method) }
    }

    /// The methods registered for `path` (`{name}` segments match any segment), or `nil` when no
    /// route has that shape.
    func allowedMethods(path: String) -> [String]? {
        let segments = path.split(separator: "/")
        let methods = routes.filter { route in
            route.segments.count == segments.count
                && zip(route.segments, segments).allSatisfy { template, segment in template.hasPrefix("{") || template == segment }
        }.map(\.method)
        return methods.isEmpty ? nil : Array(Set(methods)).sorted()
    }
}

/// Counts requests and their durations by method, route template and status.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: APIMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = context.endpointPath ?? "unmatched"
        metrics.inFlight(1)
        defer { metrics.inFlight(-1) }
        do {
            let response = try await next(request, context)
            metrics.request(method: request.method.rawValue, route: route, status: response.status.code, duration: .now - start)
            return response
        } catch let error as any HTTPResponseError {
            metrics.request(method: request.method.rawValue, route: route, status: error.status.code, duration: .now - start)
            throw error
        }
    }
}

/// Turns every error into the JSON envelope: ``APIError`` as is, Hummingbird's `HTTPError` (404 of
/// an unknown route, …) with a code from its status, PostgreSQL or Redis being unavailable as 503,
/// anything else as a logged 500.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let logger: Logger
    /// The registered routes, to tell an unknown path (404) from a known one asked with another
    /// method (405 with `Allow`).
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPParserError {
            // Malformed HTTP framing: Hummingbird answers 400 and closes the connection itself.
            throw error
        } catch let error as any HTTPResponseError {
            // Hummingbird's own answers (unknown route, body over a cap, …), in our envelope.
            let code: String
            let message: String
            switch error.status {
            case .notFound:
                if let allowed = routes.allowedMethods(path: request.uri.path) {
                    throw APIError(
                        .methodNotAllowed, code: "method_not_allowed", message: "this route answers \(allowed.joined(separator: ", "))",
                        headers: [.allow: allowed.joined(separator: ", ")])
                }
                (code, message) = ("not_found", "no such route")
            case .contentTooLarge: (code, message) = ("payload_too_large", "the request body is too large")
            case .badRequest: (code, message) = ("bad_request", "the request is malformed")
            default: (code, message) = (error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_"), error.status.reasonPhrase)
            }
            throw APIError(error.status, code: code, message: message, closeConnection: error.status == .contentTooLarge)
        } catch let error as PostgresError where error.isTransient {
            // The database is down or restarting: a client may retry, nothing was accepted.
            logger.warning("database unavailable", metadata: ["route": "\(context.endpointPath ?? "?")", "error": "\(error)"])
            throw APIError(.serviceUnavailable, code: "database_unavailable", message: "the database is unavailable; retry shortly")
        } catch let error as RedisClientError where error.isTransient {
            logger.warning("redis unavailable", metadata: ["route": "\(context.endpointPath ?? "?")", "error": "\(error)"])
            throw APIError(.serviceUnavailable, code: "queue_unavailable", message: "the queue is unavailable; retry shortly")
        } catch {
            logger.error("request failed", metadata: ["route": "\(context.endpointPath ?? "?")", "error": "\(error)"])
            throw APIError(.internalServerError, code: "internal_error", message: "the server failed to answer; try again later")
        }
    }
}

/// With an API key configured, every route but `/health` needs `Authorization: Bearer <key>` or
/// `X-API-Key: <key>` (checked by ``APIKeyCheck``). A refused request that carries a body is answered
/// 401 and its connection closed, so the body is never read; ``ExpectContinueHandler`` sends no
/// `100 Continue` to such a request in the first place.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let check: APIKeyCheck

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard check.isRequired(path: request.uri.path), !check.accepts(request.headers) else { return try await next(request, context) }
        let hasBody = request.headers[.contentLength].map { $0 != "0" } ?? (request.headers[.transferEncoding] != nil)
        throw APIError(
            .unauthorized, code: "unauthorized", message: "a valid API key is required (Authorization: Bearer <key> or X-API-Key)",
            closeConnection: hasBody)
    }
}
