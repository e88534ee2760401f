import ResumeJobs
import Prometheus
import Providers

/// The API's Prometheus metrics, on a registry owned by the application (no global state).
///
/// - `http_requests_total{method, route, status}`, `http_request_duration_seconds{method, route}` and
///   `http_requests_in_flight`;
/// - `resume_uploads_total{kind}` (accepted) and `resume_upload_rejections_total{reason}`;
/// - `resume_queue_jobs{mode, state}` and, in RQ mode, `resume_rq_registry_jobs{queue, registry}`,
///   sampled from Redis at scrape time; `resume_queue_sample_failures_total`.
public final class APIMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    private static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    static var requests: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "http_requests", unitName: "total", helpText: "HTTP requests answered, by method, route template and status") }
    static var durations: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "http_request_duration", unitName: "seconds", helpText: "Time to answer HTTP requests, by method and route template") }
    static var uploads: MetricNameDescriptor { MetricNameDescriptor(metricName: "resume_uploads", unitName: "total", helpText: "Uploads accepted, by document kind") }
    static var rejections: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "resume_upload_rejections", unitName: "total", helpText: "Uploads refused, by error code") }
    static var sampleFailures: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "resume_queue_sample_failures", unitName: "total", helpText: "Scrapes whose queue sizes could not be read") }
    static var queueJobs: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "resume_queue", unitName: "jobs", helpText: "Jobs in the resume queue by state, sampled at scrape time") }
    static var registryJobs: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "resume_rq_registry", unitName: "jobs", helpText: "Jobs in each RQ registry of the queue, sampled at scrape time") }

    static var inFlight: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "http_requests_in", unitName: "flight", helpText: "HTTP requests being answered now") }

    /// Metrics on a fresh registry.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// Records one answered request.
    public func request(method: String, route: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: Self.requests, labels: [("method", method), ("route", route), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: Self.durations, labels: [("method", method), ("route", route)], buckets: Self.buckets)
            .record(duration)
    }

    /// Marks a request as started (`+1`) or finished (`-1`).
    public func inFlight(_ change: Double) {
        registry.makeGauge(descriptor: Self.inFlight).increment(by: change)
    }

    /// Counts an accepted upload.
    public func uploadAccepted(kind: DocumentKind) {
        registry.makeCounter(descriptor: Self.uploads, labels: [("kind", kind.rawValue)]).increment()
    }

    /// Counts a rejected upload by its error code.
    public func uploadRejected(reason: String) {
        registry.makeCounter(descriptor: Self.rejections, labels: [("reason", reason)]).increment()
    }

    /// Counts a failed queue sample.
    public func queueSampleFailed() {
        registry.makeCounter(descriptor: Self.sampleFailures).increment()
    }

    /// Reads the queue sizes into gauges.
    public func sampleQueues(_ enqueuer: any JobEnqueuer) async throws {
        for (name, labels, value) in try await enqueuer.queueSizes() {
            let descriptor = name == "resume_rq_registry_jobs" ? Self.registryJobs : Self.queueJobs
            registry.makeGauge(descriptor: descriptor, labels: labels).set(value)
        }
    }

    /// The Prometheus text exposition.
    public func render() -> [UInt8] { registry.emitToBuffer() }
}
