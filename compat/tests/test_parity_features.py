"""Callbacks, Repeat, start-up recovery, webhooks and rate limits, compared with Python RQ's own
worker (docs/rq-interop.md, "Feature by feature")."""
import time
import uuid

import pytest
from rq import Queue, Retry
from rq.job import Job

from conftest import rq_major
from rqcompat.parity import WORKERS, abandon, wait_until_started, assert_same, both, burst, last_line, observe, output


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
        wait_until_started(connection, job, log)
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
        abandon(connection, queue, job)
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


def test_an_abandoned_parent_releases_children_that_allow_its_failure(connection):
    from rq.job import Dependency
    statuses = {}
    for kind in WORKERS:
        queue = Queue(f"parity-{kind}-" + uuid.uuid4().hex[:10], connection=connection)
        parent = queue.enqueue("resume_processor.jobs.echo", "parent")
        tolerant = queue.enqueue("resume_processor.jobs.echo", "child", depends_on=Dependency(jobs=[parent], allow_failure=True))
        strict = queue.enqueue("resume_processor.jobs.echo", "strict", depends_on=parent)
        abandon(connection, queue, parent)  # its worker died mid-job
        code, log = burst(kind, queue.name)
        assert code == 0, log[-2000:]
        statuses[kind] = [Job.fetch(job.id, connection=connection).get_status().value for job in (parent, tolerant, strict)]
    assert statuses["swift"] == statuses["python"] == ["failed", "finished", "deferred"], statuses
