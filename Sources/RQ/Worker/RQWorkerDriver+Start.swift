import Foundation
import Timestamps
import Logging
import JobProcessing
import Pickle
import Redis
import Synchronization

extension RQWorkerDriver {
    /// Up to `limit` ids. One queue: `BLMOVE` into the intermediate list (`LMOVE` when not
    /// waiting), then further `LMOVE`s pipelined in one round trip — each move atomic, as in RQ.
    /// Several queues: one `BLPOP` in the order of ``RQDriverConfiguration/dequeueStrategy``
    /// (`LPOP` each when not waiting).
    public func dequeue(upTo limit: Int, wait: Bool) async throws -> [Ticket] {
        let connection = try dedicated()
        let seconds = RedisArgument(max(1, Int(configuration.dequeueTimeout.components.seconds)))
        var popped: [(String, String)] = []
        if single {
            let name = configuration.queues[0]
            let move: RedisCommand = ["LMOVE", RedisArgument(keys.queue(name)), RedisArgument(keys.intermediate(name)), "LEFT", "RIGHT"]
            var more = limit
            if wait {
                let reply = try await connection.sendBlocking(
                    ["BLMOVE", RedisArgument(keys.queue(name)), RedisArgument(keys.intermediate(name)), "LEFT", "RIGHT", seconds],
                    timeout: configuration.dequeueTimeout)
                guard let first = reply.string else { return [] }
                popped.append((name, first))
                more -= 1
            }
            if more > 0 {
                popped += try await connection.pipeline(Array(repeating: move, count: more)).compactMap(\.string).map { (name, $0) }
            }
        } else if !wait {
            for name in queueOrder() {
                if let value = try await connection.send("LPOP", RedisArgument(keys.queue(name))).string {
                    popped = [(name, value)]
                    break
                }
            }
        } else {
            let reply = try await connection.sendBlocking(
                ["BLPOP"] + queueOrder().map { RedisArgument(keys.queue($0)) } + [seconds], timeout: configuration.dequeueTimeout)
            if let parts = reply.array, parts.count == 2, let key = parts[0].string, let value = parts[1].string {
                popped = [(String(key.dropFirst(keys.queuePrefix.count)), value)]
            }
        }
        if let last = popped.last?.0 { lastQueue.withLock { $0 = last } }
        return popped.map { Ticket(queue: $0.0, id: $0.1, start: ExecutionStart()) }
    }

    /// The queues in the order to ask them now.
    private func queueOrder() -> [String] {
        configuration.dequeueStrategy.order(configuration.queues, after: lastQueue.withLock { $0 })
    }

    /// The ids are in hand (popped, or in the intermediate list): starts them and reads their
    /// hashes in one pipelined round trip (one atomic script per job, RQ's execution-start and
    /// job-start records), through a Redis outage rather than drop them. A missing hash is
    /// skipped, as RQ does; an unreadable one is failed with the reason.
    public func start(_ tickets: [Ticket]) async throws -> JobStarts<Lease> {
        let connection = try dedicated()
        let scripts = tickets.map(startScript)
        var replies: [RedisReply] = []
        try await persistently("job start") {
            replies = try await connection.pipeline(scripts)
            // Replies come back in place; a passing server condition (LOADING after a restart)
            // means the scripts did not run: all of them again (each is idempotent).
            for reply in replies {
                if case .error(let message) = reply, RedisClientError.isTransientServerError(message) {
                    throw RedisClientError(.serverError, message)
                }
            }
        }
        var starts = JobStarts<Lease>()
        for (ticket, reply) in zip(tickets, replies) {
            let fields = reply.fieldMap
            guard !fields.isEmpty else { continue }
            do {
                starts.jobs.append(claim(try RQJob(id: ticket.id, hash: fields, serializer: configuration.serializer), ticket))
            } catch {
                logger.error("job hash unreadable; failing it", metadata: ["job.id": "\(ticket.id)", "error": "\(error)"])
                try await failUnreadable(ticket, reason: error.message, failureTTL: fields["failure_ttl"].flatMap { Int(String(decoding: $0, as: UTF8.self)) })
                starts.failed += 1
            }
        }
        return starts
    }

