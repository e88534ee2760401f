import Logging

extension RedisConnection {
    /// Sends `commands` in one round trip (as ``pipeline(_:)``) and, in Sentinel mode, returns only
    /// once a replica holds what they wrote.
    ///
    /// Replication is asynchronous: a master may acknowledge a write and lose it an instant later,
    /// when Sentinel promotes a replica that had not received it yet (the old master then rejoins
    /// as a replica and discards its data). For writes that must survive a failover — a job's end
    /// record — this asks the master who its replicas are (`ROLE`, in the same round trip) and,
    /// when it has or lately had some, waits (`WAIT 1`) until one confirms:
    ///
    /// - a replica confirmed: done;
    /// - the master changed meanwhile (a `+switch-master`, a demotion that unblocks the wait, a
    ///   broken connection): throws ``RedisClientError/Code/notReplicated`` (transient): the
    ///   write may be lost, so the caller writes it again — idempotently — on the new master;
    /// - no replica confirmed within ``RedisSentinelConfiguration/replicaWait`` while the master
    ///   stayed: the write is taken as done and a warning logged (a replica gone for good must not
    ///   stall every write).
    ///
    /// A master that never showed a replica (one node behind Sentinel) is not waited for.
    /// `wrote` tells from the replies whether anything was written (a script that found its work
    /// already done has nothing to confirm). Without Sentinel this is ``pipeline(_:)``.
    public func pipelineReplicated(_ commands: [RedisCommand], wrote: ([RedisReply]) -> Bool = { _ in true }) async throws -> [RedisReply] {
        guard let sentinel = configuration.sentinel else { return try await pipeline(commands) }
        let generation = topology.generation
        let replies = try await pipeline(commands + [["ROLE"]])
        let results = Array(replies.dropLast())
        guard wrote(results) else { return results }
        try await awaitReplica(role: replies[replies.count - 1], since: generation, wait: sentinel.replicaWait)
        return results
    }

    /// Returns once a replica holds every write this connection made so far (see
    /// ``pipelineReplicated(_:wrote:)`` for the rules); at once without Sentinel. For writes made
    /// with ``transaction(_:)`` or ``send(_:)-(RedisCommand)`` on this connection just before.
    public func waitForReplica() async throws {
        guard let sentinel = configuration.sentinel else { return }
        let generation = topology.generation
        let role = try await pipeline([["ROLE"]])[0]
        try await awaitReplica(role: role, since: generation, wait: sentinel.replicaWait)
    }

    private func awaitReplica(role: RedisReply, since generation: UInt64, wait: Duration) async throws {
        let fields = role.array ?? []
        guard fields.first?.string == "master" else {
            throw RedisClientError(.notReplicated, "the server stopped being the master before a replica confirmed the write")
        }
        let replicas = fields.count > 2 ? (fields[2].array?.count ?? 0) : 0
        if replicas > 0 {
            topology.sawReplicas = true
        } else if !topology.sawReplicas {
            return
        }
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        let step = min(wait, .seconds(1))
        let milliseconds = RedisArgument(Int(step.components.seconds * 1000 + step.components.attoseconds / 1_000_000_000_000_000))
        while clock.now < deadline {
            guard topology.generation == generation else {
                throw RedisClientError(.notReplicated, "the master changed before a replica confirmed the write")
            }
            let acknowledged: Int
            do {
                acknowledged = try await sendBlocking(["WAIT", "1", milliseconds], timeout: step).int ?? 0
            } catch let error as RedisClientError where error.code == .serverError {
                // `UNBLOCKED …`: the server was made a replica while we waited.
                throw RedisClientError(.notReplicated, "the wait for a replica was cut short: \(error.message)")
            }
            if acknowledged >= 1 { return }
        }
        topology.sawReplicas = false
        logger.warning(
            "no replica confirmed a write within the replica wait; taking it as done",
            metadata: ["redis.replica_wait": "\(wait)"])
    }
}
