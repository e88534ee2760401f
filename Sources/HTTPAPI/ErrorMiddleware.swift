import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1
import Postgres
import Redis

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
