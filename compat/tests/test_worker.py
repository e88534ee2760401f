"""The Swift worker beside Python RQ: concurrency, scheduler, maintenance, crashes, shutdown,
sharing a queue with a Python SimpleWorker, and rq-dashboard's JSON endpoints."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta

import pytest
import rq
from rq import Queue
from rq.job import Job, Retry
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from conftest import COMPAT_DIR, REDIS_URL, SWIFT_WORKER, python_rq
from rqcompat.processes import children_of


def wait_for(predicate, timeout=30, message="condition not reached", interval=0.05):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, message() if callable(message) else message
        time.sleep(interval)


class SwiftWorker:
    """A long-running Swift `worker` process, stopped by pid."""

    def __init__(self, *args, name=None):
        self.name = name or "swift-" + uuid.uuid4().hex[:10]
        # Output goes to a file: an unread pipe fills up and blocks the worker's logging.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [SWIFT_WORKER, "run", *args, "--name", self.name, "--url", REDIS_URL],
            stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def signal(self, number):
        self.process.send_signal(number)

    def wait(self, timeout=30):
        return self.process.wait(timeout=timeout)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def output(self):
        self.log.seek(0)
        return self.log.read()


@pytest.fixture
def workers():
    started = []

    def start(*args, name=None):
        worker = SwiftWorker(*args, name=name)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


def test_concurrency_runs_jobs_at_once(connection, queue_name, workers):
    q = Queue(queue_name, connection=connection)
    jobs = [q.enqueue("resume_processor.jobs.sleep", 1.5) for _ in range(4)]
    worker = workers("--rq", "--concurrency", "4", queue_name)
    # All four run at the same time: four executions in the worker's set and in the wip registry.
    wait_for(lambda: connection.scard(f"rq:worker:{worker.name}:executions") == 4, message="never 4 at once")
    assert StartedJobRegistry(queue_name, connection=connection).count == 4
    assert connection.hget(f"rq:worker:{worker.name}", "state") == b"busy"
    assert connection.hget(f"rq:worker:{worker.name}", "current_job").decode() in {j.id for j in jobs}
    wait_for(lambda: all(Job.fetch(j.id, connection=connection).get_status() == "finished" for j in jobs))
    wait_for(lambda: connection.hget(f"rq:worker:{worker.name}", "state") == b"idle")
    assert connection.hget(f"rq:worker:{worker.name}", "current_job") is None
    assert int(connection.hget(f"rq:worker:{worker.name}", "successful_job_count")) == 4
    worker.signal(signal.SIGTERM)
    code = worker.wait()
    assert code == 0, worker.output()[-6000:]


def test_scheduler_moves_due_jobs_and_interval_retries(connection, queue_name, workers):
    q = Queue(queue_name, connection=connection)
    later = q.enqueue_in(timedelta(seconds=1), "resume_processor.jobs.echo", "later")
    retried = q.enqueue("resume_processor.jobs.fail", "twice", retry=Retry(max=1, interval=1))
    assert later.get_status() == "scheduled"
    worker = workers("--rq", "--with-scheduler", queue_name)
    wait_for(lambda: connection.get(f"rq:scheduler-lock:{queue_name}") == worker.name.encode(), message="no scheduler lock")
    assert connection.ttl(f"rq:scheduler-lock:{queue_name}") <= 61
    assert connection.hget(f"rq:scheduler:{worker.name}", "queues") == queue_name.encode()
    wait_for(lambda: Job.fetch(later.id, connection=connection).get_status() == "finished", message="scheduled job never ran")
    assert Job.fetch(later.id, connection=connection).return_value() == {"args": ["later"], "kwargs": {}}
    # The interval retry went through rq:scheduled:Q and came back through the scheduler.
    wait_for(lambda: Job.fetch(retried.id, connection=connection).get_status() == "failed", message="retry never ran")
    assert Job.fetch(retried.id, connection=connection).retries_left == 0
    assert ScheduledJobRegistry(queue_name, connection=connection).count == 0
    worker.signal(signal.SIGTERM)
    code = worker.wait()
    assert code == 0, worker.output()[-6000:]
    # Stopping releases the lock and deletes the scheduler record.
    assert connection.get(f"rq:scheduler-lock:{queue_name}") is None
    assert not connection.exists(f"rq:scheduler:{worker.name}")


def test_scheduler_respects_a_lock_held_by_another_scheduler(connection, queue_name, workers):
    q = Queue(queue_name, connection=connection)
    connection.set(f"rq:scheduler-lock:{queue_name}", "python-scheduler", ex=60)
    job = q.enqueue_in(timedelta(seconds=0), "resume_processor.jobs.echo", "held")
    worker = workers("--rq", "--with-scheduler", queue_name)
    wait_for(lambda: connection.exists(f"rq:scheduler:{worker.name}"), message="scheduler never started")
    time.sleep(2)  # two scheduler ticks: the job must stay put while another scheduler owns the queue
    assert Job.fetch(job.id, connection=connection).get_status() == "scheduled"
    assert connection.get(f"rq:scheduler-lock:{queue_name}") == b"python-scheduler"
    worker.signal(signal.SIGTERM)
    code = worker.wait()
    assert code == 0, worker.output()[-6000:]
    assert connection.get(f"rq:scheduler-lock:{queue_name}") == b"python-scheduler"


def test_python_scheduler_runs_what_swift_retries(connection, queue_name, swift):
    """A Swift retry with an interval lands in rq:scheduled:Q where Python's scheduler finds it."""
    from rq.scheduler import RQScheduler
    q = Queue(queue_name, connection=connection)
    job = q.enqueue("resume_processor.jobs.fail", "x", retry=Retry(max=1, interval=1))
    swift.run("run", "--rq", "--burst", queue_name)
    assert Job.fetch(job.id, connection=connection).get_status() == "scheduled"
    time.sleep(1.1)
    scheduler = RQScheduler([queue_name], connection=connection)
    scheduler.acquire_locks()
    scheduler.enqueue_scheduled_jobs()
    scheduler.release_locks()
    assert Job.fetch(job.id, connection=connection).get_status() == "queued"


