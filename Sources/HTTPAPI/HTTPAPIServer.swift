import Hummingbird
import Logging
import NIOCore

/// Builds the Hummingbird application of the résumé API.
public enum HTTPAPIServer {
    /// The router with every route, and the list of what it registered (for the OpenAPI check).
    public static func makeRouter(api: ResumeAPI) -> (Router<BasicRequestContext>, [RouteDescription]) {
        let table = api.routes
        let routes = table.descriptions
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: MetricsMiddleware(metrics: api.metrics))
        router.add(middleware: ErrorMiddleware(logger: api.logger, routes: RouteTable(routes)))
        router.add(middleware: APIKeyMiddleware(check: APIKeyCheck(apiKey: api.configuration.apiKey)))
        router.add(middleware: StartupMiddleware(gate: api.readiness.gate))
        for route in table.entries {
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
