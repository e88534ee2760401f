"""RQ wire compatibility between Python RQ (this virtualenv's version) and the Swift RQ layer."""
import math
import os
import time

import pytest
from rq import Queue
from rq.job import Job, Retry
from rq.registry import DeferredJobRegistry, FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry
from rq.serializers import JSONSerializer
from rq.utils import get_call_string, utcformat

from conftest import python_rq
from rqcompat import tagged

# Values covering what the issue asks for: str (unicode, empty, 300 chars), ints around every
# encoding boundary, floats incl. nan/inf/-0.0, bool, None, bytes, list, tuple, dict, nested, set.
VALUES = {
    "str_unicode": "résumé — 履歴書 🚀",
    "str_empty": "",
    "str_300": "x" * 300,
    "str_quotes": "it's \"quoted\"\n\ttab",
    "int_0": 0, "int_255": 255, "int_256": 256, "int_65535": 65535, "int_minus_1": -1,
    "int_2_31": 2**31, "int_2_63": 2**63, "int_2_100": 2**100, "int_minus_2_100": -(2**100),
    "float": 0.1, "float_nan": float("nan"), "float_inf": float("inf"), "float_neg_inf": float("-inf"),
    "float_neg_zero": -0.0, "float_big": 1e300,
    "bool_true": True, "bool_false": False, "none": None,
    "bytes": b"\x00\x01binary\xff", "list": [1, "two", 3.0], "tuple": (1, "a"), "tuple_1": ("solo",),
    "dict": {"k": "v", "n": 1}, "nested": {"a": [1, {"b": (2, 3)}], "c": {"d": None}},
    "set": {1, 2, 3}, "shared_keys": [{"a": 1}, {"a": 2}],
}
JSON_VALUES = {k: v for k, v in VALUES.items()
               if not isinstance(v, (bytes, set, tuple)) and k not in ("nested", "float_nan", "float_inf", "float_neg_inf")}


def serializer_for(name):
    return JSONSerializer if name == "json" else None


@pytest.mark.parametrize("name", sorted(VALUES))
def test_python_enqueues_swift_decodes_pickle(connection, queue_name, swift, name):
    value = VALUES[name]
    q = Queue(queue_name, connection=connection)
    job = q.enqueue("rqcompat.jobs.echo", value, [value], key=value, meta={"v": value, "n": name})
    seen = swift.job(job.id)
    fetched = Job.fetch(job.id, connection=connection)
    assert seen["func_name"] == "rqcompat.jobs.echo"
    assert seen["args_repr"] == repr(tuple(fetched.args))
    assert seen["kwargs_repr"] == repr(fetched.kwargs)
    assert tagged.same(tagged.from_tagged(seen["args"]), list(fetched.args))
    assert tagged.same(tagged.from_tagged(seen["kwargs"]), fetched.kwargs)
    assert tagged.same(tagged.from_tagged(seen["meta"]), fetched.meta)
    assert seen["description"] == fetched.description
    assert seen["status"] == "queued" and seen["origin"] == queue_name
    assert seen["timeout"] == 180 and seen["result_ttl"] is None and seen["failure_ttl"] is None
    raw = connection.hgetall(job.key)
    assert seen["created_at"] == raw[b"created_at"].decode()
    assert seen["enqueued_at"] == raw[b"enqueued_at"].decode()


@pytest.mark.parametrize("name", sorted(JSON_VALUES))
def test_python_enqueues_swift_decodes_json(connection, queue_name, swift, name):
    value = JSON_VALUES[name]
    q = Queue(queue_name, connection=connection, serializer=JSONSerializer)
    job = q.enqueue("rqcompat.jobs.echo", value, key=value, meta={"v": value})
    seen = swift.job(job.id, serializer="json")
    fetched = Job.fetch(job.id, connection=connection, serializer=JSONSerializer)
    assert tagged.same(tagged.from_tagged(seen["args"]), list(fetched.args))
    assert tagged.same(tagged.from_tagged(seen["kwargs"]), fetched.kwargs)
    assert tagged.same(tagged.from_tagged(seen["meta"]), fetched.meta)
    assert seen["description"] == fetched.description