def test_maintenance_cleans_like_python(connection, queue_name, swift):
    q = Queue(queue_name, connection=connection)
    # A job stuck in the intermediate list (dequeued by a worker that died before starting it),
    # first seen two minutes ago.
    stuck = q.enqueue("resume_processor.jobs.echo", "stuck")
    connection.lrem(f"rq:queue:{queue_name}", 1, stuck.id)
    connection.rpush(f"rq:queue:{queue_name}:intermediate", stuck.id)
    connection.set(f"rq:queue:{queue_name}:intermediate:first_seen:{stuck.id}", time.time() - 120)
    # An id whose hash is gone.
    connection.rpush(f"rq:queue:{queue_name}:intermediate", "gone-" + uuid.uuid4().hex)
    # An abandoned execution (its heartbeat expired) of a job that has no retries left.
    abandoned = q.enqueue("resume_processor.jobs.echo", "abandoned")
    connection.lrem(f"rq:queue:{queue_name}", 1, abandoned.id)
    connection.hset(abandoned.key, "status", "started")
    connection.zadd(f"rq:wip:{queue_name}", {f"{abandoned.id}:deadbeef": time.time() - 5})
    # A dead worker still listed in the sets.
    dead = f"rq:worker:dead-{uuid.uuid4().hex[:8]}"
    connection.sadd("rq:workers", dead)
    connection.sadd(f"rq:workers:{queue_name}", dead)
    swift.run("run", "--rq", "--burst", queue_name)
    stuck_job = Job.fetch(stuck.id, connection=connection)
    assert stuck_job.get_status() == "failed"
    assert stuck_job.latest_result().exc_string == "Job was stuck in intermediate queue."
    assert connection.llen(f"rq:queue:{queue_name}:intermediate") == 0
    gone = Job.fetch(abandoned.id, connection=connection)
    assert gone.get_status() == "failed"
    assert "AbandonedJobError" in gone.latest_result().exc_string
    assert not connection.sismember("rq:workers", dead)
    assert not connection.sismember(f"rq:workers:{queue_name}", dead)
    assert not connection.exists(f"rq:clean_registries:{queue_name}")


def test_maintenance_lock_is_respected(connection, queue_name, swift):
    q = Queue(queue_name, connection=connection)
    abandoned = q.enqueue("resume_processor.jobs.echo", "abandoned")
    connection.lrem(f"rq:queue:{queue_name}", 1, abandoned.id)
    connection.hset(abandoned.key, "status", "started")
    connection.zadd(f"rq:wip:{queue_name}", {f"{abandoned.id}:deadbeef": time.time() - 5})
    connection.set(f"rq:clean_registries:{queue_name}", 1, ex=60)  # another worker is cleaning
    swift.run("run", "--rq", "--burst", queue_name)
    assert Job.fetch(abandoned.id, connection=connection).get_status() == "started"
    assert connection.exists(f"rq:clean_registries:{queue_name}")