    /// The started job as the processor runs it.
    private func claim(_ job: RQJob, _ ticket: Ticket) -> ClaimedJob<Lease> {
        var job = job
        job.status = .started
        job.startedAt = WireTime.parse(ticket.start.isoText)
        job.lastHeartbeat = job.startedAt
        job.workerName = configuration.name
        let timeout = job.timeout ?? 180
        // A number out of range (see `RQLimits`): failed with the reason, never run; its
        // `failure_ttl` (if that was the bad field) defaults to one year, as RQ's does.
        let rejection = job.fieldProblems.first.map { JobFailure(type: "InvalidJobField", $0.description, kind: .permanent) }
        return ClaimedJob(
            lease: Lease(job: job, queue: ticket.queue, start: ticket.start),
            context: JobContext(jobID: job.id, functionName: job.call.functionName, args: job.call.args, kwargs: job.call.kwargs),
            executionID: ticket.start.executionID, retriesLeft: max(0, job.retriesLeft ?? 0),
            timeout: timeout > 0 ? .seconds(timeout) : nil, rejection: rejection, logMetadata: ["rq.queue": "\(ticket.queue)"])
    }

    private func startScript(_ ticket: Ticket) -> RedisCommand {
        let id = ticket.id
        return RQWorkerScripts.startJob.command(
            keys: [
                RedisArgument(keys.job(id)), RedisArgument(keys.execution(job: id, execution: ticket.start.executionID)),
                RedisArgument(keys.executions(id)), RedisArgument(keys.started(ticket.queue)),
                workerExecutionsKey, workerKey, RedisArgument(keys.intermediate(ticket.queue)),
            ],
            arguments: [
                RedisArgument(id), RedisArgument(ticket.start.executionID), RedisArgument(WireTime.floatSeconds(ticket.start.date)),
                RedisArgument(ticket.start.isoText), RedisArgument(WireTime.unixSeconds(ticket.start.date)), RedisArgument(configuration.name),
                single ? "1" : "0", configuration.recordVersion.writesCurrentJob ? "1" : "0",
            ])
    }

    /// A hash that cannot be parsed: failed with the reason instead of crashing the worker, and
    /// the execution its start script recorded undone. As in Python (whose worker meets the
    /// error inside the job): the job's own `failure_ttl` when readable (one year otherwise) sets
    /// the expiries, and the worker's `failed_job_count` counts it.
    private func failUnreadable(_ ticket: Ticket, reason: String, failureTTL: Int?) async throws {
        let id = ticket.id
        let queue = ticket.queue
        var commands = executionCleanup(jobID: id, executionID: ticket.start.executionID, queue: queue)
        commands.append(RQWorkerScripts.handOverCommand(worker: workerKey, executions: workerExecutionsKey, jobID: id))
        let ttl = failureTTL.map { min(max($0, -1), RQLimits.maxSeconds) } ?? RQTransitions.defaultFailureTTL
        let now = Date()
        commands += [
            ["HSET", RedisArgument(keys.job(id)), "status", "failed", "ended_at", RedisArgument(WireTime.format(now))],
            ["HINCRBY", workerKey, "failed_job_count", "1"],
        ]
        commands += RQTransitions.failureRetentionCommands(id, origin: queue, ttl: ttl, now: now, keys: keys)
        let result = try RQResult.streamFields(kind: .failed, workerName: configuration.name,
                                               exceptionText: "DeserializationError: \(reason)", serializer: configuration.serializer)
        commands += RQTransitions.resultCommands(id, fields: result, ttl: failureTTL.map { _ in ttl }, keys: keys)
        if single { commands.append(["LREM", RedisArgument(keys.intermediate(queue)), "1", RedisArgument(id)]) }
        _ = try await redis.transaction(commands)
    }

    /// Removes one execution's records: its hash, its started-registry and executions entries, its
    /// membership of the worker's executions set (the same four commands end every execution).
    func executionCleanup(jobID: String, executionID: String, queue: String) -> [RedisCommand] {
        let member = RedisArgument("\(jobID):\(executionID)")
        return [
            ["DEL", RedisArgument(keys.execution(job: jobID, execution: executionID))],
            ["ZREM", RedisArgument(keys.started(queue)), member],
            ["ZREM", RedisArgument(keys.executions(jobID)), RedisArgument(executionID)],
            ["SREM", workerExecutionsKey, member],
        ]
    }
}
