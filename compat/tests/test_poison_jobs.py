"""Issue #14, points 2 and 3: job fields that overflow 64-bit arithmetic fail that job with a reason
(the Swift worker goes on), and a job whose worker is kill -9'd twice while running it is failed
("worker died twice while running it") instead of being handed to a third worker, in RQ and native mode."""
import base64
import signal
import time
import uuid
import zlib

import pytest
from rq import Queue
from rq.job import Job, Retry

from test_worker import wait_for, workers  # noqa: F401  (the `workers` fixture)

BIG = 2**63 - 1


def latest_exc_string(connection, job_id):
    entries = connection.xrevrange(f"rq:results:{job_id}", count=1)
    assert entries, "no result entry"
    raw = base64.b64decode(entries[0][1][b"exc_string"])
    try:
        raw = zlib.decompress(raw)
    except zlib.error:
        pass
    return raw.decode()

SMALL = -2**63

# (label, enqueue keyword arguments, raw hash fields written after the enqueue, the field named in the reason)
RQ_CASES = [
    ("failure_ttl_max", {"failure_ttl": BIG}, {}, "failure_ttl"),
    ("failure_ttl_min", {"failure_ttl": SMALL}, {}, "failure_ttl"),
    ("result_ttl_max", {"result_ttl": BIG}, {}, "result_ttl"),
    ("result_ttl_min", {"result_ttl": SMALL}, {}, "result_ttl"),
    ("retry_intervals_max", {"retry": Retry(max=1, interval=[BIG])}, {}, "retry_intervals"),
    # Python's parse_timeout turns the string into 106751991167301 * 86400, beyond 2**63 - 1.
    ("timeout_days_parsed", {"job_timeout": "106751991167301d"}, {}, "timeout"),
    ("timeout_days_raw", {}, {"timeout": "106751991167301d"}, "timeout"),
    ("ttl_max_raw", {}, {"ttl": str(BIG)}, "ttl"),
    ("retries_left_beyond_64_bits", {}, {"retries_left": str(2**64)}, "retries_left"),
    ("worker_deaths_max", {}, {"rp_worker_deaths": str(BIG)}, "rp_worker_deaths"),
]


@pytest.mark.parametrize("label,options,raw,field", RQ_CASES, ids=[case[0] for case in RQ_CASES])
def test_rq_overflowing_field_fails_that_job_and_the_worker_goes_on(connection, queue_name, swift, label, options, raw, field):
    q = Queue(queue_name, connection=connection)
    bad = q.enqueue("resume_processor.jobs.echo", "bad", **options)
    if raw:
        connection.hset(bad.key, mapping=raw)
    good = q.enqueue("resume_processor.jobs.echo", "good")
    swift.run("run", "--rq", "--burst", queue_name)  # exit status 0 (checked by run)
    # Read raw: RQ itself cannot load some of these hashes (parse_timeout of b"106751991167301d").
    assert connection.hget(bad.key, "status") == b"failed"
    reason = latest_exc_string(connection, bad.id)
    assert "InvalidJobField" in reason and field in reason and "out of range" in reason, reason
    assert Job.fetch(good.id, connection=connection).get_status() == "finished"
    assert connection.zscore(f"rq:failed:{queue_name}", bad.id) is not None
    if field == "failure_ttl":
        # The unusable failure_ttl defaults to RQ's one year.
        assert 31_535_000 <= connection.ttl(bad.key) <= 31_536_000
    # The bad field is kept as Python wrote it.
    if raw:
        for name, value in raw.items():
            assert connection.hget(bad.key, name) == value.encode()
    assert connection.llen(f"rq:queue:{queue_name}:intermediate") == 0
    assert connection.zcard(f"rq:wip:{queue_name}") == 0


NATIVE_CASES = [
    ("attempts", str(BIG)), ("attempts", str(SMALL)), ("attempts", "9" * 30),
    ("max_attempts", str(BIG)), ("max_attempts", "-1"), ("worker_deaths", str(BIG)),
]


def native_job(connection, function, args, **fields):
    job_id = "native-" + uuid.uuid4().hex
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    mapping = {"id": job_id, "function": function, "args": args, "kwargs": "{}", "status": "queued", "attempts": "0",
               "max_attempts": "3", "created_at": now, "enqueued_at": now}
    mapping.update(fields)
    connection.hset(f"job:{job_id}", mapping=mapping)
    connection.rpush("resume_processing_queue", job_id)
    return job_id


@pytest.mark.parametrize("field,value", NATIVE_CASES, ids=[f"{f}={v[:12]}" for f, v in NATIVE_CASES])
def test_native_overflowing_field_dead_letters_that_job_and_the_worker_goes_on(connection, swift, field, value):
    bad = native_job(connection, "resume_processor.jobs.echo", '["bad"]', **{field: value})
    good = native_job(connection, "resume_processor.jobs.echo", '["good"]')
    try:
        swift.run("run", "--burst")
        job = connection.hgetall(f"job:{bad}")
        assert job[b"status"] == b"failed", job
        assert b"InvalidJobField" in job[b"error"] and field.encode() in job[b"error"], job
        assert bad.encode() in connection.lrange("resume_processing_queue:dead", 0, -1)
        assert connection.hget(f"job:{good}", "status") == b"finished"
    finally:
        connection.lrem("resume_processing_queue:dead", 0, bad)
        connection.delete(f"job:{bad}", f"job:{good}")


