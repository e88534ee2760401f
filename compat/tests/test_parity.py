"""The same job, run once by Python RQ's own worker and once by the Swift worker (same Redis, one
queue each): what a Python user observes must match — status, registries, TTL classes, results,
the failure text scripts match on, worker records and exit codes (docs/rq-interop.md)."""
import os
import signal
import sys
import subprocess
import tempfile
import time
import uuid

import pytest
from rq import Queue, Retry
from rq.command import send_kill_horse_command
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from conftest import COMPAT_DIR, REDIS_URL, SWIFT_WORKER, rq_major


def python_worker(queue, *extra, name=None, env=None):
    """`rq worker` (Python's forking worker) on `queue`; returns (process, log file)."""
    log = tempfile.TemporaryFile(mode="w+")
    env = dict(env or os.environ, PYTHONPATH=COMPAT_DIR)
    queues = queue if isinstance(queue, list) else [queue]
    process = subprocess.Popen(["rq", "worker", "--url", REDIS_URL, "--name", name or "py-" + uuid.uuid4().hex[:10], *extra, *queues],
                               stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    return process, log


def swift_worker(queue, *extra, name=None, env=None):
    """`worker run --rq` on `queue`; returns (process, log file)."""
    log = tempfile.TemporaryFile(mode="w+")
    queues = queue if isinstance(queue, list) else [queue]
    process = subprocess.Popen([SWIFT_WORKER, "run", "--rq", "--url", REDIS_URL, "--name", name or "swift-" + uuid.uuid4().hex[:10],
                                *extra, *queues], stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    return process, log


WORKERS = {"python": python_worker, "swift": swift_worker}


def output(log):
    log.seek(0)
    return log.read()


def burst(kind, queue, *extra, timeout=90):
    process, log = WORKERS[kind](queue, "--burst", *extra)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        raise AssertionError(f"{kind} worker did not finish:\n{output(log)[-3000:]}")
    return code, output(log)


def ttl_class(connection, key):
    ttl = connection.ttl(key)
    return "gone" if ttl == -2 else "forever" if ttl == -1 else "expiring"


def last_line(text):
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else None


def observe(connection, queue, job_id, serializer=None):
    """What a Python user sees of one job."""
    job_key = f"rq:job:{job_id}"
    fields = {k.decode(): v.decode(errors="replace") for k, v in connection.hgetall(job_key).items()}
    registries = {
        "failed": FailedJobRegistry(queue, connection=connection),
        "finished": FinishedJobRegistry(queue, connection=connection),
        "started": StartedJobRegistry(queue, connection=connection),
        "scheduled": ScheduledJobRegistry(queue, connection=connection),
    }
    seen = {
        "exists": bool(fields),
        "status": fields.get("status"),
        "retries_left": fields.get("retries_left"),
        "job_ttl": ttl_class(connection, job_key),
        "results_ttl": ttl_class(connection, f"rq:results:{job_id}"),
        "results": connection.xlen(f"rq:results:{job_id}"),
        "in": sorted(name for name, registry in registries.items()
                     if connection.zscore(registry.key, job_id) is not None
                     or any(member.decode().startswith(job_id + ":") for member in connection.zrange(registry.key, 0, -1))),
        "queued": job_id.encode() in connection.lrange(f"rq:queue:{queue}", 0, -1),
    }
    if fields:
        result = Job.fetch(job_id, connection=connection, serializer=serializer).latest_result()
        seen["last_result"] = None if result is None else result.type.name
        seen["exc_last_line"] = None if result is None else last_line(result.exc_string)
    return seen


def both(connection, enqueue, *worker_args, serializer=None):
    """Runs `enqueue(queue)` → job id for each worker kind, a burst worker on it, and returns
    {kind: (observation, exit code, worker log)}."""
    seen = {}
    for kind in WORKERS:
        queue = f"parity-{kind}-" + uuid.uuid4().hex[:10]
        job_id = enqueue(Queue(queue, connection=connection))
        code, log = burst(kind, queue, *worker_args)
        seen[kind] = (observe(connection, queue, job_id, serializer), code, log)
    return seen


def assert_same(seen, ignore=()):
    python, swift = ({k: v for k, v in seen[kind][0].items() if k not in ignore} for kind in ("python", "swift"))
    assert swift == python, f"python: {python}\nswift:  {swift}\nswift log:\n{seen['swift'][2][-2000:]}"
    assert seen["swift"][1] == seen["python"][1], (seen["python"][1], seen["swift"][1])


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
        deadline = time.time() + 30
        while Job.fetch(job.id, connection=connection).get_status() != "started":
            assert time.time() < deadline, output(log)[-2000:]
            time.sleep(0.05)
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


# `rq worker`'s options, under RQ's names and meaning.

def test_max_jobs_stops_after_that_many(connection):
    statuses = {}
    for kind in WORKERS:
        queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
        jobs = [queue.enqueue("resume_processor.jobs.echo", i) for i in range(4)]
        code, log = burst(kind, queue.name, "--max-jobs", "2")
        assert code == 0, log[-2000:]
        statuses[kind] = [Job.fetch(job.id, connection=connection).get_status().value for job in jobs]
    assert statuses["swift"] == statuses["python"] == ["finished", "finished", "queued", "queued"], statuses


def test_max_idle_time_ends_an_idle_worker(connection):
    for kind in WORKERS:
        process, log = WORKERS[kind](f"parity-{kind}-" + uuid.uuid4().hex[:10], "--max-idle-time", "2")
        started = time.time()
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(f"{kind} worker still running after 30 s:\n{output(log)[-2000:]}")
        assert code == 0, output(log)[-2000:]
        assert 2 <= time.time() - started, kind


def started_order(connection, jobs):
    fetched = [Job.fetch(job.id, connection=connection) for job in jobs]
    return [job.origin[-1] for job in sorted(fetched, key=lambda job: job.started_at)]


def test_round_robin_alternates_queues_like_python(connection):
    orders = {}
    for kind in WORKERS:
        base = f"parity-{kind}-" + uuid.uuid4().hex[:10]
        names = [base + "-a", base + "-b"]
        jobs = [Queue(name, connection=connection).enqueue("resume_processor.jobs.echo", i) for name in names for i in range(3)]
        code, log = burst(kind, names, "--dequeue-strategy", "round_robin")
        assert code == 0, log[-2000:]
        orders[kind] = started_order(connection, jobs)
    assert orders["swift"] == orders["python"] == list("ababab"), orders


def test_results_ttl_is_the_default_result_ttl(connection):
    ttls = {}
    for kind in WORKERS:
        queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
        job = queue.enqueue("resume_processor.jobs.echo", 1)
        code, log = burst(kind, queue.name, "--results-ttl", "100")
        assert code == 0, log[-2000:]
        ttls[kind] = connection.ttl(job.key)
    assert all(50 < ttl <= 100 for ttl in ttls.values()), ttls


def test_pid_file_and_logging_level(connection, tmp_path):
    for kind in WORKERS:
        pid_file = tmp_path / f"{kind}.pid"
        process, log = WORKERS[kind](f"parity-{kind}-" + uuid.uuid4().hex[:10], "--burst", "--pid", str(pid_file),
                                     "--logging_level", "WARNING")
        assert process.wait(timeout=60) == 0, output(log)[-2000:]
        assert pid_file.read_text().strip() == str(process.pid), kind


@pytest.mark.parametrize("option", [["--path", "."], ["-c", "settings"], ["--exception-handler", "m.h"], ["--sentry-dsn", "x"],
                                    ["--worker-class", "rq.worker.SimpleWorker"], ["--serializer", "mymodule.Serializer"]])
def test_python_only_options_are_refused_with_the_reason(option):
    completed = subprocess.run([SWIFT_WORKER, "run", "--rq", "--burst", "--url", REDIS_URL, *option, "q"],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 64, completed.stdout + completed.stderr
    assert option[0] in completed.stderr or "--serializer" in completed.stderr, completed.stderr


def test_worker_record_fields_match_the_rq_version(connection):
    """While busy and after exit, the worker hash has the fields Python's worker of this RQ
    version writes (`--rq-version` picks 2.12's or 3.0's for ours)."""
    import re
    import rq
    version = "3.0" if rq_major() >= 3 else "2.12"
    records = {}
    for kind in WORKERS:
        queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
        job = queue.enqueue("resume_processor.jobs.sleep", 2)
        name = f"{kind}-" + uuid.uuid4().hex[:10]
        extra = ("--rq-version", version) if kind == "swift" else ()
        process, log = WORKERS[kind](queue.name, "--burst", *extra, name=name)
        deadline = time.time() + 30
        while Job.fetch(job.id, connection=connection).get_status() != "started":
            assert time.time() < deadline, output(log)[-2000:]
            time.sleep(0.05)
        time.sleep(0.5)
        busy = {k.decode(): v.decode() for k, v in connection.hgetall(f"rq:worker:{name}").items()}
        assert process.wait(timeout=60) == 0, output(log)[-2000:]
        after = {k.decode(): v.decode() for k, v in connection.hgetall(f"rq:worker:{name}").items()}
        records[kind] = (busy, after)
    for moment in (0, 1):
        python, swift = (sorted(records[kind][moment]) for kind in ("python", "swift"))
        assert swift == python, (["busy", "after exit"][moment], python, swift)
    for kind in WORKERS:
        busy = records[kind][0]
        assert busy["version"] == rq.__version__, (kind, busy["version"])
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+:\d+", busy["ip_address"]), (kind, busy["ip_address"])
        assert busy["state"] == "busy", kind


def test_burst_with_scheduler_runs_what_is_due(connection):
    """RQ's burst worker with --with-scheduler moves due jobs before its loop, so it runs them."""
    from datetime import timedelta
    for kind in WORKERS:
        for round_ in range(3):
            queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
            job = queue.enqueue_in(timedelta(seconds=1), "resume_processor.jobs.echo", round_)
            time.sleep(1.2)
            code, log = burst(kind, queue.name, "--with-scheduler")
            assert code == 0, log[-2000:]
            assert Job.fetch(job.id, connection=connection).get_status() == "finished", (kind, round_, log[-2000:])


# Callbacks: the compat callbacks exist on both sides (rqcompat/jobs.py, RQCallbackRegistry.builtIns).

def callbacks_of(connection, job_id):
    return [entry.decode() for entry in connection.lrange(f"callbacks:{job_id}", 0, -1)]


CALLBACK_CASES = {
    "success": dict(function="echo", args=(1,), on_success="record_success"),
    "failing-success": dict(function="echo", args=(1,), on_success="failing_callback", on_failure="record_failure"),
    "unknown-success": dict(function="echo", args=(1,), on_success="no_such_callback"),
    "failure": dict(function="fail", args=("boom",), on_failure="record_failure"),
    "failing-failure": dict(function="fail", args=("boom",), on_failure="failing_callback"),
    "failing-success-with-retry": dict(function="echo", args=(1,), on_success="failing_callback", retry=Retry(max=1)),
}


@pytest.mark.parametrize("case", sorted(CALLBACK_CASES))
def test_callbacks_run_and_fail_as_in_python(connection, case):
    from rq import Callback
    spec = CALLBACK_CASES[case]
    ids = {}

    def enqueue(q):
        options = {key: Callback(f"resume_processor.jobs.{spec[key]}") for key in ("on_success", "on_failure") if key in spec}
        if "retry" in spec:
            options["retry"] = spec["retry"]
        job = q.enqueue(f"resume_processor.jobs.{spec['function']}", *spec["args"], **options)
        ids[q.name] = job.id
        return job.id

    seen = both(connection, enqueue)
    # An unimportable callback fails in each language's words; everything else must match.
    assert_same(seen, ignore=("exc_last_line",) if case == "unknown-success" else ())
    calls = {kind: callbacks_of(connection, ids[next(q for q in ids if f"-{kind}-" in q)]) for kind in WORKERS}
    assert calls["swift"] == calls["python"], calls


def test_stopped_callback_runs_as_in_python(connection):
    from rq import Callback
    from rq.command import send_stop_job_command
    calls = {}
    for kind in WORKERS:
        queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
        job = queue.enqueue("resume_processor.jobs.sleep", 5, on_stopped=Callback("resume_processor.jobs.record_stopped"))
        process, log = WORKERS[kind](queue.name, "--burst")
        deadline = time.time() + 30
        while Job.fetch(job.id, connection=connection).get_status() != "started":
            assert time.time() < deadline, output(log)[-2000:]
            time.sleep(0.05)
        time.sleep(0.3)
        send_stop_job_command(connection, job.id)
        assert process.wait(timeout=60) == 0, output(log)[-2000:]
        assert Job.fetch(job.id, connection=connection).get_status() == "stopped", (kind, output(log)[-2000:])
        calls[kind] = callbacks_of(connection, job.id)
    assert calls["swift"] == calls["python"], calls


def rq_version_flag():
    return ("--rq-version", "3.0" if rq_major() >= 3 else "2.12")


def test_repeat_runs_the_job_again_with_one_result_per_run(connection):
    from rq import Repeat
    seen = {}
    for kind in WORKERS:
        queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
        job = queue.enqueue("resume_processor.jobs.echo", 7, repeat=Repeat(times=2))
        extra = rq_version_flag() if kind == "swift" else ()
        code, log = burst(kind, queue.name, *extra)
        assert code == 0, log[-2000:]
        seen[kind] = (observe(connection, queue.name, job.id), code, log)
    assert_same(seen)
    assert seen["swift"][0]["results"] == 3 and seen["swift"][0]["status"] == "finished", seen["swift"][0]
    assert seen["swift"][0]["job_ttl"] == "expiring"


def test_repeat_with_intervals_schedules_as_this_rq_version_does(connection):
    from rq import Repeat
    scores = {}
    seen = {}
    for kind in WORKERS:
        queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
        job = queue.enqueue("resume_processor.jobs.echo", 7, repeat=Repeat(times=3, interval=[100, 200, 300]))
        extra = rq_version_flag() if kind == "swift" else ()
        code, log = burst(kind, queue.name, *extra)
        assert code == 0, log[-2000:]
        seen[kind] = (observe(connection, queue.name, job.id), code, log)
        score = connection.zscore(f"rq:scheduled:{queue.name}", job.id)
        scores[kind] = (round(score - time.time()), connection.hget(job.key, "repeat_intervals"), connection.hget(job.key, "repeats_left"))
    assert_same(seen)
    assert seen["swift"][0]["status"] == "scheduled"
    (py_delay, py_intervals, py_left), (sw_delay, sw_intervals, sw_left) = scores["python"], scores["swift"]
    assert abs(py_delay - sw_delay) <= 2 and py_intervals == sw_intervals and py_left == sw_left, scores


# RQ 3.0's start-up recovery: what a worker's first maintenance pass does.

@pytest.mark.skipif(rq_major() < 3, reason="the ready registry is RQ 3.0's")
def test_a_job_left_in_the_ready_registry_is_enqueued_and_run_at_start(connection):
    statuses = {}
    for kind in WORKERS:
        queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
        job = queue.enqueue("resume_processor.jobs.echo", "ready")
        # As a releasing worker that died between the dependency transaction and the enqueue.
        connection.lrem(queue.key, 0, job.id)
        connection.hset(job.key, "status", "ready_to_enqueue")
        connection.zadd(f"rq:ready:{queue.name}", {job.id: time.time()})
        code, log = burst(kind, queue.name)
        assert code == 0, log[-2000:]
        statuses[kind] = (Job.fetch(job.id, connection=connection).get_status().value,
                          connection.zcard(f"rq:ready:{queue.name}"))
    assert statuses["swift"] == statuses["python"] == ("finished", 0), statuses


def test_deleted_group_members_are_dropped_at_start(connection):
    from rq.group import Group
    remaining = {}
    for kind in WORKERS:
        connection.delete("rq:clean_groups")  # the fleet-wide lock a previous pass may hold (3.0)
        queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
        group = Group.create(connection=connection)
        jobs = group.enqueue_many(queue, [Queue.prepare_data("resume_processor.jobs.echo", (i,)) for i in range(3)])
        jobs[0].delete()
        code, log = burst(kind, queue.name)
        assert code == 0, log[-2000:]
        remaining[kind] = sorted(member.decode() for member in connection.smembers(group.key))
        remaining[kind] = (len(remaining[kind]), jobs[0].id in remaining[kind])
    assert remaining["swift"] == remaining["python"] == (2, False), remaining


def test_an_abandoned_job_is_cleaned_at_start(connection):
    seen = {}
    for kind in WORKERS:
        queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
        job = queue.enqueue("resume_processor.jobs.echo", "x")
        connection.lrem(queue.key, 0, job.id)
        connection.hset(job.key, mapping={"status": "started", "started_at": "2026-01-01T00:00:00.000000Z", "worker_name": "dead-worker"})
        connection.zadd(f"rq:wip:{queue.name}", {f"{job.id}:0123456789abcdef0123456789abcdef": 1})
        code, log = burst(kind, queue.name)
        seen[kind] = (observe(connection, queue.name, job.id), code, log)
    assert_same(seen, ignore=("exc_last_line",))
    assert seen["swift"][0]["status"] == "failed", seen["swift"][0]


# Webhooks: a local HTTP server records what each worker sends.

class WebhookServer:
    def __init__(self):
        import http.server
        import threading
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                received.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            do_GET = do_POST = handle_one

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def shape(body):
    """A webhook body with its times replaced by their form."""
    import json
    import re
    payload = json.loads(body)
    for key in ("enqueued_at", "ended_at"):
        if payload.get(key):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00", payload[key]), payload[key]
            payload[key] = "<time>"
    if "exc_info" in payload:
        payload["exc_info"] = last_line(payload["exc_info"])
    payload["job_id"] = "<id>"
    return body.startswith(b'{"job_id": '), payload


def test_webhooks_are_sent_as_python_sends_them(connection):
    from rq import Webhook
    server = WebhookServer()
    try:
        sent = {}
        for kind in WORKERS:
            queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
            hooks = [
                Webhook(server.url(f"/{kind}/done"), "finished", method="POST", headers={"X-Token": "t0k"}, timeout=5),
                Webhook(server.url(f"/{kind}/get"), "finished"),
                Webhook(server.url(f"/{kind}/failed"), "failed", method="POST"),
                Webhook("http://127.0.0.1:9/unreachable", "finished", method="POST", timeout=1),
            ]
            good = queue.enqueue("resume_processor.jobs.echo", 1, webhooks=hooks)
            bad = queue.enqueue("resume_processor.jobs.fail", "boom", webhooks=hooks)
            code, log = burst(kind, queue.name)
            assert code == 0, log[-2000:]
            assert Job.fetch(good.id, connection=connection).get_status() == "finished", log[-2000:]
            assert Job.fetch(bad.id, connection=connection).get_status() == "failed", log[-2000:]
            deadline = time.time() + 10
            while len([r for r in server.received if r[1].startswith(f"/{kind}/")]) < 3:
                assert time.time() < deadline, (kind, server.received, log[-2000:])
                time.sleep(0.05)
            mine = sorted((r for r in server.received if r[1].startswith(f"/{kind}/")), key=lambda r: r[1])
            sent[kind] = [(method, path.split("/", 2)[2], headers.get("content-type"), headers.get("x-token"),
                           shape(body) if body else None) for method, path, headers, body in mine]
        assert sent["swift"] == sent["python"], sent
        failed = [entry for entry in sent["swift"] if entry[1] == "failed"][0]
        assert failed[4][1]["exc_info"] == "ValueError: boom" and failed[4][1]["status"] == "failed"
    finally:
        server.close()


@pytest.mark.skipif(rq_major() < 3, reason="RateLimit is RQ 3.0's")
def test_rate_limited_jobs_all_run_as_slots_free(connection):
    from rq import RateLimit
    seen = {}
    for kind in WORKERS:
        queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
        key = "rl-" + uuid.uuid4().hex[:8]
        limit = RateLimit(key, 1)
        jobs = [queue.enqueue("resume_processor.jobs.echo", 1, rate_limit=limit),
                queue.enqueue("resume_processor.jobs.fail", "boom", rate_limit=limit),
                queue.enqueue("resume_processor.jobs.echo", 3, rate_limit=limit),
                queue.enqueue("resume_processor.jobs.echo", 4, rate_limit=limit)]
        before = [Job.fetch(job.id, connection=connection).get_status().value for job in jobs]
        code, log = burst(kind, queue.name)
        assert code == 0, log[-2000:]
        after = [Job.fetch(job.id, connection=connection).get_status().value for job in jobs]
        seen[kind] = (before, after, connection.zcard(f"rq:rl:{key}:allowed"), connection.zcard(f"rq:rl:{key}:rate_limited"))
    assert seen["swift"] == seen["python"], seen
    assert seen["swift"][1] == ["finished", "failed", "finished", "finished"], seen
