import ResumeJobs
import AppConfig
import ClientSupport
import ApplicationStore
import Hummingbird
import LocalProviders
import Logging
import NativeQueue
import NIOCore
import Postgres
import Providers
import Redis
import RQ
import ServiceLifecycle

/// Wires the API from clients and settings: storage, queue, readiness probe, metrics and the
/// Hummingbird application, as the list of services for one `ServiceGroup`.
public enum HTTPAPIBuilder {
    /// What ``build(configuration:mode:redis:postgres:dataDirectory:storage:gate:logger:onServerRunning:)`` made.
    public struct Built: Sendable {
        /// The handlers (tests reach the metrics and enqueuer through it).
        public var api: ResumeAPI
        /// The probe clients (call `shutdown()` after the group stops).
        public var probe: ReadinessProbe
        /// In start order: the Redis and PostgreSQL clients, then the HTTP application; the group
        /// shuts them down in reverse, so in-flight requests finish before the clients close.
        public var services: [any Service]
    }

    /// Builds the API over `redis` and `postgres` in queue `mode`, storing files with `storage`
    /// (default: ``LocalFolderStorage`` under `dataDirectory`), RQ jobs under `rqKeys` (RQ 3.0's
    /// `RQ_KEY_PREFIX`; default `rq`); routes wait for `gate` (default: open).
    public static func build(
        configuration: HTTPAPIConfiguration, mode: QueueMode, redis: RedisClient, postgres: PostgresClient,
        dataDirectory: String = "./.data/files", storage: (any ResumeStorage)? = nil, rqKeys: RQKeys = .default,
        gate: StartupGate = StartupGate(open: true),
        logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> Built {
        let enqueuer: any JobEnqueuer = switch mode {
        case .native: NativeJobEnqueuer(redis: redis)
        case .rq: RQJobEnqueuer(store: RQStore(redis: redis, keys: rqKeys))
        }
        let probe = ReadinessProbe(
            redis: redis.configuration, postgres: postgres.configuration, timeout: configuration.readinessTimeout, gate: gate,
            logger: logger)
        let api = ResumeAPI(
            configuration: configuration, repository: ApplicationRepository(client: postgres),
            storage: storage ?? LocalFolderStorage(configuration: LocalFolderStorageConfiguration(root: dataDirectory)),
            enqueuer: enqueuer, metrics: APIMetrics(), readiness: probe, logger: logger)
        let application = HTTPAPIServer.makeApplication(api: api, onServerRunning: onServerRunning)
        return Built(api: api, probe: probe, services: [postgres, redis] + probe.services + [application])
    }
}