@pytest.mark.parametrize("name", sorted(VALUES))
def test_swift_enqueues_python_reads(connection, queue_name, swift, name):
    value = VALUES[name]
    args = tagged.dumps([value, [value]])
    kwargs = tagged.dumps({"key": value})
    job_id = swift.enqueue(queue_name, "rqcompat.jobs.echo", args, kwargs,
                           "--meta", tagged.dumps({"v": value, "n": name}),
                           "--result-ttl", "600", "--failure-ttl", "700")
    job = Job.fetch(job_id, connection=connection)
    assert job.func_name == "rqcompat.jobs.echo"
    assert tagged.same(tuple(job.args), (value, [value]))
    assert tagged.same(job.kwargs, {"key": value})
    assert tagged.same(job.meta, {"v": value, "n": name})
    assert job.description == get_call_string("rqcompat.jobs.echo", (value, [value]), {"key": value}, max_length=75)
    assert job.timeout == 180 and job.result_ttl == 600 and job.failure_ttl == 700
    assert job.origin == queue_name
    assert job.get_status() == "queued"
    assert job.created_at is not None and job.enqueued_at is not None
    assert job.enqueued_at >= job.created_at
    seen = swift.job(job_id)
    assert seen["created_at"] == utcformat(job.created_at) and seen["enqueued_at"] == utcformat(job.enqueued_at)
    assert seen["args_repr"] == repr(tuple(job.args)) and seen["kwargs_repr"] == repr(job.kwargs)
    q = Queue(queue_name, connection=connection)
    assert q.count == 1 and q.job_ids == [job_id]
    assert connection.sismember("rq:queues", f"rq:queue:{queue_name}")


@pytest.mark.parametrize("name", sorted(JSON_VALUES))
def test_swift_enqueues_python_reads_json(connection, queue_name, swift, name):
    value = JSON_VALUES[name]
    job_id = swift.enqueue(queue_name, "rqcompat.jobs.echo", tagged.dumps([value]), tagged.dumps({"key": value}),
                           "--meta", tagged.dumps({"v": value}), serializer="json")
    job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    assert tagged.same(list(job.args), [value])
    assert tagged.same(job.kwargs, {"key": value})
    assert tagged.same(job.meta, {"v": value})


def test_enqueue_options(connection, queue_name, swift):
    first = swift.enqueue(queue_name, "rqcompat.jobs.add", "[1, 2]")
    front = swift.enqueue(queue_name, "rqcompat.jobs.add", "[3, 4]", "{}", "--at-front", "--job-id", "my_custom-id_1",
                          "--ttl", "300", "--timeout", "45", "--description", "custom description",
                          "--retry-max", "3", "--retry-interval", "10", "--retry-interval", "30")
    assert front == "my_custom-id_1"
    q = Queue(queue_name, connection=connection)
    assert q.job_ids == [front, first]
    job = Job.fetch(front, connection=connection)
    assert job.timeout == 45 and job.ttl == 300 and job.description == "custom description"
    assert job.retries_left == 3 and job.retry_intervals == [10, 30]
    assert 290 <= connection.ttl(job.key) <= 300
    # Scheduled: the scheduled registry holds the due time as integer seconds.
    due = int(time.time()) + 3600
    scheduled = swift.enqueue(queue_name, "rqcompat.jobs.add", "[5, 6]", "{}", "--enqueue-in", "3600")
    registry = ScheduledJobRegistry(queue_name, connection=connection)
    assert scheduled in registry.get_job_ids()
    assert abs(connection.zscore(registry.key, scheduled) - due) <= 2
    assert Job.fetch(scheduled, connection=connection).get_status() == "scheduled"
    assert scheduled not in q.job_ids
    # Dependencies: deferred until the parent finishes, with RQ's key layout (double colon).
    child = swift.enqueue(queue_name, "rqcompat.jobs.add", "[7, 8]", "{}", "--depends-on", first)
    assert child in DeferredJobRegistry(queue_name, connection=connection).get_job_ids()
    assert Job.fetch(child, connection=connection).get_status() == "deferred"
    assert connection.smembers(f"rq:job:{first}:dependents") == {child.encode()}
    assert connection.smembers(f"rq:job::{child}:dependencies") == {first.encode()}
    assert Job.fetch(child, connection=connection).dependency_ids == [first]


