"""The same job, run once by Python RQ's own worker and once by the Swift worker (same Redis, one
queue each): outcomes, failure texts, TTLs, worker records, suspension, deep arguments and the key
prefix must match what a Python user observes (docs/rq-interop.md, "Feature by feature")."""
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from rq import Queue, Retry
from rq.command import send_kill_horse_command
from rq.job import Job
from rq.serializers import JSONSerializer

from conftest import COMPAT_DIR, REDIS_URL, rq_major
from rqcompat.parity import WORKERS, wait_until_started, assert_same, both, observe, output


def test_timeout_text_and_outcome_match(connection):
    seen = both(connection, lambda q: q.enqueue("resume_processor.jobs.sleep", 5, job_timeout=1).id)
    assert_same(seen)
    assert seen["swift"][0]["exc_last_line"] == "rq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (1 seconds)"


def test_failure_ttl_zero_deletes_the_failed_job(connection):
    seen = both(connection, lambda q: q.enqueue("resume_processor.jobs.fail", "boom", failure_ttl=0).id)
    assert_same(seen)
    assert seen["swift"][0]["exists"] is False


def test_unknown_function_uses_up_its_retry(connection):
    seen = both(connection, lambda q: q.enqueue("resume_processor.jobs.no_such_function", retry=Retry(max=2)).id)
    # The text names the missing function in each language's words; the outcome must match.
    assert_same(seen, ignore=("exc_last_line",))
    assert seen["swift"][0]["status"] == "failed" and seen["swift"][0]["retries_left"] == "0"


def undecodable(q):
    job = q.enqueue("resume_processor.jobs.echo", "x", failure_ttl=3600)
    q.connection.hset(job.key, "data", b"\x00not a pickle\xff")
    return job.id


def test_undecodable_data_fails_with_the_failure_ttl_and_counts_as_failed(connection):
    names = {}

    def run(kind):
        queue = f"parity-{kind}-" + uuid.uuid4().hex[:10]
        job_id = undecodable(Queue(queue, connection=connection))
        name = f"{kind}-" + uuid.uuid4().hex[:10]
        process, log = WORKERS[kind](queue, "--burst", name=name)
        code = process.wait(timeout=90)
        names[kind] = name
        return observe(connection, queue, job_id), code, output(log)

    seen = {kind: run(kind) for kind in WORKERS}
    assert_same(seen, ignore=("exc_last_line",))
    assert seen["swift"][0]["status"] == "failed" and seen["swift"][0]["job_ttl"] == "expiring"
    counts = {kind: connection.hget(f"rq:worker:{name}", "failed_job_count") for kind, name in names.items()}
    assert counts["swift"] == counts["python"] == b"1", counts


def kill_while_running(connection, kind, retry):
    queue_name = f"parity-{kind}-" + uuid.uuid4().hex[:10]
    queue = Queue(queue_name, connection=connection)
    job = queue.enqueue("resume_processor.jobs.sleep", 3, retry=retry)
    name = f"{kind}-" + uuid.uuid4().hex[:10]
    process, log = WORKERS[kind](queue_name, "--burst", name=name)
    try:
        wait_until_started(connection, job, log)
        time.sleep(0.3)
        send_kill_horse_command(connection, name)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    return observe(connection, queue_name, job.id), code, output(log)


@pytest.mark.parametrize("retry", [None, Retry(max=1)], ids=["no-retry", "retry"])
def test_kill_horse_fails_the_job_and_its_retry_applies(connection, retry):
    seen = {kind: kill_while_running(connection, kind, retry) for kind in WORKERS}
    assert_same(seen)
    if retry is None:
        assert seen["swift"][0]["status"] == "failed"
        assert seen["swift"][0]["exc_last_line"] == "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); "
    else:
        assert seen["swift"][0]["status"] == "finished"


