import Redis

/// The Lua scripts of the RQ worker's job start and end, each applying RQ's own records
/// atomically (readers cannot tell them from RQ's `MULTI` blocks; `docs/rq-wire.md`, "Dequeue and
/// job start", "Success and dependents" and "Lua scripts").
enum RQWorkerScripts {
    /// ``startJobSource``, sent by its SHA-1.
    static let startJob = RedisScript(startJobSource)
    /// ``finishSource``, sent by its SHA-1.
    static let finish = RedisScript(finishSource)

    /// KEYS: job, execution, executions zset, `rq:wip:Q`, worker executions, worker, intermediate
    /// list. ARGV: job id, execution id, now as float seconds, now as RQ timestamp, now as Unix
    /// seconds, worker name, `1` when dequeued through the intermediate list, `1` to name the job
    /// in the worker hash (2.12's `current_job`; 3.0 does not). TTLs as RQ: the job's
    /// `timeout` (default 180; ≤ 0 means none) capped at 30, plus 60. Returns the job hash, or
    /// nothing for a missing hash, whose id is then only removed from the intermediate list.
    static let startJobSource = """
        if redis.call('EXISTS', KEYS[1]) == 0 then
            if ARGV[7] == '1' then redis.call('LREM', KEYS[7], 1, ARGV[1]) end
            return false
        end
        local timeout = tonumber(redis.call('HGET', KEYS[1], 'timeout') or '') or 180
        local ttl = (timeout > 0 and math.min(timeout, 30) or 30) + 60
        local now = tonumber(ARGV[5])
        local member = ARGV[1] .. ':' .. ARGV[2]
        redis.call('HSET', KEYS[2], 'id', ARGV[2], 'job_id', ARGV[1], 'created_at', ARGV[3], 'last_heartbeat', ARGV[3], 'worker_name', ARGV[6])
        redis.call('EXPIRE', KEYS[2], ttl)
        redis.call('ZADD', KEYS[3], now + ttl + 60, ARGV[2])
        redis.call('EXPIRE', KEYS[3], ttl + 60)
        redis.call('ZADD', KEYS[4], now + ttl, member)
        redis.call('SADD', KEYS[5], member)
        redis.call('EXPIRE', KEYS[5], ttl + 60)
        if ARGV[8] == '1' then
            redis.call('HSET', KEYS[6], 'state', 'busy', 'current_job', ARGV[1], 'current_job_working_time', '0', 'last_heartbeat', ARGV[4])
        else
            redis.call('HSET', KEYS[6], 'state', 'busy', 'last_heartbeat', ARGV[4])
        end
        redis.call('EXPIRE', KEYS[6], ttl)
        redis.call('HSET', KEYS[1], 'last_heartbeat', ARGV[4], 'status', 'started', 'started_at', ARGV[4], 'worker_name', ARGV[6])
        redis.call('PERSIST', KEYS[1])
        if ARGV[7] == '1' then redis.call('LREM', KEYS[7], 1, ARGV[1]) end
        return redis.call('HGETALL', KEYS[1])
        """

    /// KEYS: dependents set, execution hash, worker hash, worker executions set, job hash. ARGV:
    /// `1` to check whether the end is recorded already (a retry after a lost reply), the job id,
    /// the execution's `started_at`, the number of commands, then each command as its argument
    /// count and arguments. Returns 0 (the job has children: use the WATCH path), 2 (already
    /// recorded: see ``endRecordedLua(execution:job:startedAt:)``) or 1 (applied, `current_job`
    /// handed over).
    static let finishSource = """
        if redis.call('SCARD', KEYS[1]) > 0 then return 0 end
        if ARGV[1] == '1' then
            \(endRecordedLua(execution: "KEYS[2]", job: "KEYS[5]", startedAt: "ARGV[3]"))
            if recorded then return 2 end
        end
        local i = 5
        for _ = 1, tonumber(ARGV[4]) do
            local count = tonumber(ARGV[i])
            redis.call(unpack(ARGV, i + 1, i + count))
            i = i + count + 1
        end
        \(handOverLua(worker: "KEYS[3]", executions: "KEYS[4]", job: "ARGV[2]"))
        return 1
        """

    /// ``endRecordedLua(execution:job:startedAt:)`` as a script of its own, for the `WATCH` path.
    /// KEYS: execution hash, job hash. ARGV: the execution's `started_at`. Returns 1 when the end
    /// is recorded already, else 0.
    static let endRecorded = RedisScript("""
        \(endRecordedLua(execution: "KEYS[1]", job: "KEYS[2]", startedAt: "ARGV[1]"))
        return recorded and 1 or 0
        """)

    /// Sets `recorded`: whether an execution's end is recorded already, for a retry after a lost
    /// reply. The end deletes the execution record, so a missing one means recorded — unless the
    /// start never reached this server although the job is here: the job hash is still `queued`
    /// and its `started_at` is not this execution's (the start a failover lost while the dequeue
    /// survived). A job that is gone (deleted with `result_ttl=0`, or by a user) counts as recorded.
    static func endRecordedLua(execution: String, job: String, startedAt: String) -> String {
        """
        local recorded = false
        if redis.call('EXISTS', \(execution)) == 0 then
            local lost = redis.call('HGET', \(job), 'status') == 'queued' and redis.call('HGET', \(job), 'started_at') ~= \(startedAt)
            recorded = not lost
        end
        """
    }

    /// KEYS: worker hash, worker executions set; ARGV: the ending job's id. If `current_job` is
    /// that job, it becomes another running execution's job id, or is removed when none is left.
    static let handOverSource = """
        \(handOverLua(worker: "KEYS[1]", executions: "KEYS[2]", job: "ARGV[1]"))
        return 0
        """

    /// ``handOverSource`` as an `EVAL` (source, not SHA-1: it runs inside `MULTI`, where a
    /// `NOSCRIPT` could not fall back).
    static func handOverCommand(worker: RedisArgument, executions: RedisArgument, jobID: String) -> RedisCommand {
        ["EVAL", RedisArgument(handOverSource), "2", worker, executions, RedisArgument(jobID)]
    }

    /// The Lua of the `current_job` hand-over, shared by both scripts that end a job: if the
    /// worker hash's `current_job` is `job`, it becomes the job id of another member of the
    /// worker's executions set (`ID:E`), or is removed when the set is empty. With concurrent
    /// jobs, deciding this inside Redis means ends racing each other never leave it naming a
    /// finished (possibly deleted) job.
    private static func handOverLua(worker: String, executions: String, job: String) -> String {
        """
        if redis.call('HGET', \(worker), 'current_job') == \(job) then
            local member = redis.call('SRANDMEMBER', \(executions))
            if member then
                local separator = string.find(member, ':', 1, true)
                redis.call('HSET', \(worker), 'current_job', separator and string.sub(member, 1, separator - 1) or member)
            else
                redis.call('HDEL', \(worker), 'current_job')
            end
        end
        """
    }
}