def test_invalid_job_id_is_refused(swift, queue_name):
    completed = swift.run("rq", "enqueue", "--queue", queue_name, "--function", "f", "--job-id", "bad:id", check=False)
    assert completed.returncode != 0
    assert "A-Za-z0-9" in completed.stderr


@pytest.mark.parametrize("worker_class", ["rq.worker.SimpleWorker", "rq.worker.Worker"])
def test_python_worker_runs_swift_jobs(connection, queue_name, swift, worker_class):
    ok = swift.enqueue(queue_name, "rqcompat.jobs.echo", tagged.dumps(["a", 2**70, {"x": (1, 2)}]), tagged.dumps({"k": b"\x00"}))
    added = swift.enqueue(queue_name, "resume_processor.jobs.add", "[2, 3]")
    failing = swift.enqueue(queue_name, "rqcompat.jobs.fail", tagged.dumps(["boom from python"]))
    parent = swift.enqueue(queue_name, "rqcompat.jobs.add", "[1, 1]")
    child = swift.enqueue(queue_name, "rqcompat.jobs.add", "[10, 20]", "{}", "--depends-on", parent)
    completed = python_rq("worker", "--burst", "-w", worker_class, queue_name)
    assert completed.returncode == 0, completed.stderr
    assert Job.fetch(ok, connection=connection).return_value() == {"args": ["a", 2**70, {"x": (1, 2)}], "kwargs": {"k": b"\x00"}}
    assert Job.fetch(added, connection=connection).return_value() == 5
    assert Job.fetch(child, connection=connection).return_value() == 30
    failed = Job.fetch(failing, connection=connection)
    assert failed.get_status() == "failed"
    assert failing in FailedJobRegistry(queue_name, connection=connection).get_job_ids()
    assert set(FinishedJobRegistry(queue_name, connection=connection).get_job_ids()) == {ok, added, parent, child}
    # Swift reads what the Python worker wrote.
    seen = swift.job(added)
    assert seen["status"] == "finished" and seen["result_type"] == 1 and seen["return_value"] == 5
    assert seen["started_at"] and seen["ended_at"] and seen["worker_name"]
    assert tagged.from_tagged(swift.job(ok)["return_value"]) == {"args": ["a", 2**70, {"x": (1, 2)}], "kwargs": {"k": b"\x00"}}
    seen_failed = swift.job(failing)
    assert seen_failed["status"] == "failed" and seen_failed["result_type"] == 2
    assert "ValueError: boom from python" in seen_failed["exc_string"]


def test_swift_reads_python_results_all_types(connection, queue_name, swift):
    q = Queue(queue_name, connection=connection)
    none_job = q.enqueue("rqcompat.jobs.return_none")
    float_job = q.enqueue("rqcompat.jobs.add", 0.5, 0.25)
    retried = q.enqueue("rqcompat.jobs.fail", "again", retry=Retry(max=1))
    completed = python_rq("worker", "--burst", "-w", "rq.worker.SimpleWorker", queue_name)
    assert completed.returncode == 0, completed.stderr
    assert swift.job(none_job.id)["result_type"] == 1 and swift.job(none_job.id)["return_value"] is None
    assert swift.job(float_job.id)["return_value"] == {"$float": "0.75"}
    seen = swift.job(retried.id)
    assert seen["status"] == "failed" and seen["retries_left"] == 0 and "again" in seen["exc_string"]


def test_swift_reads_retry_result_types(connection, queue_name, swift):
    # A job that returns Retry(max=1) leaves result types 4 (retried) then 5 (max retries
    # exceeded), each carrying a pickled rq.job.Retry, which Swift reports as undecodable, not as
    # an error.
    q = Queue(queue_name, connection=connection)
    job = q.enqueue("rqcompat.jobs.return_retry")
    for _ in range(2):
        completed = python_rq("worker", "--burst", "-w", "rq.worker.SimpleWorker", queue_name)
        assert completed.returncode == 0, completed.stderr
    types = [r.type.value for r in Job.fetch(job.id, connection=connection).results()]
    seen = swift.job(job.id)
    assert seen["result_type"] == types[0]
    assert set(types) == {4, 5}


