import HTTPTypes
import Hummingbird

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