def kill_when_running(connection, worker, started):
    wait_for(started, timeout=30, message=lambda: f"job never started on {worker.name}:\n{worker.output()[-2000:]}")
    worker.process.send_signal(signal.SIGKILL)
    worker.wait()


def test_rq_job_whose_worker_dies_twice_is_failed_not_run_a_third_time(connection, queue_name, workers, swift):  # noqa: F811
    """First death: the started-registry cleanup (RQ's rule, here run by `worker info`) retries it.
    Second death: the vanished-worker reclaim of a live Swift worker fails it, retries left or not."""
    q = Queue(queue_name, connection=connection)
    job = q.enqueue("resume_processor.jobs.sleep", 120, retry=Retry(max=5), job_timeout=300)

    def running_on(worker):
        return lambda: (Job.fetch(job.id, connection=connection).get_status() == "started"
                        and Job.fetch(job.id, connection=connection).worker_name == worker.name)

    first = workers("--rq", "--reclaim-after", "0", queue_name)
    kill_when_running(connection, first, running_on(first))
    # Its execution heartbeat and worker key expire (as they would after 60-90 s).
    for member in connection.zrange(f"rq:wip:{queue_name}", 0, -1):
        connection.zadd(f"rq:wip:{queue_name}", {member: time.time() - 1})
    connection.delete(f"rq:worker:{first.name}")
    swift.run("info", "--raw", queue_name)
    again = Job.fetch(job.id, connection=connection)
    assert again.get_status() == "queued" and again.retries_left == 4
    assert connection.hget(job.key, "rp_worker_deaths") == b"1"

    second = workers("--rq", "--reclaim-after", "0", queue_name)
    kill_when_running(connection, second, running_on(second))
    killed_at = time.time()
    watcher = workers("--rq", "--reclaim-after", "2", queue_name)
    wait_for(lambda: Job.fetch(job.id, connection=connection).get_status() == "failed", timeout=40,
             message=lambda: f"not failed after the second death:\n{watcher.output()[-3000:]}")
    assert time.time() - killed_at < 35
    failed = Job.fetch(job.id, connection=connection)
    assert "worker died twice while running it" in failed.latest_result().exc_string
    assert failed.retries_left == 4  # failed although retries were left
    assert failed.worker_name == second.name  # never handed to the watcher
    assert connection.hget(job.key, "rp_worker_deaths") == b"2"
    assert connection.xlen(f"rq:results:{job.id}") == 1
    assert connection.zscore(f"rq:failed:{queue_name}", job.id) is not None
    assert connection.llen(f"rq:queue:{queue_name}") == 0
    # `rq requeue` (ours) starts the count over.
    swift.run("requeue", "--queue", queue_name, job.id)
    assert connection.hget(job.key, "rp_worker_deaths") is None


def test_native_job_whose_worker_dies_twice_is_dead_lettered(connection, workers, swift):  # noqa: F811
    job_id = native_job(connection, "resume_processor.jobs.sleep", "[120]", max_attempts="5")
    try:
        def running_on(worker):
            return lambda: connection.hget(f"job:{job_id}", "worker") == worker.name.encode() and \
                connection.hget(f"job:{job_id}", "status") == b"started"

        first = workers()
        kill_when_running(connection, first, running_on(first))
        connection.delete(f"resume_processing_queue:worker:{first.name}")  # its heartbeat expires
        second = workers()  # its reaper returns the job at start (first death), then it runs it
        kill_when_running(connection, second, running_on(second))
        assert connection.hget(f"job:{job_id}", "worker_deaths") == b"1"
        connection.delete(f"resume_processing_queue:worker:{second.name}")
        started = time.time()
        swift.run("run", "--burst")  # the reaper dead-letters it; nothing left to run
        assert time.time() - started < 30
        job = connection.hgetall(f"job:{job_id}")
        assert job[b"status"] == b"failed", job
        assert job[b"error"] == b"PoisonJobError: worker died twice while running it"
        assert job[b"attempts"] == b"2" and job[b"worker_deaths"] == b"2"
        assert job_id.encode() in connection.lrange("resume_processing_queue:dead", 0, -1)
        assert connection.llen(f"resume_processing_queue:processing:{second.name}") == 0
        assert job_id.encode() not in connection.lrange("resume_processing_queue", 0, -1)
    finally:
        connection.lrem("resume_processing_queue:dead", 0, job_id)
        connection.lrem("resume_processing_queue", 0, job_id)
        connection.delete(f"job:{job_id}")
