import JobProcessing
import Logging
import NativeQueue
import Redis

/// The native-mode worker: the `JobProcessor` with the native queue's driver.
public typealias NativeWorker = JobProcessor<NativeQueueDriver>

/// Settings of a ``NativeWorker``: the driver's and the processor's, with the native defaults
/// (four jobs at once, heartbeat and maintenance every 5 s, a 30 s shutdown grace).
public struct NativeWorkerConfiguration: Sendable {
    /// The queue format's settings (name, job timeout, heartbeat TTL, fetch timeout).
    public var driver: NativeDriverConfiguration
    /// The processor's settings (concurrency, burst, intervals, shutdown grace).
    public var processor: JobProcessorConfiguration

    /// Creates a configuration. `maintenanceInterval` paces the heartbeat, due retries and the
    /// reaper; `shutdownGrace` is how long running jobs may take after a shutdown request.
    public init(
        name: String = NativeDriverConfiguration.defaultName(), concurrency: Int = 4, jobTimeout: Duration = .seconds(180),
        shutdownGrace: Duration = .seconds(30), maintenanceInterval: Duration = .seconds(5), heartbeatTTL: Duration = .seconds(20),
        fetchTimeout: Duration = .seconds(1), burst: Bool = false
    ) {
        precondition(heartbeatTTL > maintenanceInterval, "the heartbeat must outlive the maintenance interval")
        driver = NativeDriverConfiguration(name: name, jobTimeout: jobTimeout, heartbeatTTL: heartbeatTTL, fetchTimeout: fetchTimeout)
        processor = JobProcessorConfiguration(
            concurrency: concurrency, burst: burst, shutdownGrace: shutdownGrace, heartbeatInterval: maintenanceInterval,
            jobMonitoringInterval: maintenanceInterval, maintenanceInterval: maintenanceInterval)
    }
}

extension JobProcessor where Driver == NativeQueueDriver {
    /// A native-mode worker on `queue`.
    public convenience init(
        redis: RedisClient, queue: NativeQueueClient, handlers: JobHandlerRegistry, configuration: NativeWorkerConfiguration, logger: Logger
    ) {
        self.init(
            driver: NativeQueueDriver(redis: redis, queue: queue, configuration: configuration.driver, logger: logger), handlers: handlers,
            configuration: configuration.processor, logger: logger)
    }
}