def test_kill_9_mid_job_python_maintenance_and_retry(connection, queue_name, workers, swift):
    q = Queue(queue_name, connection=connection)
    with_retry = q.enqueue("resume_processor.jobs.sleep", 2, retry=Retry(max=2), job_timeout=5)
    without = q.enqueue("resume_processor.jobs.sleep", 2, job_timeout=5)
    worker = workers("--rq", "--concurrency", "2", queue_name)
    wait_for(lambda: StartedJobRegistry(queue_name, connection=connection).count == 2, message="jobs never started")
    worker.process.send_signal(signal.SIGKILL)
    worker.wait()
    # What a dead Python worker leaves: both jobs `started`, the worker still listed as busy.
    assert Job.fetch(with_retry.id, connection=connection).get_status() == "started"
    assert connection.sismember(f"rq:workers:{queue_name}", f"rq:worker:{worker.name}")
    # Time passes (the execution heartbeats and the worker key expire, as they would after 65-90 s):
    for member in connection.zrange(f"rq:wip:{queue_name}", 0, -1):
        connection.zadd(f"rq:wip:{queue_name}", {member: time.time() - 1})
    connection.delete(f"rq:worker:{worker.name}")
    # Python's own maintenance (`rq info` cleans the started registry) treats it as a dead Python worker.
    completed = python_rq("info", "--raw", queue_name)
    assert completed.returncode == 0, completed.stderr
    assert Job.fetch(with_retry.id, connection=connection).get_status() == "queued"
    failed = Job.fetch(without.id, connection=connection)
    assert failed.get_status() == "failed" and "AbandonedJobError" in failed.latest_result().exc_string
    # The job with a Retry (as our API enqueues them) runs again and finishes.
    swift.run("run", "--rq", "--burst", queue_name)
    assert Job.fetch(with_retry.id, connection=connection).get_status() == "finished"
    assert not connection.sismember(f"rq:workers:{queue_name}", f"rq:worker:{worker.name}")


def test_warm_then_cold_shutdown(connection, queue_name, workers):
    q = Queue(queue_name, connection=connection)
    job = q.enqueue("resume_processor.jobs.sleep", 30, retry=Retry(max=1))
    worker = workers("--rq", queue_name)
    wait_for(lambda: Job.fetch(job.id, connection=connection).get_status() == "started", message="never started")
    worker.signal(signal.SIGINT)  # warm: the job keeps running
    time.sleep(1)
    assert worker.process.poll() is None
    assert Job.fetch(job.id, connection=connection).get_status() == "started"
    worker.signal(signal.SIGINT)  # cold: cancelled now, recorded as interrupted, retried
    assert worker.wait(timeout=15) == 0
    interrupted = Job.fetch(job.id, connection=connection)
    assert interrupted.get_status() == "queued" and interrupted.retries_left == 0
    assert connection.hget(f"rq:worker:{worker.name}", "death")
    assert StartedJobRegistry(queue_name, connection=connection).count == 0


def test_shutdown_grace_period_then_interrupted(connection, queue_name, workers):
    q = Queue(queue_name, connection=connection)
    job = q.enqueue("resume_processor.jobs.sleep", 30)
    worker = workers("--rq", "--shutdown-timeout", "1", queue_name)
    wait_for(lambda: Job.fetch(job.id, connection=connection).get_status() == "started", message="never started")
    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    failed = Job.fetch(job.id, connection=connection)
    assert failed.get_status() == "failed"
    assert "ShutDownImminentException" in failed.latest_result().exc_string
    assert job.id in FailedJobRegistry(queue_name, connection=connection).get_job_ids()