def test_suspended_fleet_refuses_to_start_a_worker(connection):
    connection.set("rq:suspended", 1)
    try:
        for extra in (("--burst",), ()):
            codes = {}
            for kind in WORKERS:
                queue = f"parity-{kind}-" + uuid.uuid4().hex[:10]
                process, log = WORKERS[kind](queue, *extra)
                try:
                    codes[kind] = process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=30)
                    raise AssertionError(f"{kind} worker started while suspended:\n{output(log)[-2000:]}")
                if kind == "swift":
                    assert 'RQ is currently suspended, to resume job execution run "rq resume"' in output(log)
            assert codes["swift"] == codes["python"] == 1, codes
    finally:
        connection.delete("rq:suspended")


def test_worker_record_at_exit_keeps_its_last_state(connection):
    states = {}
    for kind in WORKERS:
        queue = f"parity-{kind}-" + uuid.uuid4().hex[:10]
        Queue(queue, connection=connection).enqueue("resume_processor.jobs.echo", 1)
        name = f"{kind}-" + uuid.uuid4().hex[:10]
        process, log = WORKERS[kind](queue, "--burst", name=name)
        assert process.wait(timeout=60) == 0, output(log)[-2000:]
        record = connection.hgetall(f"rq:worker:{name}")
        assert b"death" in record, record
        states[kind] = record.get(b"state")
    assert states["swift"] != b"dead"
    assert states["swift"] == states["python"], states


def nest(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("serializer, depth", [("pickle", 400), ("json", 900)])
def test_deeply_nested_arguments_run_and_come_back(connection, serializer, depth):
    """Deeper than the old limit (200), as deep as RQ's enqueue can pickle them (CPython's
    pickler stops near 500 levels, RQ's call stack takes some) or write them as JSON (about 990)."""
    options = {"serializer": JSONSerializer} if serializer == "json" else {}
    ids = {}

    def enqueue(q):
        q = Queue(q.name, connection=connection, **options)
        job = q.enqueue("resume_processor.jobs.echo", nest(depth))
        ids[q.name] = job.id
        return job.id

    seen = both(connection, enqueue, *(("--serializer", "json") if serializer == "json" else ()), serializer=options.get("serializer"))
    assert_same(seen)
    assert seen["swift"][0]["status"] == "finished", seen["swift"][2][-2000:]
    for queue, job_id in ids.items():
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer if serializer == "json" else None)
        assert job.return_value() == {"args": [nest(depth)], "kwargs": {}}, queue


ENQUEUE_UNDER_PREFIX = """
import sys
from redis import Redis
from rq import Queue
print(Queue(sys.argv[2], connection=Redis.from_url(sys.argv[1])).enqueue("resume_processor.jobs.echo", 2, 3).id)
"""


@pytest.mark.skipif(rq_major() < 3, reason="RQ_KEY_PREFIX is RQ 3.0's")
def test_key_prefix_is_honoured_by_the_worker_as_by_python(connection):
    prefix = "pfx" + uuid.uuid4().hex[:6]
    env = dict(os.environ, RQ_KEY_PREFIX=prefix, PYTHONPATH=COMPAT_DIR)
    for kind in WORKERS:
        queue = f"parity-{kind}-" + uuid.uuid4().hex[:10]
        job_id = subprocess.run([sys.executable, "-c", ENQUEUE_UNDER_PREFIX, REDIS_URL, queue], env=env,
                                capture_output=True, text=True, check=True, timeout=60).stdout.strip()
        name = f"{kind}-" + uuid.uuid4().hex[:10]
        process, log = WORKERS[kind](queue, "--burst", name=name, env=env)
        assert process.wait(timeout=60) == 0, output(log)[-2000:]
        assert connection.hget(f"{prefix}:job:{job_id}", "status") == b"finished", (kind, output(log)[-2000:])
        assert connection.zscore(f"{prefix}:finished:{queue}", job_id) is not None, kind
        assert connection.exists(f"{prefix}:worker:{name}"), kind
        # Nothing of this worker or queue under the default prefix.
        assert [key for key in connection.scan_iter(f"rq:*{queue}*")] == [], kind
        assert not connection.exists(f"rq:worker:{name}"), kind
