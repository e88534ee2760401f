import ClientSupport
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Prometheus export of everything recorded through swift-metrics in this process.
///
/// ``bootstrap()`` installs a `PrometheusMetricsFactory` once per process; ``MetricsServer``
/// serves the registry's text format on `GET /metrics` on a loopback port.
public enum PrometheusExport {
    /// The process-wide registry.
    public static let registry = PrometheusCollectorRegistry()

    private static let installed: Void = {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }()

    /// Makes swift-metrics record into ``registry`` (idempotent).
    public static func bootstrap() {
        _ = installed
    }

    /// The registry in Prometheus text exposition format.
    public static func text() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

/// A tiny HTTP service answering `GET /metrics` with ``PrometheusExport/text()`` and `GET /ready`
/// (200 once `gate` is open, else 503 with what the worker waits for); runs in the worker's
/// `ServiceGroup` (`--metrics-port`). Listens on 127.0.0.1 only.
public struct MetricsServer: Service {
    private let application: Application<RouterResponder<BasicRequestContext>>

    /// A server on `127.0.0.1:port`; bootstraps the Prometheus factory.
    public init(port: Int, host: String = "127.0.0.1", gate: StartupGate = StartupGate(open: true), logger: Logger) throws {
        PrometheusExport.bootstrap()
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: PrometheusExport.text())))
        }
        router.get("/ready") { _, _ -> Response in
            let waiting = gate.waitingFor
            let body = waiting.map { "{\"status\":\"starting\",\"waiting_for\":\"\($0)\"}" } ?? "{\"status\":\"ready\"}"
            return Response(
                status: waiting == nil ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        application = Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: quiet)
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        try await application.run()
    }
}