def test_python_simpleworker_and_swift_share_1000_jobs(connection, queue_name, workers):
    q = Queue(queue_name, connection=connection)
    jobs = q.enqueue_many([Queue.prepare_data("resume_processor.jobs.echo", args=(i,), result_ttl=600) for i in range(1000)])
    swift_worker = workers("--rq", "--concurrency", "4", queue_name)
    env = dict(os.environ, PYTHONPATH=COMPAT_DIR)
    python_worker = subprocess.run(
        ["rq", "worker", "--burst", "-w", "rq.worker.SimpleWorker", "--url", REDIS_URL, "--name", "py-" + queue_name, queue_name],
        capture_output=True, text=True, timeout=300, env=env)
    assert python_worker.returncode == 0, python_worker.stderr
    def state():
        return (f"finished {FinishedJobRegistry(queue_name, connection=connection).count}, "
                f"failed {FailedJobRegistry(queue_name, connection=connection).count}, "
                f"queued {connection.llen(f'rq:queue:{queue_name}')}, "
                f"intermediate {connection.lrange(f'rq:queue:{queue_name}:intermediate', 0, -1)}, "
                f"wip {connection.zrange(f'rq:wip:{queue_name}', 0, -1)}")
    wait_for(lambda: FinishedJobRegistry(queue_name, connection=connection).count == 1000, timeout=60, message=state)
    swift_worker.signal(signal.SIGTERM)
    assert swift_worker.wait() == 0
    runners = {}
    for job in jobs:
        fetched = Job.fetch(job.id, connection=connection)
        assert fetched.get_status() == "finished"
        assert len(fetched.results()) == 1, f"{job.id} ran {len(fetched.results())} times"
        runners[fetched.worker_name] = runners.get(fetched.worker_name, 0) + 1
    assert set(runners) == {swift_worker.name, "py-" + queue_name}, runners
    assert FailedJobRegistry(queue_name, connection=connection).count == 0


def test_rq_dashboard_json_endpoints(connection, queue_name, workers, swift):
    from rq_dashboard.cli import make_flask_app
    os.environ.pop("RQ_DASHBOARD_SETTINGS", None)
    app = make_flask_app(None, None, None, "")
    app.config["RQ_DASHBOARD_REDIS_URL"] = [REDIS_URL]
    app.testing = True
    client = app.test_client()
    q = Queue(queue_name, connection=connection)
    done = q.enqueue("resume_processor.jobs.echo", "shown")
    bad = q.enqueue("resume_processor.jobs.fail", "dashboard")
    swift.run("run", "--rq", "--burst", queue_name)
    busy = q.enqueue("resume_processor.jobs.sleep", 5)
    worker = workers("--rq", queue_name)
    wait_for(lambda: Job.fetch(busy.id, connection=connection).get_status() == "started", message="never started")

    response = client.get("/0/data/workers.json")
    assert response.status_code == 200, response.data
    shown = [w for w in response.get_json()["workers"] if w["name"] == worker.name]
    assert len(shown) == 1
    assert shown[0]["state"] == "busy" and shown[0]["queues"] == [queue_name]
    assert shown[0]["current_job"]["job_id"] == busy.id if isinstance(shown[0]["current_job"], dict) else busy.id in json.dumps(shown[0]["current_job"])

    response = client.get("/0/data/queues.json")
    assert response.status_code == 200, response.data
    assert any(entry["name"] == queue_name for entry in response.get_json()["queues"])

    response = client.get(f"/0/data/job/{done.id}.json")
    assert response.status_code == 200, response.data
    detail = response.get_json()
    assert detail["status"] == "finished" and detail["result"] == {"args": ["shown"], "kwargs": {}}

    response = client.get(f"/0/data/job/{bad.id}.json")
    assert response.status_code == 200, response.data
    assert "ValueError: dashboard" in response.get_json()["exc_info"]

    for registry in ("finished", "failed", "started"):
        response = client.get(f"/0/data/jobs/{queue_name}/{registry}/10/asc/1.json")
        assert response.status_code == 200, (registry, response.data)
    worker.signal(signal.SIGTERM)
    code = worker.wait()
    assert code == 0, worker.output()[-6000:]


def enqueue_native_sleep(connection, seconds):
    """A native job (`job:{id}` + `resume_processing_queue`) running the built-in sleep function."""
    job_id = "native-" + uuid.uuid4().hex
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    connection.hset(f"job:{job_id}", mapping={
        "id": job_id, "function": "resume_processor.jobs.sleep", "args": f"[{seconds}]", "kwargs": "{}",
        "status": "queued", "attempts": "0", "max_attempts": "3", "created_at": now, "enqueued_at": now})
    connection.rpush("resume_processing_queue", job_id)
    return job_id


def test_native_kill_9_mid_job_reruns_and_finishes(connection, workers, swift):
    """Native mode: a worker killed mid-job leaves the id in its processing list; once its heartbeat
    expires another worker's reaper puts it back and it finishes (attempts counts both runs)."""
    job_id = enqueue_native_sleep(connection, 2)
    first = workers()
    wait_for(lambda: connection.hget(f"job:{job_id}", "status") == b"started", message="never started")
    first.process.send_signal(signal.SIGKILL)
    first.wait()
    assert connection.lrange(f"resume_processing_queue:processing:{first.name}", 0, -1) == [job_id.encode()]
    connection.delete(f"resume_processing_queue:worker:{first.name}")  # its heartbeat expires
    swift.run("run", "--burst")
    job = connection.hgetall(f"job:{job_id}")
    assert job[b"status"] == b"finished", job
    assert job[b"attempts"] == b"2"
    assert connection.llen(f"resume_processing_queue:processing:{first.name}") == 0


