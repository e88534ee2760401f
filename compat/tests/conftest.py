"""Fixtures for the interop suite: a Redis connection on the test server, a fresh queue per test,
and a runner for the Swift `worker` executable."""
import json
import os
import subprocess
import uuid

import pytest
import redis
import rq

REDIS_URL = os.environ["TEST_REDIS_URL"]
SWIFT_WORKER = os.environ["SWIFT_WORKER_BIN"]
COMPAT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rq_major():
    return int(rq.__version__.split(".")[0])


@pytest.fixture
def connection():
    conn = redis.Redis.from_url(REDIS_URL)
    yield conn
    conn.close()


@pytest.fixture
def queue_name():
    return "compat-" + uuid.uuid4().hex[:12]


class Swift:
    """Runs the Swift `worker` executable against the test Redis."""

    def run(self, *args, check=True):
        completed = subprocess.run(
            [SWIFT_WORKER, *args, "--url", REDIS_URL],
            capture_output=True, text=True, timeout=120,
        )
        if check and completed.returncode != 0:
            raise AssertionError(f"worker {' '.join(args)} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
        return completed

    def job(self, job_id, serializer="pickle"):
        return json.loads(self.run("rq", "job", job_id, "--serializer", serializer).stdout)

    def enqueue(self, queue, function, args="[]", kwargs="{}", *extra, serializer="pickle"):
        out = self.run("rq", "enqueue", "--queue", queue, "--function", function, "--args", args,
                       "--kwargs", kwargs, "--serializer", serializer, *extra).stdout
        return out.strip()


@pytest.fixture
def swift():
    return Swift()


def python_rq(*args):
    """Runs the `rq` command line of this virtualenv."""
    env = dict(os.environ, PYTHONPATH=COMPAT_DIR)
    return subprocess.run(["rq", *args, "--url", REDIS_URL], capture_output=True, text=True, timeout=120, env=env)