def test_swift_requeue_then_python_runs(connection, queue_name, swift):
    q = Queue(queue_name, connection=connection)
    job = q.enqueue("rqcompat.jobs.fail", "first time")
    python_rq("worker", "--burst", "-w", "rq.worker.SimpleWorker", queue_name)
    assert job.id in FailedJobRegistry(queue_name, connection=connection).get_job_ids()
    out = swift.run("requeue", "--queue", queue_name, "--all").stdout
    assert "Requeueing 1 jobs" in out
    refetched = Job.fetch(job.id, connection=connection)
    assert refetched.get_status() == "queued" and q.job_ids == [job.id]
    assert job.id not in FailedJobRegistry(queue_name, connection=connection).get_job_ids()
    assert refetched.started_at is None and refetched.ended_at is None


def test_info_matches_rq_info(connection, queue_name, swift):
    q = Queue(queue_name, connection=connection)
    for n in range(3):
        q.enqueue("rqcompat.jobs.add", n, n)
    failing = q.enqueue("rqcompat.jobs.fail", "x")
    python_rq("worker", "--burst", "-w", "rq.worker.SimpleWorker", queue_name)
    q.enqueue("rqcompat.jobs.add", 1, 1)
    ours = swift.run("info", "--raw", queue_name).stdout.strip().splitlines()
    theirs = python_rq("info", "--raw", queue_name).stdout.strip().splitlines()
    assert ours == theirs
    assert ours[0] == f"queue {queue_name} 1, 0 executing, 3 finished, 1 failed"
    assert failing.id in FailedJobRegistry(queue_name, connection=connection).get_job_ids()


def test_swift_enqueue_order_is_fifo(connection, queue_name, swift):
    ids = [swift.enqueue(queue_name, "rqcompat.jobs.add", f"[{n}, {n}]") for n in range(5)]
    assert Queue(queue_name, connection=connection).job_ids == ids


def _abandon(connection, q, job, execution="0123456789abcdef0123456789abcdef"):
    """Leaves `job` as a SIGKILLed worker would: started, with an expired rq:wip entry."""
    connection.lrem(q.key, 0, job.id)
    connection.hset(job.key, mapping={"status": "started", "started_at": "2026-01-01T00:00:00.000000Z", "worker_name": "dead-worker"})
    connection.zadd(f"rq:wip:{q.name}", {f"{job.id}:{execution}": 1})


def test_abandoned_jobs_cleaned_like_python(connection, swift):
    from rq.registry import StartedJobRegistry
    comparisons = {}
    for cleaner in ("python", "swift"):
        q = Queue("compat-abandon-" + cleaner + "-" + os.urandom(4).hex(), connection=connection)
        doomed = q.enqueue("rqcompat.jobs.add", 1, 2, failure_ttl=900)
        retried = q.enqueue("rqcompat.jobs.add", 3, 4, retry=Retry(max=2))
        scheduled = q.enqueue("rqcompat.jobs.add", 5, 6, retry=Retry(max=1, interval=60))
        for job in (doomed, retried, scheduled):
            _abandon(connection, q, job)
        if cleaner == "python":
            StartedJobRegistry(queue=q).cleanup()
        else:
            swift.run("info", "--raw", q.name)
        d, r, s = (Job.fetch(j.id, connection=connection) for j in (doomed, retried, scheduled))
        comparisons[cleaner] = {
            "statuses": (d.get_status(), r.get_status(), s.get_status()),
            "failed": FailedJobRegistry(queue=q).get_job_ids(),
            "queued": q.job_ids,
            "scheduled": ScheduledJobRegistry(queue=q).get_job_ids(),
            "wip": connection.zcard(f"rq:wip:{q.name}"),
            "retries_left": (r.retries_left, s.retries_left),
            "result": (d.latest_result().type.value, d.latest_result().worker_name,
                       d.latest_result().exc_string.split(", at ")[0]),
            "result_ttl": 0 < connection.ttl(f"rq:results:{doomed.id}") <= 900,
            "job_ttl": 0 < connection.ttl(doomed.key) <= 900,
            "failed_score": int(connection.zscore(f"rq:failed:{q.name}", doomed.id)) - int(time.time()),
        }
        ids = {"doomed": doomed.id, "retried": retried.id, "scheduled": scheduled.id}
        comparisons[cleaner]["failed"] = [k for k, v in ids.items() if v in comparisons[cleaner]["failed"]]
        comparisons[cleaner]["queued"] = [k for k, v in ids.items() if v in comparisons[cleaner]["queued"]]
        comparisons[cleaner]["scheduled"] = [k for k, v in ids.items() if v in comparisons[cleaner]["scheduled"]]
    python, ours = comparisons["python"], comparisons["swift"]
    assert abs(python.pop("failed_score") - ours.pop("failed_score")) <= 2
    assert ours == python
    assert ours["statuses"] == ("failed", "queued", "scheduled")
    assert ours["result"][2] == "Moved to FailedJobRegistry, due to AbandonedJobError"


