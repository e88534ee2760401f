import ClientSupport
import Foundation
import Timestamps
import Logging
import JobProcessing
import Pickle
import Redis

extension RQWorkerDriver {
    /// Records a job's end as RQ does: the job hash, the result stream, the finished or failed
    /// registry (or a retry), the worker's counters, the execution's records removed, and
    /// `current_job` handed over; children are released in the same transaction, under `WATCH`
    /// of the parent's dependents set. Retried through a Redis outage; never recorded twice; in
    /// Sentinel mode confirmed by a replica, so a failover cannot undo it.
    public func finish(_ claimed: ClaimedJob<Lease>, as decided: JobDisposition, endedAt ended: Date) async throws -> JobDisposition {
        let disposition = await applyingCallbacks(to: decided, of: claimed.lease.job, retriesLeft: claimed.retriesLeft)
        var job = claimed.lease.job
        let queue = claimed.lease.queue
        let started = claimed.lease.start.date
        let executionID = claimed.executionID
        job.endedAt = WireTime.parse(WireTime.format(ended))
        job.lastHeartbeat = job.endedAt
        var commands = try endCommands(&job, disposition, queue: queue, executionID: executionID, started: started, ended: ended)
        if single {
            // The start removed the id from the intermediate list; again here (a no-op then), for
            // a start a failover lost while its dequeue survived: a finished job must not be
            // failed later as "stuck in intermediate queue".
            commands.append(["LREM", RedisArgument(keys.intermediate(queue)), "1", RedisArgument(job.id)])
        }
        // The `started_at` the end saves (the job's mapping): on a retry it tells a recorded end
        // from a start that never reached this server.
        let savedStart = job.startedAt.map(WireTime.format) ?? ""
        // Children are released after a success even when the job repeats (then `queued`).
        let parentStatus: RQJobStatus = if case .finished = disposition { .finished } else { job.status }
        try await record(commands, jobID: job.id, executionID: executionID, startedAt: savedStart, parentStatus: parentStatus)
        queueWebhooks(of: job, disposition, enqueuedAt: claimed.lease.job.enqueuedAt, endedAt: job.endedAt)
        if let key = job.rateLimitKey {
            // RQ 3.0's `release_slot` after the outcome commits; a failure here is logged and the
            // slot is freed by the next maintenance pass, as in RQ.
            do {
                _ = try await store.releaseRateLimitSlot(jobID: job.id, key: key, status: job.status)
            } catch {
                logger.warning("could not release the job's rate limit slot; maintenance will", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
            }
        }
        return disposition
    }

    /// The end's commands for `disposition`; updates `job` (status, counters) as they do.
    private func endCommands(
        _ job: inout RQJob, _ disposition: JobDisposition, queue: String, executionID: String, started: Date, ended: Date
    ) throws -> [RedisCommand] {
        let working = RedisArgument(String(ended.timeIntervalSince(started)))
        var commands: [RedisCommand] = []
        switch disposition {
        case .finished(let value):
            job.status = .finished
            let resultTTL = job.resultTTL ?? configuration.defaultResultTTL
            // `Repeat`: the result is recorded, then the job goes back instead of expiring.
            let repeats = (job.repeatsLeft ?? 0) > 0
            commands.append(["HINCRBY", workerKey, "successful_job_count", "1"])
            commands.append(["HINCRBYFLOAT", workerKey, "total_working_time", working])
            if resultTTL == 0 {
                // No result; deleted at once — unless it repeats (RQ then skips the deletion).
                if !repeats {
                    commands.append(["DEL", RedisArgument(keys.job(job.id)), RedisArgument(keys.dependents(job.id)), RedisArgument(keys.dependencies(job.id))])
                    commands.append(["DEL", RedisArgument(keys.executions(job.id))])
                }
            } else {
                commands.append(["HSET", RedisArgument(keys.job(job.id)), "status", "finished"])
                commands.append(try RQTransitions.saveCommand(job, keys: keys, serializer: configuration.serializer, includeMeta: false))
                let result = try RQResult.streamFields(
                    kind: .successful, workerName: configuration.name, returnValue: value, executionID: executionID,
                    executionStartedAt: started, executionEndedAt: ended, serializer: configuration.serializer)
                commands += RQTransitions.resultCommands(job.id, fields: result, ttl: resultTTL, keys: keys)
                let score = resultTTL < 0 ? "+inf" : String(RQLimits.score(ended, plus: resultTTL))
                commands.append(["ZADD", RedisArgument(keys.finished(queue)), RedisArgument(score), RedisArgument(job.id)])
                if !repeats { commands += RQTransitions.expireCommands(job.id, ttl: resultTTL, keys: keys) }
            }
            if repeats {
                commands += try RQTransitions.repeatCommands(&job, rule: configuration.recordVersion, now: ended, keys: keys, serializer: configuration.serializer)
            }
            return commands + executionCleanup(jobID: job.id, executionID: executionID, queue: queue)
        case .stopped(let failure):
            commands += try RQTransitions.fail(
                &job, excString: failure.message, workerName: configuration.name, executionID: executionID,
                executionStartedAt: started, now: ended, keys: keys, serializer: configuration.serializer)
            job.status = .stopped
            commands.append(["HSET", RedisArgument(keys.job(job.id)), "status", "stopped"])
        case .retry:
            commands += try RQTransitions.retry(&job, now: ended, keys: keys, serializer: configuration.serializer)
        case .failed(let failure):
            let text = RQFailureText.excString(failure, workerName: configuration.name)
            commands += try RQTransitions.fail(
                &job, excString: text, workerName: configuration.name, executionID: executionID,
                executionStartedAt: started, executionEndedAt: ended, now: ended, keys: keys, serializer: configuration.serializer)
        }
        commands += executionCleanup(jobID: job.id, executionID: executionID, queue: queue)
        commands.append(["HINCRBY", workerKey, "failed_job_count", "1"])
        commands.append(["HINCRBYFLOAT", workerKey, "total_working_time", working])
        return commands
    }

    /// Applies an end's commands: the common case — no children — in one round trip (a script
    /// that checks the dependents set and applies the same commands atomically); with children,
    /// `WATCH`, the dependents and the execution record in one round trip, then the `MULTI`.
    private func record(
        _ commands: [RedisCommand], jobID: String, executionID: String, startedAt: String, parentStatus: RQJobStatus
    ) async throws {
        let dependentsKey = keys.dependents(jobID)
        let executionKey = keys.execution(job: jobID, execution: executionID)
        let handOver = RQWorkerScripts.handOverCommand(worker: workerKey, executions: workerExecutionsKey, jobID: jobID)
        var attempt = 0
        try await persistently("job end") {
            attempt += 1
            var arguments: [RedisArgument] = [
                attempt > 1 ? "1" : "0", RedisArgument(jobID), RedisArgument(startedAt), RedisArgument(commands.count),
            ]
            for command in commands {
                arguments.append(RedisArgument(command.count))
                arguments += command
            }
            let script = RQWorkerScripts.finish.command(
                keys: [RedisArgument(dependentsKey), RedisArgument(executionKey), workerKey, workerExecutionsKey, RedisArgument(keys.job(jobID))],
                arguments: arguments)
            // Applied (1) is confirmed by a replica before it counts (a failover must not undo
            // it). On a retry, "already recorded" (2) may have been read on an old master that
            // took the first attempt and is about to lose it: a write of our own after the read
            // (the worker's heartbeat) makes the replica's confirmation cover that state too.
            let retrying = attempt > 1
            let reply = try await redis.withConnection { connection in
                try await connection.pipelineReplicated(retrying ? [script, heartbeatCommand()] : [script]) { replies in
                    retrying || replies[0].int == 1
                }[0]
            }
            if case .error(let message) = reply { throw RedisClientError(.serverError, message) }
            switch reply.int {
            case 1, 2: return
            default: break
            }
            for _ in 0..<16 {
                let committed = try await redis.withConnection { connection -> Bool in
                    let replies = try await connection.pipeline([
                        ["WATCH", RedisArgument(dependentsKey), RedisArgument(executionKey)],
                        ["SMEMBERS", RedisArgument(dependentsKey)],
                        RQWorkerScripts.endRecorded.command(
                            keys: [RedisArgument(executionKey), RedisArgument(keys.job(jobID))], arguments: [RedisArgument(startedAt)]),
                    ])
                    do {
                        // After a lost reply, the earlier EXEC may have gone through (the same
                        // rule as the script's): never record an outcome twice.
                        if attempt > 1, replies[2].int == 1 {
                            _ = try await connection.pipeline([["UNWATCH"], heartbeatCommand()])
                            try await connection.waitForReplica()
                            return true
                        }
                        let hasChildren = !(replies[1].array ?? []).isEmpty
                        let release = hasChildren && (parentStatus == .finished || parentStatus == .failed)
                            ? try await store.releaseDependentsCommands(of: jobID, parentStatus: parentStatus, on: connection)
                            : []
                        guard try await connection.transaction(release + commands + [handOver]) != nil else { return false }
                        try await connection.waitForReplica()
                        return true
                    } catch {
                        _ = try? await connection.send("UNWATCH")
                        throw error
                    }
                }
                if committed { return }
            }
            throw RQError(.invalidArgument, "dependents of \(jobID) kept changing while finishing it")
        }
    }

    /// The worker hash's `last_heartbeat` set to now: a harmless write whose replication shows a
    /// replica holds everything the server had before it.
    private func heartbeatCommand() -> RedisCommand {
        ["HSET", workerKey, "last_heartbeat", RedisArgument(WireTime.format(Date()))]
    }

    /// Runs a Redis write that must happen (a job's start or end record), retrying transient
    /// connection failures with capped backoff for up to about five minutes.
    func persistently(_ what: String, _ operation: () async throws -> Void) async throws {
        let backoff = Backoff(initialDelay: .milliseconds(50), maximumDelay: .seconds(1))
        var attempt = 0
        while true {
            do {
                return try await operation()
            } catch let error as RedisClientError where error.isTransient && attempt < 60 {
                let delay = backoff.delay(afterAttempt: attempt)
                attempt += 1
                logger.warning("redis unavailable while recording \(what); retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }
}
