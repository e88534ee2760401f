import HTTPTypes
import Hummingbird

/// One resource of the API: it adds its routes, and answers them.
protocol APIController: Sendable {
    /// Adds the controller's routes, in the order they are documented.
    func addRoutes(to routes: inout APIRoutes)
}

/// The routes of every controller, collected for the router and for the 405 table.
struct APIRoutes {
    /// A route's handler.
    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    /// One route.
    struct Entry {
        var method: HTTPRequest.Method
        var path: String
        var handler: Handler
    }

    private(set) var entries: [Entry] = []

    /// Adds `method path` (the path with `{name}` captures).
    mutating func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        entries.append(Entry(method: method, path: path, handler: handler))
    }

    /// The routes as described to the OpenAPI check and the 405 table.
    var descriptions: [RouteDescription] {
        entries.map { RouteDescription(method: $0.method.rawValue, path: $0.path) }
    }
}