@pytest.mark.skipif(not rq.__version__.startswith("2."), reason="native mode knows no RQ version: run once, under rq 2.x")
def test_native_shutdown_timeout_over_30_seconds_lets_a_40_second_job_finish(connection, workers):
    """`--shutdown-timeout` means the same in native mode as in RQ mode: the native worker's own
    grace watchdog (30 s by default) once cut any longer value to 30 s."""
    job_id = enqueue_native_sleep(connection, 40)
    worker = workers("--shutdown-timeout", "45")
    wait_for(lambda: connection.hget(f"job:{job_id}", "status") == b"started", message="never started")
    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=70) == 0, worker.output()[-6000:]
    job = connection.hgetall(f"job:{job_id}")
    assert job[b"status"] == b"finished", job
    assert job[b"attempts"] == b"1", job


def test_metrics_port_exposes_job_counters(connection, queue_name, workers):
    import socket
    import urllib.request
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    q = Queue(queue_name, connection=connection)
    ok = q.enqueue("resume_processor.jobs.echo", 1)
    bad = q.enqueue("resume_processor.jobs.fail", "metrics")
    worker = workers("--rq", "--metrics-port", str(port), queue_name)
    wait_for(lambda: Job.fetch(ok.id, connection=connection).get_status() == "finished"
             and Job.fetch(bad.id, connection=connection).get_status() == "failed", message="jobs never ended")

    def scrape():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
                assert response.status == 200
                return response.read().decode()
        except OSError:
            return ""

    def samples():
        values = {}
        for line in scrape().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    wait_for(lambda: samples().get('worker_jobs_finished_total{mode="rq"}') == 1.0, message=lambda: scrape())
    values = samples()
    assert values['worker_jobs_started_total{mode="rq"}'] == 2.0
    assert values['worker_jobs_failed_total{mode="rq"}'] == 1.0
    assert values['worker_jobs_running{mode="rq"}'] == 0.0
    assert any(name.startswith("worker_job_duration_seconds") for name in values)
    worker.signal(signal.SIGTERM)
    code = worker.wait()
    assert code == 0, worker.output()[-6000:]


def test_rq_suspend_and_resume_act_on_the_swift_worker(connection, queue_name, workers, swift):
    # Started before the suspension (a worker refuses to start during one, as `rq worker` does:
    # test_parity_*.py), it pauses while it lasts.
    worker = workers("--rq", queue_name)
    wait_for(lambda: connection.hget(f"rq:worker:{worker.name}", "state") is not None, message="never registered")
    completed = python_rq("suspend")
    assert completed.returncode == 0, completed.stderr
    try:
        wait_for(lambda: connection.hget(f"rq:worker:{worker.name}", "state") == b"suspended", message="never suspended")
        job = Queue(queue_name, connection=connection).enqueue("resume_processor.jobs.echo", "after resume")
        # A burst worker refuses to start while the fleet is suspended, without touching the job.
        assert swift.run("run", "--rq", "--burst", queue_name, check=False).returncode == 1
        assert Job.fetch(job.id, connection=connection).get_status() == "queued"
        time.sleep(1.5)
        assert Job.fetch(job.id, connection=connection).get_status() == "queued"
    finally:
        completed = python_rq("resume")
        assert completed.returncode == 0, completed.stderr
    wait_for(lambda: Job.fetch(job.id, connection=connection).get_status() == "finished", message="never resumed")
    worker.signal(signal.SIGTERM)
    code = worker.wait()
    assert code == 0, worker.output()[-6000:]


def test_job_timeout_fails_the_job_like_rq(connection, queue_name, swift):
    q = Queue(queue_name, connection=connection)
    slow = q.enqueue("resume_processor.jobs.sleep", 30, job_timeout=1)
    started = time.time()
    swift.run("run", "--rq", "--burst", queue_name)
    assert time.time() - started < 15
    job = Job.fetch(slow.id, connection=connection)
    assert job.get_status() == "failed"
    assert "JobTimeoutException" in job.latest_result().exc_string


