import ClientSupport
import HTTPTypes
import Hummingbird

/// Until the process has started (servers answered, migrations ran), every route but the
/// system ones answers 503 `starting` with what it waits for, instead of failing deeper down.
struct StartupMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let gate: StartupGate

    /// Routes that answer while starting: liveness, readiness, metrics, the API description.
    static let systemPaths: Set<String> = ["/health", "/ready", "/metrics", "/openapi.json"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let waiting = gate.waitingFor, !Self.systemPaths.contains(request.uri.path) else {
            return try await next(request, context)
        }
        let hasBody = request.headers[.contentLength].map { $0 != "0" } ?? (request.headers[.transferEncoding] != nil)
        throw APIError(.serviceUnavailable, code: "starting", message: "the API is starting (\(waiting))", closeConnection: hasBody)
    }
}
