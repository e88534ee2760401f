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