def test_vanished_worker_jobs_reclaimed_within_seconds(connection, queue_name, workers):
    """A Python worker kill -9'd mid-job (work horse included): its rq:pubsub channel goes silent,
    so a Swift worker declares it dead after --reclaim-after seconds and retries its job, instead
    of RQ's 60-90 s started-registry expiry. A live Python worker busy with another job on the
    same queue is left alone."""
    q = Queue(queue_name, connection=connection)
    env = dict(os.environ, PYTHONPATH=COMPAT_DIR)
    rq_bin = os.path.join(os.path.dirname(sys.executable), "rq")
    doomed_name, live_name = "py-doomed-" + uuid.uuid4().hex[:8], "py-live-" + uuid.uuid4().hex[:8]
    doomed = subprocess.Popen([rq_bin, "worker", "--url", REDIS_URL, "--name", doomed_name, queue_name], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    live = None
    try:
        abandoned = q.enqueue("resume_processor.jobs.sleep", 4, retry=Retry(max=1), job_timeout=120)
        wait_for(lambda: Job.fetch(abandoned.id, connection=connection).get_status() == "started", message="never started")
        assert Job.fetch(abandoned.id, connection=connection).worker_name == doomed_name
        for pid in [doomed.pid] + children_of(doomed.pid):
            os.kill(pid, signal.SIGKILL)
        doomed.wait(timeout=10)
        killed_at = time.time()
        # As if it had been the queue's scheduler (our schedulers' lock value is the worker name).
        connection.set(f"rq:scheduler-lock:{queue_name}", doomed_name, ex=61)
        busy = q.enqueue("resume_processor.jobs.sleep", 12, retry=Retry(max=1), job_timeout=120)
        live = subprocess.Popen([rq_bin, "worker", "--url", REDIS_URL, "--name", live_name, queue_name], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: Job.fetch(busy.id, connection=connection).get_status() == "started", message="live worker idle")
        swift = workers("--rq", "--reclaim-after", "2", queue_name)
        wait_for(lambda: Job.fetch(abandoned.id, connection=connection).get_status() == "finished", timeout=40,
                 message=lambda: f"abandoned job not reclaimed:\n{swift.output()[-2000:]}")
        reclaimed = Job.fetch(abandoned.id, connection=connection)
        # Retried once (not failed), run to the end by the Swift worker, well before RQ's 90 s rule.
        assert reclaimed.retries_left == 0 and reclaimed.worker_name == swift.name
        assert time.time() - killed_at < 35
        assert connection.hget(f"rq:worker:{doomed_name}", "death")
        assert not connection.exists(f"rq:scheduler-lock:{queue_name}")
        assert not connection.sismember("rq:workers", f"rq:worker:{doomed_name}")
        assert not connection.sismember(f"rq:workers:{queue_name}", f"rq:worker:{doomed_name}")
        # The live worker's job was not touched: it finishes there, once, with its retry unused.
        wait_for(lambda: Job.fetch(busy.id, connection=connection).get_status() == "finished", timeout=30, message="busy job")
        finished = Job.fetch(busy.id, connection=connection)
        assert finished.worker_name == live_name and finished.retries_left == 1
        assert connection.xlen(f"rq:results:{busy.id}") == 1
        assert connection.sismember("rq:workers", f"rq:worker:{live_name}")
    finally:
        for process in (doomed, live):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


def test_id_stuck_in_intermediate_list_is_recovered_within_seconds(connection, queue_name, workers):
    """An id a worker moved into the intermediate list and never started (its reply was lost, or it
    died right after BLMOVE) is retried after --reclaim-after seconds instead of RQ's minute."""
    q = Queue(queue_name, connection=connection)
    job = q.enqueue("resume_processor.jobs.echo", "stuck", retry=Retry(max=2))
    # What a lost BLMOVE reply leaves behind: the id moved, no started entry.
    assert connection.lmove(f"rq:queue:{queue_name}", f"rq:queue:{queue_name}:intermediate", "LEFT", "RIGHT") == job.id.encode()
    started = time.time()
    swift = workers("--rq", "--reclaim-after", "2", queue_name)
    wait_for(lambda: Job.fetch(job.id, connection=connection).get_status() == "finished", timeout=30,
             message=lambda: f"stuck id not recovered:\n{swift.output()[-2000:]}")
    assert time.time() - started < 25
    assert Job.fetch(job.id, connection=connection).retries_left == 1
    assert connection.llen(f"rq:queue:{queue_name}:intermediate") == 0
