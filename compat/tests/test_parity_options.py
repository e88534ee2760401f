"""`rq worker`'s options, the worker record's fields and a burst worker with the scheduler,
compared with Python RQ's own worker (docs/operations.md, "rq worker's options")."""
import subprocess
import time
import uuid

import pytest
from rq import Queue
from rq.job import Job

from conftest import REDIS_URL, SWIFT_WORKER, rq_major
from rqcompat.parity import WORKERS, wait_until_started, burst, output


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
        wait_until_started(connection, job, log)
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
