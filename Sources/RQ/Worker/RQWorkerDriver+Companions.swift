import ClientSupport
import Foundation
import Timestamps
import Logging
import JobProcessing
import Pickle
import Redis

extension RQWorkerDriver {
    /// The command channel, the scheduler (`withScheduler`) and the vanished-worker check, until
    /// the processor's loop ends.
    public func runCompanions(_ control: JobProcessorControl) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.listenForCommands(control) }
            group.addTask { await self.runWebhooks() }
            if let grace = configuration.vanishedWorkerGrace {
                group.addTask { await self.watchVanishedWorkers(grace: grace) }
            }
            if configuration.withScheduler && !configuration.burst {
                group.addTask { try await self.runScheduler() }
            }
            try await group.waitForAll()
        }
    }

    /// Commands arrive on `rq:pubsub:W` while the loop works (`docs/rq-wire.md`, "Pub/sub
    /// commands"); a lost subscription (Redis restarting) is renewed with backoff until the
    /// worker stops.
    private func listenForCommands(_ control: JobProcessorControl) async {
        let backoff = Backoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1))
        var failures = 0
        while !Task.isCancelled {
            do {
                try await redis.subscribe(to: [keys.pubsub(configuration.name)]) { messages in
                    for try await message in messages {
                        failures = 0
                        self.handleCommand(message.payload, control)
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                let delay = backoff.delay(afterAttempt: failures)
                failures += 1
                logger.warning("pubsub subscription lost; renewing", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// `shutdown` (warm), `kill-horse` (every running job), `stop-job` (matching job id) and 3.0's
    /// `stop-execution` (matching execution id); anything else is ignored, as RQ does.
    private func handleCommand(_ payload: [UInt8], _ control: JobProcessorControl) {
        guard let value = try? PythonJSON.decode(payload), let command = value["command"]?.stringValue else { return }
        logger.info("received pubsub command", metadata: ["rq.command": "\(command)"])
        switch command {
        case "shutdown":
            control.requestShutdown()
        case "kill-horse":
            // Python's horse dies by SIGKILL: the job fails ("Work-horse terminated
            // unexpectedly"), and its Retry applies.
            control.killRunningJobs()
        case "stop-job":
            // A command without an id stops nothing (RQ compares the id).
            guard let id = value["job_id"]?.stringValue else { return }
            control.stopJobs(jobID: id)
        case "stop-execution":
            guard let id = value["execution_id"]?.stringValue else { return }
            control.stopJobs(executionID: id)
        default:
            return
        }
    }

    /// One busy heartbeat per running job, 3.0's form (`ZADD … XX`), which 2.12 reads the same:
    /// the worker, execution and started-registry TTLs follow the job's remaining `timeout`.
    public func heartbeat(running: [ClaimedJob<Lease>]) async {
        for claimed in running {
            let job = claimed.lease.job
            let timeout = job.timeout ?? 180
            let elapsed = RQLimits.saturatingInt(Date().timeIntervalSince(claimed.lease.start.date))
            let ttl = (timeout > 0 ? max(0, min(RQLimits.adding(timeout, -elapsed), 30)) : 30) + 60
            try? await busyHeartbeat(jobID: job.id, executionID: claimed.executionID, queue: claimed.lease.queue, ttl: ttl)
        }
    }

    private func busyHeartbeat(jobID: String, executionID: String, queue: String, ttl: Int) async throws {
        let now = Date()
        let seconds = WireTime.unixSeconds(now)
        let executionKey = RedisArgument(keys.execution(job: jobID, execution: executionID))
        _ = try await redis.transaction([
            ["HSET", workerKey, "last_heartbeat", RedisArgument(WireTime.format(now))],
            ["EXPIRE", workerKey, RedisArgument(ttl)],
            ["EXPIRE", workerExecutionsKey, RedisArgument(ttl)],
            ["HSET", executionKey, "last_heartbeat", RedisArgument(WireTime.floatSeconds(now))],
            ["EXPIRE", executionKey, RedisArgument(ttl)],
            ["ZADD", RedisArgument(keys.started(queue)), "XX", RedisArgument(seconds + ttl), RedisArgument("\(jobID):\(executionID)")],
            ["ZADD", RedisArgument(keys.executions(jobID)), "XX", RedisArgument(seconds + ttl + 60), RedisArgument(executionID)],
            ["EXPIRE", RedisArgument(keys.executions(jobID)), RedisArgument(ttl + 60)],
            ["HSET", RedisArgument(keys.job(jobID)), "last_heartbeat", RedisArgument(WireTime.format(now))],
        ])
    }

    /// RQ's maintenance pass under the `rq:clean_registries:Q` lock; failures are logged, never
    /// fatal (the next pass tries again).
    public func maintain() async {
        do {
            let report = try await store.runMaintenance(queues: configuration.queues, workerName: configuration.name)
            // RQ 3.0's group maintenance, after the registries, under its own fleet-wide lock.
            let dropped = try await store.cleanGroups(lockSeconds: configuration.groupCleaningLock) ?? 0
            let promoted = try await store.cleanRateLimits()
            if !report.retried.isEmpty || !report.failed.isEmpty || report.prunedWorkers > 0 || report.intermediateRemoved > 0
                || !report.readyEnqueued.isEmpty || dropped > 0 || !promoted.isEmpty {
                logger.info("maintenance", metadata: [
                    "rq.queues": "\(report.queues)", "jobs.retried": "\(report.retried.count)", "jobs.failed": "\(report.failed.count)",
                    "workers.pruned": "\(report.prunedWorkers)", "intermediate.removed": "\(report.intermediateRemoved)",
                    "ready.enqueued": "\(report.readyEnqueued.count)", "groups.members_dropped": "\(dropped)",
                    "rate_limited.promoted": "\(promoted.count)",
                ])
            }
        } catch is CancellationError {
            return
        } catch {
            logger.warning("maintenance failed; will retry next interval", metadata: ["error": "\(error)"])
        }
    }

    /// Every `vanishedWorkerCheckInterval`: the jobs of workers whose command channel went silent
    /// (killed, host gone) are retried or failed after `grace` instead of RQ's 60–90 s
    /// (``RQStore/reclaimVanishedWorkers(queue:grace:excluding:now:)``), and ids stuck in the
    /// intermediate list as long are handled as RQ handles them.
    private func watchVanishedWorkers(grace: Duration) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.vanishedWorkerCheckInterval) } catch { return }
            for queue in configuration.queues {
                do {
                    let report = try await store.reclaimVanishedWorkers(queue: queue, grace: grace, excluding: configuration.name)
                    if !report.workers.isEmpty {
                        logger.warning("workers vanished; their jobs were reclaimed", metadata: [
                            "rq.queue": "\(queue)", "workers": "\(report.workers)", "jobs.retried": "\(report.retried.count)",
                            "jobs.failed": "\(report.failed.count)",
                        ])
                    }
                    if let (_, stuck) = try await store.cleanStuckIntermediate(queue: queue, workerName: configuration.name, stuckAfter: grace),
                       !stuck.isEmpty {
                        logger.warning("ids stuck in the intermediate list were retried or failed", metadata: [
                            "rq.queue": "\(queue)", "jobs": "\(stuck.count)",
                        ])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.debug("vanished-worker check failed; will retry", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
