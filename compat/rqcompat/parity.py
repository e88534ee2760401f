"""Running one job with Python RQ's own worker and with the Swift worker, on queues of their own,
and what a Python user observes of it (the compat suite's test_parity_*.py)."""
import os
import subprocess
import tempfile
import time
import uuid

from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

REDIS_URL = os.environ["TEST_REDIS_URL"]
SWIFT_WORKER = os.environ["SWIFT_WORKER_BIN"]
COMPAT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def wait_until_started(connection, job, log, timeout=30):
    """Returns once `job` is `started` (its worker's log in the message otherwise)."""
    deadline = time.time() + timeout
    while Job.fetch(job.id, connection=connection).get_status() != "started":
        assert time.time() < deadline, output(log)[-2000:]
        time.sleep(0.05)


def abandon(connection, queue, job):
    """Leaves `job` as a SIGKILLed worker would: `started`, off the queue, with an expired
    started-registry entry."""
    connection.lrem(queue.key, 0, job.id)
    connection.hset(job.key, mapping={"status": "started", "started_at": "2026-01-01T00:00:00.000000Z", "worker_name": "dead-worker"})
    connection.zadd(f"rq:wip:{queue.name}", {f"{job.id}:0123456789abcdef0123456789abcdef": 1})
