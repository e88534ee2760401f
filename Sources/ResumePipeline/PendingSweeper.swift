import ApplicationStore
import Foundation
import Logging
import ResumeJobs
import ServiceLifecycle

/// The safety net for accepted uploads: applications that stayed `PENDING` longer than
/// ``Configuration-swift.struct/age`` with no live queue job (the API answered 503 because Redis was
/// down, or a job was lost between Redis and Postgres) are enqueued again. The job id is the
/// application id, so a sweep racing the API's own enqueue rewrites the same job, not a second one.
public struct PendingSweeper: Service {
    /// Sweeper settings.
    public struct Configuration: Sendable {
        /// How long a row may stay `PENDING` before it is checked. Default: `.seconds(60)`.
        public var age: Duration
        /// Time between sweeps. Default: `.seconds(30)`.
        public var interval: Duration
        /// Rows checked per sweep. Default: `200`.
        public var batch: Int

        /// Creates settings; see the properties for the defaults.
        public init(age: Duration = .seconds(60), interval: Duration = .seconds(30), batch: Int = 200) {
            self.age = age
            self.interval = interval
            self.batch = batch
        }
    }

    let repository: ApplicationRepository
    let enqueuer: any JobEnqueuer
    let configuration: Configuration
    let logger: Logger

    /// Creates a sweeper.
    public init(repository: ApplicationRepository, enqueuer: any JobEnqueuer, configuration: Configuration = Configuration(), logger: Logger) {
        self.repository = repository
        self.enqueuer = enqueuer
        self.configuration = configuration
        self.logger = logger
    }

    /// Sweeps every interval until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await sweep()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("pending sweep failed; will retry", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: configuration.interval)
            }
        }
    }

    /// One sweep; returns the application ids enqueued again.
    @discardableResult
    public func sweep(now: Date = Date()) async throws -> [UUID] {
        let cutoff = now.addingTimeInterval(-Double(configuration.age.components.seconds))
        var requeued: [UUID] = []
        for (id, jobPostID) in try await repository.stalePending(olderThan: cutoff, limit: configuration.batch) {
            if let status = try await enqueuer.status(jobID: resumeJobID(for: id))?.status,
               ["queued", "started", "scheduled", "deferred"].contains(status) {
                continue
            }
            _ = try await enqueuer.enqueue(applicationID: id, jobPostID: jobPostID)
            requeued.append(id)
        }
        if !requeued.isEmpty {
            logger.warning("re-enqueued applications left PENDING without a job", metadata: ["applications": "\(requeued.count)"])
        }
        return requeued
    }
}
