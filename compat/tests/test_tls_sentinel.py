"""Python RQ and the Swift worker through the same `rediss://` and `redis+sentinel://` URLs
(`scripts/topology.sh`'s servers, certificates made at test time): Python enqueues, Swift runs,
`rq info` sees the Swift worker; and a Sentinel failover in the middle of a drain."""
import os
import signal
import subprocess
import tempfile
import time
import uuid

import redis
from redis_sentinel_url import connect as sentinel_connect
from rq import Queue
from rq.job import Job
from rq.registry import FinishedJobRegistry

from conftest import COMPAT_DIR, SWIFT_WORKER


def topology(name):
    value = os.environ.get(name)
    assert value, f"{name} is not set: run scripts/test.sh, or scripts/topology.sh start --dir DIR; source DIR/env"
    return value


def wait_for(predicate, timeout, message):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, message() if callable(message) else message
        time.sleep(0.05)


class Worker:
    """A Swift `worker run --rq` on `url`, stopped by pid."""

    def __init__(self, url, queue, *args):
        self.name = "swift-" + uuid.uuid4().hex[:10]
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [SWIFT_WORKER, "run", "--rq", *args, "--name", self.name, "--url", url, queue],
            stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


def rq_info(url, queue, check=True):
    """`rq info`'s output; with check=False a failure gives its stderr instead (rq info cleans
    registries, a write, which a new master refuses until its old one rejoins as a replica)."""
    env = dict(os.environ, PYTHONPATH=COMPAT_DIR)
    completed = subprocess.run(["rq", "info", "--url", url, queue], capture_output=True, text=True, timeout=60, env=env)
    assert completed.returncode == 0 or not check, completed.stderr
    return completed.stdout if completed.returncode == 0 else completed.stderr


def test_python_enqueues_over_tls_and_the_swift_worker_runs_it():
    url = topology("TOPO_TLS_URL")
    connection = redis.Redis.from_url(url)
    assert connection.connection_pool.connection_class.__name__ == "SSLConnection"
    queue_name = "tls-" + uuid.uuid4().hex[:10]
    queue = Queue(queue_name, connection=connection)
    jobs = [queue.enqueue("resume_processor.jobs.echo", i, result_ttl=600) for i in range(20)]
    worker = Worker(url, queue_name)
    try:
        finished = FinishedJobRegistry(queue_name, connection=connection)
        wait_for(lambda: finished.count == 20, 60, lambda: f"{finished.count} of 20 finished:\n{worker.output()[-3000:]}")
        assert [job.latest_result().return_value for job in jobs] == [{"args": [i], "kwargs": {}} for i in range(20)]
        wait_for(lambda: worker.name in rq_info(url, queue_name), 30, lambda: rq_info(url, queue_name))
    finally:
        assert worker.stop() == 0, worker.output()[-3000:]


def test_python_enqueues_with_a_client_certificate_and_the_swift_worker_runs_it():
    url = topology("TOPO_MTLS_URL")
    connection = redis.Redis.from_url(url)
    queue_name = "mtls-" + uuid.uuid4().hex[:10]
    queue = Queue(queue_name, connection=connection)
    job = queue.enqueue("resume_processor.jobs.echo", 2, 3, result_ttl=600)
    worker = Worker(url, queue_name)
    try:
        wait_for(lambda: job.get_status(refresh=True) == "finished", 60, lambda: worker.output()[-3000:])
        assert job.latest_result().return_value == {"args": [2, 3], "kwargs": {}}
    finally:
        assert worker.stop() == 0, worker.output()[-3000:]


def sentinel_client(port):
    return redis.Redis(host="127.0.0.1", port=int(port), decode_responses=True)


def fail_over(master_name, within=60):
    """SENTINEL FAILOVER once a replica is in sync; returns once the Sentinels name a new master."""
    sentinel = sentinel_client(topology("TOPO_SENTINEL_PORTS").split(",")[0])
    before = sentinel.sentinel_get_master_addr_by_name(master_name)
    deadline = time.time() + within
    while True:
        replicas = sentinel.sentinel_slaves(master_name)
        if any(r.get("flags") == "slave" and r.get("master-link-status") == "ok" for r in replicas):
            try:
                sentinel.execute_command("SENTINEL", "FAILOVER", master_name)
                break
            except redis.ResponseError:
                pass
        assert time.time() < deadline, f"no failover possible: {replicas}"
        time.sleep(0.2)
    wait_for(lambda: sentinel.sentinel_get_master_addr_by_name(master_name) != before, within,
             "the Sentinels still name the old master")
    return before, sentinel.sentinel_get_master_addr_by_name(master_name)


def require_a_replica_for_writes():
    """min-replicas-to-write 1 on both data nodes (docs/operations.md): an old master refuses
    writes (NOREPLICAS) as soon as its replica is promoted, instead of taking writes that the
    failover then discards."""
    for name in ("TOPO_MASTER_PORT", "TOPO_REPLICA_PORT"):
        node = redis.Redis(host="127.0.0.1", port=int(topology(name)))
        node.config_set("min-replicas-to-write", 1)
        node.config_set("min-replicas-max-lag", 10)
        node.close()


def test_a_sentinel_failover_in_the_middle_of_a_drain_loses_nothing():
    url = topology("TOPO_SENTINEL_URL")
    master_name = topology("TOPO_SENTINEL_MASTER")
    require_a_replica_for_writes()
    _, connection = sentinel_connect(url)
    queue_name = "sentinel-" + uuid.uuid4().hex[:10]
    queue = Queue(queue_name, connection=connection)
    total = 300
    jobs = queue.enqueue_many([
        Queue.prepare_data("resume_processor.jobs.sleep", args=(0.02,), result_ttl=600) for _ in range(total)])
    # Everything enqueued is on the replica too before the drain starts.
    assert connection.wait(1, 5000) >= 1
    worker = Worker(url, queue_name, "--concurrency", "4")

    def count(kind):
        # Read-only (a registry's .count cleans up, a write): until the old master rejoins as the
        # new one's replica, min-replicas-to-write refuses writes on both.
        try:
            if kind == "queued":
                return connection.llen("rq:queue:" + queue_name)
            return connection.zcard(f"rq:{kind}:{queue_name}")
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            return -1

    def state():
        return (f"finished {count('finished')}, failed {count('failed')}, started {count('wip')}, "
                f"queued {count('queued')}\n{worker.output()[-4000:]}")
    try:
        wait_for(lambda: count("finished") >= 40, 60, state)
        old, new = fail_over(master_name)
        assert old != new
        wait_for(lambda: count("finished") == total, 180, state)
        assert worker.process.poll() is None, "the worker exited during the failover"
        assert count("failed") == 0, state()
        assert all(Job.fetch(job.id, connection=connection).get_status() == "finished" for job in jobs)
        # rq info on the new master sees the worker.
        host, port = new
        direct = f"redis://{host}:{port}/0"
        wait_for(lambda: worker.name in rq_info(direct, queue_name, check=False), 30,
                 lambda: rq_info(direct, queue_name, check=False))
    finally:
        assert worker.stop() == 0, worker.output()[-4000:]
