"""Captures real RQ bytes into Fixtures/rq/ for the Swift unit tests (run once, output committed).

Usage: REDIS_URL=redis://127.0.0.1:PORT/0 python capture_fixtures.py  (in an rq==2.12.0 virtualenv,
with PYTHONPATH=compat). It flushes nothing: every key it writes uses fresh ids on its own queue.
"""
import base64
import json
import os
import uuid

import redis
import rq
from rq import Queue, Retry, SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer

from rqcompat import tagged

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "rq")
conn = redis.Redis.from_url(os.environ["REDIS_URL"])
queue_name = "fixtures-" + uuid.uuid4().hex[:8]


def dump(name, job, serializer="pickle", expected=None):
    fields = conn.hgetall(job.key)
    entries = conn.xrange(f"rq:results:{job.id}")
    record = {
        "rq_version": rq.__version__,
        "id": job.id,
        "serializer": serializer,
        "hash": {k.decode(): base64.b64encode(v).decode() for k, v in sorted(fields.items())},
        "results": [
            {"id": entry_id.decode(), "fields": {k.decode(): base64.b64encode(v).decode() for k, v in entry.items()}}
            for entry_id, entry in entries
        ],
        "expected": expected or {},
    }
    with open(os.path.join(OUT, f"{name}.json"), "w") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
        handle.write("\n")


def expected_for(job, **extra):
    result = {
        "func_name": job.func_name,
        "args": tagged.to_tagged(list(job.args)),
        "kwargs": tagged.to_tagged(job.kwargs),
        "meta": tagged.to_tagged(job.meta),
        "status": job.get_status(refresh=True),
        "description": job.description,
        "origin": job.origin,
        "timeout": job.timeout,
    }
    result.update(extra)
    return result


os.makedirs(OUT, exist_ok=True)
q = Queue(queue_name, connection=conn)
qj = Queue(queue_name + "-json", connection=conn, serializer=JSONSerializer)

seed = q.enqueue("app.workers.async_resume_processor.process_resume_async",
                 "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "7f3e9a2c-1b4d-4e6f-9a8b-2c3d4e5f6a7b",
                 meta={"source": "api", "attempt": 1})
dump("queued_seed_call", seed, expected=expected_for(seed))

variety = q.enqueue("rqcompat.jobs.echo", "résumé 🚀", 0, 255, 256, 65535, -1, 2**31, 2**63, 2**100, 0.1, -0.0,
                    float("inf"), True, None, b"\x00\xff", [1, [2]], (3,), {"k": {"n": 1}}, {1, 2},
                    [{"a": 1}, {"a": 2}], long="y" * 300, empty="", retry=None)
dump("queued_variety", variety, expected=expected_for(variety))

options = q.enqueue("rqcompat.jobs.add", 1, 2, job_timeout=45, result_ttl=600, failure_ttl=700, ttl=300,
                    description="custom", retry=Retry(max=3, interval=[10, 30]), at_front=True)
dump("queued_options", options, expected=expected_for(options, result_ttl=600, failure_ttl=700, ttl=300,
                                                      retries_left=3, retry_intervals=[10, 30]))

json_job = qj.enqueue("rqcompat.jobs.echo", "a", 1, 2.5, [True, None], k={"x": "y"}, meta={"m": 1})
dump("queued_json", json_job, serializer="json", expected=expected_for(json_job))

ok = q.enqueue("rqcompat.jobs.echo", "done", n=2**70)
failing = q.enqueue("rqcompat.jobs.fail", "boom for the fixture")
none_job = q.enqueue("rqcompat.jobs.return_none")
SimpleWorker([q], connection=conn).work(burst=True)
dump("finished_echo", ok, expected=expected_for(ok, return_value=tagged.to_tagged(ok.return_value()), result_type=1))
dump("failed_valueerror", failing, expected=expected_for(failing, result_type=2, exc_contains="ValueError: boom for the fixture"))
dump("finished_none", none_job, expected=expected_for(none_job, result_type=1, return_value=None))

parent = q.enqueue("rqcompat.jobs.add", 1, 1)
child = q.enqueue("rqcompat.jobs.add", 2, 2, depends_on=parent)
dump("deferred_child", child, expected=expected_for(child, dependency_ids=[parent.id]))

print("fixtures written to", os.path.abspath(OUT))
