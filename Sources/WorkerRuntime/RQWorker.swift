import Foundation
import JobProcessing
import Logging
import Redis
import RQ

/// The RQ-mode worker: the `JobProcessor` with Python RQ's driver.
public typealias RQWorker = JobProcessor<RQWorkerDriver>

/// Settings of an ``RQWorker``: the driver's and the processor's, in one place, with RQ's
/// defaults (one job at a time, `job_monitoring_interval` 30 s, `maintenance_interval` 600 s).
public struct RQWorkerConfiguration: Sendable {
    /// The queue format's settings (name, queues, TTLs, serializer, keys, scheduler, reclaim).
    public var driver: RQDriverConfiguration
    /// The processor's settings (concurrency, burst, intervals, shutdown grace).
    public var processor: JobProcessorConfiguration

    /// Creates a configuration; see `RQDriverConfiguration` and `JobProcessorConfiguration`.
    public init(
        name: String = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
        queues: [String] = ["resume_processing"], burst: Bool = false, workerTTL: Int = 420,
        dequeueTimeout: Duration = .seconds(5), serializer: RQSerializer = .pickle, keys: RQKeys = .default,
        concurrency: Int = 1, withScheduler: Bool = false
    ) {
        driver = RQDriverConfiguration(
            name: name, queues: queues, workerTTL: workerTTL, dequeueTimeout: dequeueTimeout, serializer: serializer, keys: keys,
            withScheduler: withScheduler)
        driver.burst = burst
        // No grace of its own by default: RQ's warm shutdown waits for the running job; the
        // caller's `shutdownGrace` (the worker command's --shutdown-timeout) cuts it.
        processor = JobProcessorConfiguration(concurrency: concurrency, burst: burst, shutdownGrace: nil)
    }
}

extension JobProcessor where Driver == RQWorkerDriver {
    /// An RQ-mode worker on `redis`.
    public convenience init(redis: RedisClient, handlers: JobHandlerRegistry, configuration: RQWorkerConfiguration, logger: Logger) {
        self.init(
            driver: RQWorkerDriver(redis: redis, configuration: configuration.driver, logger: logger), handlers: handlers,
            configuration: configuration.processor, logger: logger)
    }
}