def test_swift_rq_worker_runs_python_jobs(connection, queue_name, swift):
    q = Queue(queue_name, connection=connection)
    echo = q.enqueue("resume_processor.jobs.echo", "a", 2**70, k=b"\x00", meta={"m": 1})
    failing = q.enqueue("resume_processor.jobs.fail", "boom in swift")
    unknown = q.enqueue("no.such.function")
    retried = q.enqueue("resume_processor.jobs.fail", "again", retry=Retry(max=1))
    kept = q.enqueue("resume_processor.jobs.echo", 1, result_ttl=-1)
    out = swift.run("run", "--rq", "--burst", queue_name, "--name", "swift-" + queue_name).stdout
    assert "2 finished" in out
    job = Job.fetch(echo.id, connection=connection)
    assert job.get_status() == "finished"
    assert job.return_value() == {"args": ["a", 2**70], "kwargs": {"k": b"\x00"}}
    assert job.meta == {"m": 1}
    assert job.worker_name == "swift-" + queue_name and job.started_at and job.ended_at
    assert job.latest_result().type.value == 1
    failed = Job.fetch(failing.id, connection=connection)
    assert failed.get_status() == "failed"
    assert "ValueError: boom in swift" in failed.latest_result().exc_string
    assert "UnknownFunctionError" in Job.fetch(unknown.id, connection=connection).latest_result().exc_string
    again = Job.fetch(retried.id, connection=connection)
    assert again.get_status() == "failed" and again.retries_left == 0
    assert connection.ttl(kept.key) == -1
    registry = FinishedJobRegistry(queue_name, connection=connection)
    assert set(registry.get_job_ids()) == {echo.id, kept.id}
    assert set(FailedJobRegistry(queue_name, connection=connection).get_job_ids()) == {failing.id, unknown.id, retried.id}
    assert connection.llen(f"rq:queue:{queue_name}:intermediate") == 0
    assert connection.zcard(f"rq:wip:{queue_name}") == 0
    # The worker registered and died like a Python worker.
    assert not connection.sismember("rq:workers", f"rq:worker:swift-{queue_name}")
    assert connection.hget(f"rq:worker:swift-{queue_name}", "death")
    assert int(connection.hget(f"rq:worker:swift-{queue_name}", "successful_job_count")) == 2
    assert int(connection.hget(f"rq:worker:swift-{queue_name}", "failed_job_count")) == 4
    # Python's requeue puts a Swift-failed job back and the Swift worker runs it again.
    completed = python_rq("requeue", "--queue", queue_name, failing.id)
    assert completed.returncode == 0, completed.stderr
    swift.run("run", "--rq", "--burst", queue_name)
    assert Job.fetch(failing.id, connection=connection).get_status() == "failed"
    assert len(Job.fetch(failing.id, connection=connection).results()) == 2


