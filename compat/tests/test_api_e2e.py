"""End to end through the real executables: every sample résumé uploaded with curl to `api`, processed
by `worker` (native and RQ mode), read back with GET — with a Python `rq worker` (scheduler on)
running beside them on the same Redis and doing nothing wrong."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

from conftest import COMPAT_DIR, REDIS_URL, SWIFT_WORKER

ROOT = os.path.dirname(COMPAT_DIR)
FIXTURES = os.path.join(ROOT, "Fixtures", "resumes")
API_BIN = os.path.join(os.path.dirname(SWIFT_WORKER), "api")
EXPECTED = json.load(open(os.path.join(FIXTURES, "expected.json")))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, timeout=60, message="condition not reached"):
    deadline = time.time() + timeout
    while True:
        try:
            if predicate():
                return
        except OSError:
            pass
        assert time.time() < deadline, message() if callable(message) else message
        time.sleep(0.2)


def get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.mark.parametrize("mode", ["rq", "native"])
def test_every_fixture_through_api_and_worker(mode, connection):
    if "DB_URL" not in os.environ:
        pytest.skip("DB_URL is set by scripts/test.sh")
    data_dir = tempfile.mkdtemp(prefix="e2e-files-")
    logs = tempfile.mkdtemp(prefix="e2e-logs-")
    env = dict(os.environ, REDIS_URL=REDIS_URL, DATA_DIR=data_dir, QUEUE_MODE=mode)
    port = free_port()
    api_log = open(os.path.join(logs, "api.log"), "w")
    worker_log = open(os.path.join(logs, "worker.log"), "w")
    python_log = open(os.path.join(logs, "python.log"), "w")
    flag = ["--rq"] if mode == "rq" else []
    processes = []
    try:
        processes.append(subprocess.Popen([API_BIN, "run", "--port", str(port), *flag], env=env, stdout=api_log, stderr=subprocess.STDOUT))
        processes.append(subprocess.Popen([SWIFT_WORKER, "run", *flag, "--concurrency", "4"], env=env, stdout=worker_log,
                                          stderr=subprocess.STDOUT))
        # A Python worker with the scheduler on, on its own queue of the same Redis: its maintenance
        # and scheduler run beside ours.
        python_env = dict(os.environ, PYTHONPATH=COMPAT_DIR)
        python_queue = "python-side-" + str(port)
        processes.append(subprocess.Popen(
            ["rq", "worker", "--with-scheduler", "--url", REDIS_URL, python_queue], env=python_env, stdout=python_log,
            stderr=subprocess.STDOUT))
        api = f"http://127.0.0.1:{port}"
        wait_for(lambda: get(api + "/ready")["status"] == "ready", message=lambda: open(api_log.name).read()[-2000:])

        request = urllib.request.Request(api + "/job-posts", data=json.dumps({
            "title": "Senior Backend Software Engineer", "description": EXPECTED["jobPost"], "seniority_level": "SENIOR"}).encode(),
            headers={"Content-Type": "application/json"})
        job_post = json.load(urllib.request.urlopen(request))["id"]

        accepted = {}
        for name, spec in sorted(EXPECTED["files"].items()):
            # The seed's curl command, as written in its guide.
            out = subprocess.run(
                ["curl", "-s", "-w", "\n%{http_code}", "-X", "POST", f"{api}/resumes/upload",
                 "-F", f"file=@{os.path.join(FIXTURES, name)}", "-F", f"candidate_name={spec.get('candidate', name)}",
                 "-F", "candidate_email=e2e@example.com", "-F", f"job_post_id={job_post}", "-F", "seniority_level=senior"],
                capture_output=True, text=True, timeout=30).stdout
            body, status = out.rsplit("\n", 1)
            if name == "empty.txt":
                assert status == "422", body
                continue
            assert status == "202", (name, body)
            accepted[json.loads(body)["application_id"]] = (name, spec)

        def rows():
            return {i: get(f"{api}/resumes/{i}") for i in accepted}

        wait_for(lambda: all(r["status"] in ("COMPLETED", "FAILED") for r in rows().values()), timeout=120,
                 message=lambda: f"{[r['status'] for r in rows().values()]}\n{open(worker_log.name).read()[-3000:]}")
        for application_id, row in rows().items():
            name, spec = accepted[application_id]
            if spec["outcome"] == "text":
                assert row["status"] == "COMPLETED", (name, row)
                assert row["match_score"] is not None and 0 < row["match_score"] <= 1
                assert row["text_length"] > 0
            else:
                assert row["status"] == "FAILED", (name, row)
                assert spec["outcome"] in row["error_message"], (name, row["error_message"])
            # The queue-level view agrees.
            job = get(f"{api}/jobs/{row['job_id']}")
            assert job["status"] == ("finished" if spec["outcome"] == "text" else "failed"), (name, job)
        ranked = get(f"{api}/job-posts/{job_post}/candidates?limit=50")["items"]
        assert len(ranked) == sum(spec["outcome"] == "text" for _, spec in accepted.values())
        assert ranked[0]["match_score"] >= ranked[-1]["match_score"]

        # The Python worker is alive and saw nothing it could not handle.
        assert processes[2].poll() is None
        python_text = open(python_log.name).read()
        assert "Traceback" not in python_text and "Error" not in python_text, python_text[-2000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
    # Graceful exits all round.
    assert [process.returncode for process in processes[:2]] == [0, 0], open(worker_log.name).read()[-2000:]
