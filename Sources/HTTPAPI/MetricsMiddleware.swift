import HTTPTypes
import Hummingbird

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