def test_swift_rq_worker_releases_dependents(connection, queue_name, swift):
    from rq.job import Dependency
    q = Queue(queue_name, connection=connection)
    parent = q.enqueue("resume_processor.jobs.echo", "parent")
    child = q.enqueue("resume_processor.jobs.echo", "child", depends_on=parent)
    bad_parent = q.enqueue("resume_processor.jobs.fail", "no")
    blocked = q.enqueue("resume_processor.jobs.echo", "blocked", depends_on=bad_parent)
    tolerant = q.enqueue("resume_processor.jobs.echo", "tolerant", depends_on=Dependency(jobs=[bad_parent], allow_failure=True))
    assert Job.fetch(child.id, connection=connection).get_status() == "deferred"
    swift.run("run", "--rq", "--burst", queue_name)
    assert Job.fetch(child.id, connection=connection).return_value() == {"args": ["child"], "kwargs": {}}
    assert Job.fetch(tolerant.id, connection=connection).get_status() == "finished"
    assert Job.fetch(blocked.id, connection=connection).get_status() == "deferred"
    assert DeferredJobRegistry(queue_name, connection=connection).get_job_ids() == [blocked.id]
    assert not connection.exists(f"rq:job:{parent.id}:dependents")


def test_pubsub_commands_reach_the_swift_worker(connection, queue_name, swift):
    import subprocess
    from rq.command import send_shutdown_command, send_stop_job_command
    from conftest import REDIS_URL, SWIFT_WORKER
    q = Queue(queue_name, connection=connection)
    long_job = q.enqueue("resume_processor.jobs.sleep", 30)
    name = "swift-pubsub-" + queue_name
    worker = subprocess.Popen([SWIFT_WORKER, "run", "--rq", queue_name, "--name", name, "--url", REDIS_URL],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 20
        while Job.fetch(long_job.id, connection=connection).get_status() != "started":
            assert time.time() < deadline, "the job never started"
            time.sleep(0.05)
        send_stop_job_command(connection, long_job.id)
        while Job.fetch(long_job.id, connection=connection).get_status() != "stopped":
            assert time.time() < deadline, "stop-job had no effect"
            time.sleep(0.05)
        stopped = Job.fetch(long_job.id, connection=connection)
        assert long_job.id in FailedJobRegistry(queue_name, connection=connection).get_job_ids()
        assert stopped.latest_result().type.value == 2
        assert "stopped by user" in stopped.latest_result().exc_string
        send_shutdown_command(connection, name)
        assert worker.wait(timeout=20) == 0
        assert connection.hget(f"rq:worker:{name}", "death")
    finally:
        if worker.poll() is None:
            worker.kill()


def test_rq_info_lists_the_swift_worker_idle_and_busy(connection, queue_name):
    import subprocess
    from rq.command import send_shutdown_command
    from conftest import REDIS_URL, SWIFT_WORKER
    name = "swift-info-" + queue_name
    worker = subprocess.Popen([SWIFT_WORKER, "run", "--rq", queue_name, "--name", name, "--url", REDIS_URL],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 20

        def worker_line():
            out = python_rq("info", "--raw", queue_name).stdout
            return next((line for line in out.splitlines() if line.startswith(f"worker {name} ")), "")

        while " idle " not in worker_line():
            assert time.time() < deadline, f"rq info never showed the idle worker: {python_rq('info', '--raw', queue_name).stdout}"
            time.sleep(0.1)
        assert worker_line().endswith(f"idle {queue_name}. jobs: 0 finished, 0 failed")
        job = Queue(queue_name, connection=connection).enqueue("resume_processor.jobs.sleep", 3)
        while " busy " not in worker_line():
            assert time.time() < deadline, "rq info never showed the busy worker"
            time.sleep(0.05)
        assert f"queue {queue_name} 0, 1 executing" in python_rq("info", "--raw", queue_name).stdout
        while Job.fetch(job.id, connection=connection).get_status() != "finished":
            assert time.time() < deadline, "the job did not finish"
            time.sleep(0.05)
        assert worker_line().endswith("jobs: 1 finished, 0 failed")
        send_shutdown_command(connection, name)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
