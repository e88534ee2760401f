import ApplicationStore
import Logging
import Providers
import ResumeJobs

/// The résumé API over injected clients: its settings and dependencies, and one controller per
/// resource built from them. Built by ``HTTPAPIBuilder``; ``HTTPAPIServer`` routes to it.
public struct ResumeAPI: Sendable {
    /// The API settings.
    public let configuration: HTTPAPIConfiguration
    /// SQL over `job_posts`/`applications`.
    public let repository: ApplicationRepository
    /// Where uploaded files go.
    public let storage: any ResumeStorage
    /// The queue.
    public let enqueuer: any JobEnqueuer
    /// Counters and histograms.
    public let metrics: APIMetrics
    /// Clients used by `/ready` (short timeouts).
    let readiness: ReadinessProbe
    let logger: Logger
    /// The controllers, in the order their routes are registered.
    let controllers: [any APIController]

    /// Creates the API and its controllers.
    public init(
        configuration: HTTPAPIConfiguration, repository: ApplicationRepository, storage: any ResumeStorage,
        enqueuer: any JobEnqueuer, metrics: APIMetrics, readiness: ReadinessProbe, logger: Logger
    ) {
        self.configuration = configuration
        self.repository = repository
        self.storage = storage
        self.enqueuer = enqueuer
        self.metrics = metrics
        self.readiness = readiness
        self.logger = logger
        controllers = [
            UploadController(
                configuration: configuration, repository: repository, storage: storage, enqueuer: enqueuer, metrics: metrics, logger: logger),
            ResumeController(repository: repository),
            JobPostController(repository: repository, defaultPageSize: configuration.defaultPageSize),
            ApplicationController(repository: repository, defaultPageSize: configuration.defaultPageSize),
            JobController(enqueuer: enqueuer, logger: logger),
            SystemController(
                readiness: readiness, readinessTimeout: configuration.readinessTimeout, metrics: metrics, enqueuer: enqueuer, logger: logger),
        ]
    }

    /// Every controller's routes.
    var routes: APIRoutes {
        var routes = APIRoutes()
        for controller in controllers { controller.addRoutes(to: &routes) }
        return routes
    }
}
