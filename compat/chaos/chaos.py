#!/usr/bin/env python3
"""The chaos suite: faults injected into a running API + worker fleet on a private Redis (AOF,
appendfsync everysec) and PostgreSQL, each scenario ending in one figures line and failing when an
accepted job is lost. Run by scripts/chaos.sh (which builds, installs and starts the servers); the
short version runs in scripts/test.sh.

Scenarios (see README, "Chaos suite"):
  1  RQ mode: résumés through the API, 3 Swift workers at concurrency 20, one kill -9'd and restarted 5 times
  2  the same in native mode
  3  Redis kill -9'd mid-run and restarted from its AOF
  4  PostgreSQL stopped mid-run, then started again
  5  every normal Redis connection killed (CLIENT KILL TYPE normal) in a loop
  6  a Python RQ 2.12 worker and a Swift worker on one queue; the Python one killed
  7  fuzzing for a fixed time budget (bench fuzz)
  8  Sentinel failover (SENTINEL FAILOVER) during 2 000 uploads, API and workers on a Sentinel URL
The Python RQ comparison (--compare) runs scenarios 1, 5 and 6 with Python `rq worker`s on
Python-enqueued jobs, measured the same way, beside the same runs with Swift workers.
"""
import argparse
import http.client
import json
import os
import random
import re
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid

import redis
import redis.sentinel
from redis.backoff import ConstantBackoff
from redis.retry import Retry as RedisRetry
from rq import Queue, Retry

from rqcompat.processes import children_of

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPAT = os.path.join(ROOT, "compat")
RESUME = open(os.path.join(ROOT, "Fixtures", "resumes", "zoe_mueller.txt"), "rb").read()
JOB_POST = json.load(open(os.path.join(ROOT, "Fixtures", "resumes", "expected.json")))["jobPost"]
RQ_QUEUE = "resume_processing"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Failure(Exception):
    """A scenario's own assertion failed (something lost, stuck or not recovered in time)."""


# --------------------------------------------------------------------------------------------
# Servers and processes


class Servers:
    """The private Redis and PostgreSQL that scripts/chaos.sh started with scripts/services.sh."""

    def __init__(self, directory):
        self.directory = directory
        self.redis_url = os.environ["REDIS_URL"]
        self.db_url = os.environ["DB_URL"]
        self.redis = redis.Redis.from_url(self.redis_url, socket_timeout=10, retry_on_timeout=True)

    def services(self, *args):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "services.sh"), *args, "--dir", self.directory],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def kill_redis(self):
        pid = int(open(os.path.join(self.directory, "redis.pid")).read())
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not alive(pid), 10, "redis did not die")

    def start_redis(self):
        self.services("start")  # reuses PostgreSQL, starts Redis again on the same port and AOF

    def stop_postgres(self):
        data = open(os.path.join(self.directory, "pg.datadir")).read().strip()
        bin_dir = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]
        command = [f"/usr/lib/postgresql/{bin_dir}/bin/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    def start_postgres(self):
        self.services("start")

    def sql(self, query):
        """Runs one read-only query with psql; rows as lists of strings."""
        out = subprocess.run(["psql", self.db_url, "-X", "-At", "-F", "\t", "-c", query], check=True, capture_output=True,
                             text=True, timeout=60).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def reset(self):
        self.redis.flushall()


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def wait_until(predicate, timeout, message):
    deadline = time.time() + timeout
    while True:
        try:
            if predicate():
                return
        except (OSError, redis.RedisError, subprocess.CalledProcessError):
            pass
        if time.time() > deadline:
            raise Failure(message() if callable(message) else message)
        time.sleep(0.1)


class Process:
    """A child we started (never anything else): its own process group, output in a log file."""

    def __init__(self, name, argv, logs, env=None):
        self.name = name
        self.log_path = os.path.join(logs, f"{name}.log")
        self.popen = subprocess.Popen(argv, stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True)

    def kill9(self):
        """SIGKILL to the process, its group and its children (a Python worker's work horse calls
        setsid, so it has a session of its own), like a container being killed."""
        victims = [self.popen.pid] + children_of(self.popen.pid)
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait()

    def stop(self, timeout=40):
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()

    def tail(self, characters=3000):
        try:
            return open(self.log_path, errors="replace").read()[-characters:]
        except OSError:
            return ""


class Fleet:
    """API and workers of one scenario; stops whatever it started."""

    def __init__(self, args, servers, logs):
        self.args = args
        self.servers = servers
        self.logs = logs
        os.makedirs(logs, exist_ok=True)
        self.processes = []
        self.data_dir = os.path.join(logs, "files")
        self.env = dict(os.environ, REDIS_URL=servers.redis_url, DB_URL=servers.db_url, DATA_DIR=self.data_dir,
                        LOG_LEVEL="warning", PYTHONPATH=COMPAT)
        self.generation = 0

    def start_api(self, mode):
        port = free_port()
        flag = ["--rq"] if mode == "rq" else []
        self.processes.append(Process("api", [self.args.api, "run", "--port", str(port), *flag], self.logs, self.env))
        self.api = f"127.0.0.1:{port}"
        wait_until(lambda: http_get(self.api, "/ready")[0] == 200, 60, lambda: "API not ready:\n" + self.processes[-1].tail())
        return self.api

    def start_swift_worker(self, mode, index, concurrency, queues=()):
        self.generation += 1
        name = f"chaos-swift-{index}-{self.generation}"
        argv = [self.args.worker, "run", "--name", name, "--concurrency", str(concurrency), "--sweep-after", "5", "--sweep-interval", "2"]
        if mode == "rq":
            argv += ["--rq", "--with-scheduler", "--maintenance-interval", "5", *queues]
        process = Process(name, argv, self.logs, self.env)
        process.worker_name = name
        process.mode = mode
        self.processes.append(process)
        return process

    def start_python_worker(self, index, queue):
        self.generation += 1
        name = f"chaos-python-{index}-{self.generation}"
        argv = [os.path.join(os.path.dirname(sys.executable), "rq"), "worker", "--url", self.servers.redis_url, "--name", name,
                "--with-scheduler", "--maintenance-interval", "5", "--quiet", queue]
        process = Process(name, argv, self.logs, self.env)
        process.worker_name = name
        process.mode = "rq"
        self.processes.append(process)
        return process

    def stop(self):
        for process in reversed(self.processes):
            process.stop()


def free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(address, path):
    connection = http.client.HTTPConnection(address, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def create_job_post(address):
    connection = http.client.HTTPConnection(address, timeout=10)
    body = json.dumps({"title": "Senior Backend Software Engineer", "description": JOB_POST, "seniority_level": "SENIOR"})
    connection.request("POST", "/job-posts", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = json.loads(response.read())
    if response.status != 201:
        raise Failure(f"job post not created: {response.status} {payload}")
    return payload["id"]


# --------------------------------------------------------------------------------------------
# Load


class Uploader:
    """Uploads résumés through POST /resumes/upload from a few keep-alive connections. Every 202 is an
    accepted job (its application id and answer time are kept); 503 answers and refused connections
    (the API or a server it needs is down) are counted, never retried: a client would retry them."""

    def __init__(self, address, job_post, total, connections=6, rate=None):
        self.address = address
        self.job_post = job_post
        self.total = total
        self.rate = rate
        self.accepted = {}
        self.unavailable = 0
        self.refused = 0
        self.other = []
        self.next = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.started_at = time.time()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(connections)]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def join(self, timeout=600):
        for thread in self.threads:
            thread.join(timeout)

    def stop(self):
        self.stopping.set()
        self.join()

    def take(self):
        with self.lock:
            if self.next >= self.total or self.stopping.is_set():
                return None
            self.next += 1
            index = self.next
        if self.rate:
            due = self.started_at + index / self.rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
        return index

    def run(self):
        connection = None
        boundary = "chaos" + uuid.uuid4().hex
        while (index := self.take()) is not None:
            email = f"c{index}.{uuid.uuid4().hex[:8]}@example.com"
            body = b"".join([
                *(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                  for name, value in (("candidate_name", f"Candidate {index}"), ("candidate_email", email),
                                      ("job_post_id", self.job_post), ("seniority_level", "senior"))),
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cv{index}.txt"\r\n'
                f"Content-Type: text/plain\r\n\r\n".encode(), RESUME, f"\r\n--{boundary}--\r\n".encode()])
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(self.address, timeout=30)
                connection.request("POST", "/resumes/upload", body=body,
                                   headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
                response = connection.getresponse()
                payload = response.read()
                answered = time.time()
                if response.status == 202:
                    with self.lock:
                        self.accepted[json.loads(payload)["application_id"]] = answered
                elif response.status == 503:
                    with self.lock:
                        self.unavailable += 1
                else:
                    with self.lock:
                        self.other.append((response.status, payload[:200].decode(errors="replace")))
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.refused += 1
                if connection is not None:
                    connection.close()
                connection = None
                time.sleep(0.05)


def application_counts(servers, job_post):
    rows = servers.sql(f"SELECT status, count(*), count(*) FILTER (WHERE attempts > 1) FROM applications "
                       f"WHERE job_post_id = '{job_post}' GROUP BY status")
    return {status: (int(count), int(twice)) for status, count, twice in rows}


def wait_for_applications(servers, job_post, accepted, timeout):
    """Seconds until every application row of the job post (at least every accepted one) is
    COMPLETED, or FAILED with its queue job finished for good — a FAILED row whose job still waits
    for a retry is not done yet; None at the timeout."""
    started = time.time()
    deadline = started + timeout
    while True:
        rows = servers.sql(f"SELECT id, status FROM applications WHERE job_post_id = '{job_post}'")
        waiting = any(status in ("PENDING", "PROCESSING") for _, status in rows)
        failed = [i for i, status in rows if status == "FAILED"]
        if len(rows) >= len(accepted) and not waiting and all(failed_for_good(servers, i) for i in failed):
            return time.time() - started
        if time.time() > deadline:
            return None
        time.sleep(0.5)


def failed_for_good(servers, application):
    """Whether the application's queue job (RQ or native hash) is failed with no retry to come."""
    for key in (f"rq:job:{application}", f"job:{application}"):
        status = servers.redis.hget(key, "status")
        if status is not None:
            return status == b"failed"
    return False


def resume_figures(servers, job_post, uploader):
    """Figures of one résumé run: every accepted id must be COMPLETED (none lost), no duplicate rows."""
    rows = servers.sql(f"SELECT id, status, attempts, translate(coalesce(error_message, ''), E'\\n\\t\\r', '   '), email, "
                       f"coalesce(extract(epoch FROM processed_at), 0) FROM applications "
                       f"WHERE job_post_id = '{job_post}'")
    by_id = {row[0]: row for row in rows}
    emails = {}
    for row in rows:
        emails[row[4]] = emails.get(row[4], 0) + 1
    accepted = set(uploader.accepted)
    completed = sum(1 for i in accepted if i in by_id and by_id[i][1] == "COMPLETED")
    failed = [by_id[i][3] for i in accepted if i in by_id and by_id[i][1] == "FAILED"]
    lost = [i for i in accepted if i not in by_id or by_id[i][1] not in ("COMPLETED", "FAILED")]
    twice = sum(1 for row in rows if int(row[2]) > 1)
    duplicates = sum(count - 1 for count in emails.values() if count > 1)
    # Rows of uploads that were answered 503 (file and row written, enqueue refused): the sweeper's.
    unanswered = [row for row in rows if row[0] not in accepted]
    swept = sum(1 for row in unanswered if row[1] == "COMPLETED")
    latencies = sorted((float(by_id[i][5]) - t, i) for i, t in uploader.accepted.items() if i in by_id and float(by_id[i][5]) > 0)
    return {
        "slowest_s": [round(latencies[-1][0], 1), latencies[-1][1]] if latencies else None,
        "accepted": len(accepted), "finished": completed, "failed": len(failed),
        "failure_reasons": sorted(set(reason[:80] for reason in failed)), "lost": len(lost), "lost_ids": lost[:5],
        "run_twice": twice, "duplicate_rows": duplicates, "answered_503": uploader.unavailable, "refused": uploader.refused,
        "unanswered_rows_completed": f"{swept}/{len(unanswered)}", "other_answers": uploader.other[:3],
    }


def held_jobs(servers, worker):
    """Job ids a (dead) worker held when it died: its RQ executions set or its native processing list."""
    if worker.mode == "rq":
        # Swift and RQ 3.0 keep every execution in rq:worker:W:executions; RQ 2.12 only current_job.
        members = servers.redis.smembers(f"rq:worker:{worker.worker_name}:executions")
        current = servers.redis.hget(f"rq:worker:{worker.worker_name}", "current_job")
        return {m.decode().rsplit(":", 1)[0] for m in members} | ({current.decode()} if current else set())
    return {m.decode() for m in servers.redis.lrange(f"resume_processing_queue:processing:{worker.worker_name}", 0, -1)}


def print_figures(scenario, figures):
    shown = {k: v for k, v in figures.items() if v not in ([], None, "0/0")}
    print(f"FIGURES scenario {scenario}: " + json.dumps(shown, ensure_ascii=False, default=str), flush=True)
    RESULTS.append((scenario, figures))


RESULTS = []


def check(figures, scenario):
    problems = []
    if figures.get("lost"):
        problems.append(f"{figures['lost']} accepted jobs lost (e.g. {figures.get('lost_ids')})")
    if figures.get("duplicate_rows"):
        problems.append(f"{figures['duplicate_rows']} duplicate rows")
    if figures.get("stuck"):
        problems.append(f"stuck: {figures['stuck']}")
    if figures.get("failed") and not figures.get("failures_expected"):
        problems.append(f"{figures['failed']} jobs failed: {figures.get('failure_reasons')}")
    for problem in figures.get("problems", []):
        problems.append(problem)
    if problems:
        raise Failure(f"scenario {scenario}: " + "; ".join(problems))


def stuck_rq_state(servers, queue=RQ_QUEUE):
    """What an RQ queue still holds once everything should be done."""
    stuck = {}
    for key in (f"rq:queue:{queue}", f"rq:queue:{queue}:intermediate"):
        if servers.redis.llen(key):
            stuck[key] = servers.redis.llen(key)
    if servers.redis.zcard(f"rq:wip:{queue}"):
        stuck[f"rq:wip:{queue}"] = servers.redis.zcard(f"rq:wip:{queue}")
    started = 0
    for key in servers.redis.scan_iter("rq:job:*", count=1000):
        if key.count(b":") == 2 and servers.redis.hget(key, "status") == b"started":
            started += 1
    if started:
        stuck["jobs with status started"] = started
    return stuck


# --------------------------------------------------------------------------------------------
# Scenarios 1 and 2: kill -9 of workers


def kill_loop(fleet, servers, workers, kills, interval, respawn):
    """Every `interval` seconds kills a worker that has jobs in hand (waiting up to 10 s for one; a
    kill of an idle worker proves little) and starts a fresh one in its place; returns one record
    per kill: (kill time, job ids the dead worker held)."""
    records = []
    for _ in range(kills):
        time.sleep(interval)
        deadline = time.time() + 10
        busy = []
        while not busy and time.time() < deadline:
            busy = [w for w in workers if held_jobs(servers, w)]
            if not busy:
                time.sleep(0.05)
        if not busy:
            log("no worker has a job in hand any more; no further kills")
            break
        victim = random.choice(busy)
        victim.kill9()
        held = held_jobs(servers, victim)
        records.append((time.time(), held))
        log(f"kill -9 {victim.worker_name}: it held {len(held)} jobs")
        workers[workers.index(victim)] = respawn(victim)
    return records


def recovery_times(records, finished_at):
    """Per kill: seconds from the kill until every job the dead worker held had finished."""
    times = []
    for killed_at, held in records:
        ends = [finished_at(job) for job in held]
        if held and all(end is not None for end in ends):
            times.append(max(ends) - killed_at)
        elif held:
            times.append(float("inf"))
    return times


def summarize_recovery(times):
    if not times:
        return "n/a (no job in hand at the kills)"
    finite = [t for t in times if t != float("inf")]
    if len(finite) < len(times):
        return "never (held jobs not finished)"
    return f"median {statistics.median(finite):.1f} s, max {max(finite):.1f} s"


def processed_at_lookup(servers, job_post):
    rows = servers.sql(f"SELECT id, extract(epoch FROM processed_at) FROM applications WHERE job_post_id = '{job_post}' "
                       f"AND processed_at IS NOT NULL")
    table = {row[0]: float(row[1]) for row in rows}
    return table.get


def scenario_kill_resumes(args, servers, logs, mode):
    number = 1 if mode == "rq" else 2
    servers.reset()
    fleet = Fleet(args, servers, logs)
    try:
        api = fleet.start_api(mode)
        job_post = create_job_post(api)
        started = time.time()
        uploader = Uploader(api, job_post, args.jobs).start()
        # A backlog first, so that the kills find workers with jobs in hand.
        wait_until(lambda: len(uploader.accepted) >= args.jobs // 4 or not any(t.is_alive() for t in uploader.threads), 120,
                   "uploads stalled")
        workers = [fleet.start_swift_worker(mode, i, 20) for i in range(3)]
        records = kill_loop(fleet, servers, workers, args.kills, args.kill_interval,
                            lambda victim: fleet.start_swift_worker(mode, victim.worker_name.split("-")[2], 20))
        uploader.join()
        log(f"scenario {number}: {len(uploader.accepted)} accepted in {time.time() - started:.1f} s; waiting for the fleet")
        drained = wait_for_applications(servers, job_post, uploader.accepted, args.timeout)
        figures = resume_figures(servers, job_post, uploader)
        figures["recovery_after_kill"] = summarize_recovery(recovery_times(records, processed_at_lookup(servers, job_post)))
        figures["kills"] = len(records)
        figures["elapsed_s"] = round(time.time() - started, 1)
        if drained is None:
            figures.setdefault("problems", []).append(f"not drained within {args.timeout} s")
        if mode == "rq":
            figures["stuck"] = stuck_rq_state(servers)
        print_figures(f"{number} ({mode}, Swift, résumés via API, kill -9 x{len(records)})", figures)
        check(figures, number)
    finally:
        fleet.stop()


# --------------------------------------------------------------------------------------------
# RQ job runs shared by the Python comparison: Python-enqueued sleep jobs with Retry


def enqueue_sleep_jobs(servers, queue, count, seconds, retry=True):
    q = Queue(queue, connection=servers.redis)
    ids = []
    for start in range(0, count, 500):
        batch = [Queue.prepare_data("resume_processor.jobs.sleep", args=(seconds,), job_id=f"chaos-{uuid.uuid4().hex}",
                                    retry=Retry(max=3) if retry else None, result_ttl=3600, failure_ttl=3600, timeout=5)
                 for _ in range(start, min(count, start + 500))]
        ids += [job.id for job in q.enqueue_many(batch)]
    return ids


def rq_job_figures(servers, queue, ids):
    pipe = servers.redis.pipeline(transaction=False)
    for job_id in ids:
        pipe.hmget(f"rq:job:{job_id}", "status", "retries_left", "exc_info")
        pipe.xlen(f"rq:results:{job_id}")
    replies = pipe.execute()
    finished, failed, lost, twice, done_twice = 0, 0, [], 0, 0
    for index, job_id in enumerate(ids):
        (status, retries_left, _), results = replies[2 * index], replies[2 * index + 1]
        status = status.decode() if status else None
        if status == "finished":
            finished += 1
        elif status == "failed":
            failed += 1
        else:
            lost.append(f"{job_id}:{status}")
        if (retries_left is not None and int(retries_left) < 3) or results > 1:
            twice += 1
        if results > 1:
            done_twice += 1
    return {"accepted": len(ids), "finished": finished, "failed": failed, "lost": len(lost), "lost_ids": lost[:5],
            "run_twice": twice, "completed_twice": done_twice}


def rq_finished_at(servers):
    def lookup(job_id):
        ended = servers.redis.hget(f"rq:job:{job_id}", "ended_at")
        status = servers.redis.hget(f"rq:job:{job_id}", "status")
        if not ended or status not in (b"finished", b"failed"):
            return None
        from datetime import datetime, timezone
        text = ended.decode().rstrip("Z")
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()
    return lookup


def wait_rq_jobs(servers, ids, timeout, workers=None):
    """Seconds until every job finished or failed; None at the timeout, or as soon as none of
    `workers` is alive (nobody left to run them)."""
    started = time.time()
    while time.time() - started < timeout:
        if workers and all(w.popen.poll() is not None for w in workers):
            return None
        pipe = servers.redis.pipeline(transaction=False)
        for job_id in ids:
            pipe.hget(f"rq:job:{job_id}", "status")
        if all(s in (b"finished", b"failed") for s in pipe.execute()):
            return time.time() - started
        time.sleep(0.5)
    return None


def start_compare_run(args, servers, fleet, queue, implementation):
    """The side-by-side workload: Python-enqueued 50 ms jobs with Retry(3) and three workers of one
    implementation, each running one job at a time as `rq worker` does; returns (job ids, the
    worker starter, the workers)."""
    ids = enqueue_sleep_jobs(servers, queue, args.compare_jobs, 0.05)
    start = {"swift": lambda i: fleet.start_swift_worker("rq", i, 1, [queue]),
             "python": lambda i: fleet.start_python_worker(i, queue)}[implementation]
    return ids, start, [start(i) for i in range(3)]


def scenario_kill_rq_jobs(args, servers, logs, implementation):
    """Scenario 1 measured on plain RQ jobs, for the side-by-side with Python RQ."""
    servers.reset()
    queue = "chaos_compare"
    fleet = Fleet(args, servers, logs)
    try:
        ids, start, workers = start_compare_run(args, servers, fleet, queue, implementation)
        started = time.time()
        records = kill_loop(fleet, servers, workers, args.kills, args.kill_interval,
                            lambda victim: start(victim.worker_name.split("-")[2]))
        drained = wait_rq_jobs(servers, ids, args.timeout)
        figures = rq_job_figures(servers, queue, ids)
        figures["recovery_after_kill"] = summarize_recovery(recovery_times(records, rq_finished_at(servers)))
        figures["kills"] = len(records)
        figures["elapsed_s"] = round(time.time() - started, 1)
        figures["stuck"] = stuck_rq_state(servers, queue)
        if drained is None:
            figures.setdefault("problems", []).append(f"not drained within {args.timeout} s")
        label = "3 Swift workers, one job at a time" if implementation == "swift" else "3 Python rq workers (forking)"
        print_figures(f"1-compare ({label}, {len(ids)} Python-enqueued jobs, kill -9 x{len(records)})", figures)
        return figures
    finally:
        fleet.stop()


# --------------------------------------------------------------------------------------------
# Scenario 3: Redis restart; scenario 4: PostgreSQL stop


def start_paced_run(args, fleet, workers, seconds, backlog=0):
    """The API (RQ mode), a job post, `backlog` uploads queued before any worker runs, then
    `workers` Swift workers at concurrency 20 and `args.outage_jobs` uploads paced over `seconds`;
    returns (api, job post, uploader)."""
    api = fleet.start_api("rq")
    job_post = create_job_post(api)
    uploader = Uploader(api, job_post, args.outage_jobs, connections=4, rate=args.outage_jobs / seconds)
    if backlog:
        queued = Uploader(api, job_post, backlog, connections=6).start()
        queued.join()
        uploader.accepted.update(queued.accepted)
    for i in range(workers):
        fleet.start_swift_worker("rq", i, 20)
    uploader.started_at = time.time()
    return api, job_post, uploader.start()


def scenario_redis_restart(args, servers, logs):
    servers.reset()
    fleet = Fleet(args, servers, logs)
    try:
        api, job_post, uploader = start_paced_run(args, fleet, 2, args.outage_window)
        time.sleep(args.outage_window / 3)
        accepted_before = len(uploader.accepted)
        servers.kill_redis()
        down_at = time.time()
        log(f"scenario 3: redis kill -9 after {accepted_before} accepted uploads")
        time.sleep(args.redis_down)
        servers.start_redis()
        up_at = time.time()
        log(f"scenario 3: redis back after {up_at - down_at:.1f} s")
        uploader.join()
        drained = wait_for_applications(servers, job_post, uploader.accepted, args.timeout)
        figures = resume_figures(servers, job_post, uploader)
        first_accept = min((t for t in uploader.accepted.values() if t > up_at), default=None)
        after = [i for i, t in uploader.accepted.items() if t > up_at]
        done = processed_at_lookup(servers, job_post)
        first_done = min((done(i) for i in after if done(i)), default=None)
        figures["api_reconnect_s"] = round(first_accept - up_at, 2) if first_accept else None
        figures["worker_reconnect_s"] = round(first_done - up_at, 2) if first_done else None
        figures["redis_down_s"] = round(up_at - down_at, 1)
        figures["stuck"] = stuck_rq_state(servers)
        if drained is None:
            figures.setdefault("problems", []).append(f"not drained within {args.timeout} s")
        for name in ("api_reconnect_s", "worker_reconnect_s"):
            if figures[name] is None or figures[name] > 2.0:
                figures.setdefault("problems", []).append(f"{name} = {figures[name]} (goal: within 2 s)")
        print_figures("3 (rq, Redis kill -9 + restart from AOF everysec)", figures)
        check(figures, 3)
    finally:
        fleet.stop()


def scenario_postgres_stop(args, servers, logs):
    servers.reset()
    fleet = Fleet(args, servers, logs)
    try:
        # A backlog, so that the outage hits jobs being processed, not only new uploads.
        api, job_post, uploader = start_paced_run(args, fleet, 2, args.outage_window + args.postgres_down, backlog=args.outage_jobs // 2)
        wait_until(lambda: servers.redis.zcard(f"rq:wip:{RQ_QUEUE}") > 0, 30, "the workers never started a job")
        servers.stop_postgres()
        down_at = time.time()
        log(f"scenario 4: postgres stopped after {len(uploader.accepted)} accepted uploads")
        ready_503 = 0
        ready_checks = 0
        while time.time() - down_at < args.postgres_down:
            try:
                status, _ = http_get(api, "/ready")
                ready_checks += 1
                ready_503 += status == 503
            except OSError:
                pass
            time.sleep(0.5)
        servers.start_postgres()
        up_at = time.time()
        log(f"scenario 4: postgres back after {up_at - down_at:.1f} s")
        ready_again = None
        wait_until(lambda: http_get(api, "/ready")[0] == 200, 30, "the API's /ready did not recover")
        ready_again = time.time() - up_at
        uploader.join()
        drained = wait_for_applications(servers, job_post, uploader.accepted, args.timeout)
        figures = resume_figures(servers, job_post, uploader)
        figures["postgres_down_s"] = round(up_at - down_at, 1)
        figures["ready_503_while_down"] = f"{ready_503}/{ready_checks}"
        figures["ready_recovered_s"] = round(ready_again, 2)
        figures["all_done_after_restart_s"] = round(time.time() - up_at, 1) if drained is not None else None
        # Jobs that failed during the outage and went through their RQ Retry (10, 30, 60 s).
        pipe = servers.redis.pipeline(transaction=False)
        for application in uploader.accepted:
            pipe.hget(f"rq:job:{application}", "retries_left")
        figures["jobs_retried"] = sum(1 for left in pipe.execute() if left is not None and int(left) < 3)
        figures["stuck"] = stuck_rq_state(servers)
        if uploader.other:
            figures.setdefault("problems", []).append(f"uploads answered other than 202/503 while down: {uploader.other[:3]}")
        if args.postgres_down > 15 and not figures["jobs_retried"]:
            # Longer than the pool's 10 s reconnect budget: jobs in flight must fail and retry.
            figures.setdefault("problems", []).append("no job went through its retry during the outage")
        if ready_checks == 0 or ready_503 != ready_checks:
            figures.setdefault("problems", []).append(f"/ready answered 503 to {ready_503} of {ready_checks} checks while down")
        if drained is None:
            figures.setdefault("problems", []).append(f"not drained within {args.timeout} s")
        print_figures(f"4 (rq, PostgreSQL stopped {args.postgres_down:.0f} s)", figures)
        check(figures, 4)
    finally:
        fleet.stop()


# --------------------------------------------------------------------------------------------
# Scenario 5: CLIENT KILL TYPE normal in a loop


class ClientKiller:
    def __init__(self, servers, period):
        self.connection = redis.Redis.from_url(servers.redis_url)
        self.period = period
        self.stopping = threading.Event()
        self.killed = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stopping.wait(self.period):
            try:
                # Our own connection is of type normal too: it is killed and reconnects next time.
                self.killed += int(self.connection.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))
            except redis.RedisError:
                pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()


def scenario_client_kill(args, servers, logs):
    servers.reset()
    fleet = Fleet(args, servers, logs)
    try:
        started = time.time()
        with ClientKiller(servers, args.kill_period) as killer:
            api, job_post, uploader = start_paced_run(args, fleet, 3, args.outage_window)
            uploader.join()
            time.sleep(max(0.0, args.outage_window - (time.time() - started)))
        stopped = time.time()
        drained = wait_for_applications(servers, job_post, uploader.accepted, args.timeout)
        figures = resume_figures(servers, job_post, uploader)
        figures["connections_killed"] = killer.killed
        figures["drained_after_loop_s"] = round(time.time() - stopped, 1) if drained is not None else None
        figures["stuck"] = stuck_rq_state(servers)
        if drained is None:
            figures.setdefault("problems", []).append(f"not drained within {args.timeout} s")
        print_figures(f"5 (rq, CLIENT KILL TYPE normal every {args.kill_period * 1000:.0f} ms for {args.outage_window:.0f} s)", figures)
        check(figures, 5)
    finally:
        fleet.stop()


def scenario_client_kill_rq_jobs(args, servers, logs, implementation):
    servers.reset()
    queue = "chaos_compare"
    fleet = Fleet(args, servers, logs)
    try:
        ids, start, workers = start_compare_run(args, servers, fleet, queue, implementation)
        with ClientKiller(servers, args.kill_period) as killer:
            time.sleep(args.outage_window)
        stopped = time.time()
        drained = wait_rq_jobs(servers, ids, args.timeout, workers)
        figures = rq_job_figures(servers, queue, ids)
        figures["connections_killed"] = killer.killed
        figures["workers_alive"] = f"{sum(w.popen.poll() is None for w in workers)}/{len(workers)}"
        figures["drained_after_loop_s"] = round(time.time() - stopped, 1) if drained is not None else None
        figures["stuck"] = stuck_rq_state(servers, queue)
        label = "3 Swift workers, one job at a time" if implementation == "swift" else "3 Python rq workers (forking)"
        print_figures(f"5-compare ({label}, {len(ids)} Python-enqueued jobs)", figures)
        return figures
    finally:
        fleet.stop()


# --------------------------------------------------------------------------------------------
# Scenario 6: a Python worker and a Swift worker on one queue; the Python one killed


def scenario_mixed_fleet(args, servers, logs, partner="swift"):
    """Python worker A (killed mid-job) + worker B (Swift, or Python for the comparison) on one queue,
    plus a second Python worker whose maintenance competes with ours for the clean_registries lock."""
    servers.reset()
    queue = "chaos_mixed"
    fleet = Fleet(args, servers, logs)
    try:
        with_retry = enqueue_sleep_jobs(servers, queue, args.mixed_jobs, 0.2, retry=True)
        without_retry = enqueue_sleep_jobs(servers, queue, args.mixed_jobs // 4, 0.2, retry=False)
        victim = fleet.start_python_worker(0, queue)
        if partner == "swift":
            fleet.start_swift_worker("rq", 1, 4, [queue])
        else:
            fleet.start_python_worker(1, queue)
        wait_until(lambda: held_jobs(servers, victim), 30,
                   lambda: "the Python worker never started a job:\n" + victim.tail())
        victim.kill9()
        killed_at = time.time()
        held = held_jobs(servers, victim)
        log(f"scenario 6: kill -9 of Python worker {victim.worker_name}, holding {sorted(held)}")
        # A second Python worker joins later: from now on both implementations run maintenance.
        fleet.start_python_worker(2, queue)
        ids = with_retry + without_retry
        drained = wait_rq_jobs(servers, ids, args.timeout)
        figures = rq_job_figures(servers, queue, ids)
        # The killed worker's job: retried and finished if it had retries, else failed as abandoned.
        held_status = {j: (servers.redis.hget(f"rq:job:{j}", "status") or b"?").decode() for j in held}
        expected = {j: ("finished" if j in with_retry else "failed") for j in held}
        figures["abandoned_jobs"] = held_status
        figures["recovery_after_kill"] = summarize_recovery(recovery_times([(killed_at, held)], rq_finished_at(servers)))
        figures["failures_expected"] = True
        figures["stuck"] = stuck_rq_state(servers, queue)
        figures["dead_worker_pruned"] = not servers.redis.sismember("rq:workers", f"rq:worker:{victim.worker_name}")
        if held_status != expected:
            figures.setdefault("problems", []).append(f"abandoned jobs {held_status}, expected {expected}")
        if figures["failed"] != sum(1 for j in held if j in without_retry):
            figures.setdefault("problems", []).append(f"{figures['failed']} failed jobs; only abandoned jobs without retries may fail")
        if figures["completed_twice"]:
            figures.setdefault("problems", []).append(f"{figures['completed_twice']} jobs completed twice")
        if drained is None:
            figures.setdefault("problems", []).append(f"not drained within {args.timeout} s")
        label = "Swift worker" if partner == "swift" else "Python worker (comparison)"
        print_figures(f"6 (Python RQ worker killed beside a {label}; {len(ids)} jobs)", figures)
        return figures
    finally:
        fleet.stop()


# --------------------------------------------------------------------------------------------
# Scenario 7: fuzzing


def scenario_fuzz(args):
    started = time.time()
    completed = subprocess.run([args.bench, "fuzz", "--seconds", str(args.fuzz_seconds), "--root", ROOT],
                               capture_output=True, text=True)
    lines = completed.stdout.strip().splitlines()
    total = next((int(line.split()[0]) for line in lines if "no crash" in line), 0)
    figures = {"inputs": total, "crashes": 0 if completed.returncode == 0 else 1, "seconds": round(time.time() - started, 1),
               "targets": "pickle, zlib, job hashes, result entries, JSON, multipart bodies, SigV4 inputs"}
    if completed.returncode != 0:
        figures["problems"] = [f"bench fuzz exited {completed.returncode}: {completed.stdout[-1500:]}{completed.stderr[-3000:]}"]
    print("\n".join(lines), flush=True)
    print_figures(f"7 (fuzzing, {args.fuzz_seconds:.0f} s budget)", figures)
    check(figures, 7)


# --------------------------------------------------------------------------------------------
# Scenario 8: Sentinel failover


# Connection names of the suite's own clients of the Sentinel group, left out of OldMasterWatch's count.
OWN_CLIENTS = ("chaos-suite", "chaos-old-master-watch")


class SentinelServers(Servers):
    """scripts/topology.sh's Sentinel group (a master, a replica, three Sentinels monitoring one
    master name; no AOF) in a folder of its own, beside the chaos suite's PostgreSQL: `redis_url`
    is the Sentinel URL the fleet gets, `redis` a redis-py client of whichever server is master."""

    def __init__(self, servers, directory):
        self.directory = servers.directory
        self.db_url = servers.db_url
        self.topology_dir = directory
        self.redis_url = None

    def topology(self, *args):
        completed = subprocess.run(["bash", os.path.join(ROOT, "scripts", "topology.sh"), *args, "--dir", self.topology_dir],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)
        if completed.returncode != 0:
            raise Failure(f"scripts/topology.sh {' '.join(args)} failed: {completed.stderr[-2000:]}")

    def start(self):
        self.topology("start", "--only-sentinel")
        env = {}
        for line in open(os.path.join(self.topology_dir, "env")):
            key, _, value = line.strip().removeprefix("export ").partition("=")
            env[key] = " ".join(shlex.split(value))
        self.redis_url = env["TOPO_SENTINEL_URL"]
        self.master_name = env["TOPO_SENTINEL_MASTER"]
        self.sentinel_ports = [int(port) for port in env["TOPO_SENTINEL_PORTS"].split(",")]
        sentinel = redis.sentinel.Sentinel([("127.0.0.1", port) for port in self.sentinel_ports], socket_timeout=5)
        # Connections move to the new master after a connection error or READONLY (redis-py
        # disconnects and asks the Sentinels again); a few retries cover the switch itself.
        self.redis = sentinel.master_for(self.master_name, socket_timeout=10, retry_on_timeout=True, client_name=OWN_CLIENTS[0],
                                         retry=RedisRetry(ConstantBackoff(0.5), 20), retry_on_error=[redis.ConnectionError])
        self.admin = redis.Redis(host="127.0.0.1", port=self.sentinel_ports[0], socket_timeout=5, decode_responses=True)

    def stop(self):
        try:
            self.topology("stop")
        except (Failure, subprocess.TimeoutExpired) as error:
            log(f"stopping the topology in {self.topology_dir} failed: {error}")

    def master_port(self):
        _, port = self.admin.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.master_name)
        return int(port)

    def replica_in_sync(self):
        """Whether the Sentinel we ask sees a replica that is healthy with its link to the master up."""
        for entry in self.admin.execute_command("SENTINEL", "REPLICAS", self.master_name):
            fields = entry if isinstance(entry, dict) else dict(zip(entry[::2], entry[1::2]))  # redis-py 8 parses it
            if fields.get("flags") == "slave" and fields.get("master-link-status") == "ok":
                return True
        return False

    def fail_over(self, timeout=60):
        """SENTINEL FAILOVER once a replica is in sync (sent again after an error reply, e.g. INPROG
        or NOGOODSLAVE); returns (time of the accepted FAILOVER, time the Sentinels named the new
        master, old master port, new master port)."""
        old = self.master_port()
        deadline = time.time() + timeout
        while True:
            if self.replica_in_sync():
                sent = time.time()
                try:
                    self.admin.execute_command("SENTINEL", "FAILOVER", self.master_name)
                    break
                except redis.ResponseError as error:
                    log(f"scenario 8: SENTINEL FAILOVER answered {error}; again")
            if time.time() > deadline:
                raise Failure(f"the Sentinel group never became able to fail over within {timeout} s")
            time.sleep(0.2)
        wait_until(lambda: self.master_port() != old, timeout, "the Sentinels still name the old master")
        return sent, time.time(), old, self.master_port()


class OldMasterWatch:
    """Polls the old master's CLIENT LIST (normal clients but the Sentinels' and its own) from just
    before the failover: when a fleet connection last ran a command there (idle 0, so to within
    a second), when one was last blocked there (a pop that would wait out its timeout on the
    old master), and which are still connected at the end (counted by name and last command)."""

    def __init__(self, port, limit):
        self.client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, decode_responses=True,
                                  client_name=OWN_CLIENTS[1])
        self.limit = limit
        self.last_command = None
        self.last_blocked = None
        self.left = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        started = time.time()
        while not self.stopping.wait(0.1) and time.time() - started < self.limit:
            try:
                clients = self.client.client_list(_type="normal")
            except redis.RedisError:
                continue
            fleet = [c for c in clients if not c.get("name", "").startswith("sentinel-") and c.get("name") not in OWN_CLIENTS]
            now = time.time()
            if any(c.get("idle") == "0" and "b" not in c.get("flags", "") for c in fleet):
                self.last_command = now
            if any("b" in c.get("flags", "") for c in fleet):
                self.last_blocked = now
            left = {}
            for c in fleet:
                key = f"{c.get('name') or 'unnamed'}, last {c.get('cmd')}"
                left[key] = left.get(key, 0) + 1
            self.left = left

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()


def sweeper_requeued(logs):
    """Applications the workers' PENDING sweepers enqueued again, from their log lines."""
    total = 0
    for name in os.listdir(logs):
        if name.startswith("chaos-swift-") and name.endswith(".log"):
            for line in open(os.path.join(logs, name), errors="replace"):
                if "re-enqueued applications left PENDING" in line:
                    found = re.search(r"applications[=:] *\"?(\d+)", line)
                    total += int(found.group(1)) if found else 1
    return total


def rq_state_after_failover(servers, queue=RQ_QUEUE):
    """What stuck_rq_state counts, split in two: (stale, stuck, the stale job ids). Stale are the
    new master's copies of jobs a worker on the old master started before the promotion and
    finished after it (the intermediate list, rq:wip and status started as replicated, the
    application COMPLETED): RQ maintenance retries them (an id in the intermediate list at once,
    a wip entry once it expires, 90 s after the start), and the second run finds the row
    COMPLETED and does nothing. Stuck is everything else still queued or started."""
    r = servers.redis
    held = {
        f"rq:queue:{queue}:intermediate": {m.decode() for m in r.lrange(f"rq:queue:{queue}:intermediate", 0, -1)},
        f"rq:wip:{queue}": {m.decode().split(":", 1)[0] for m in r.zrange(f"rq:wip:{queue}", 0, -1)},
        "jobs with status started": {key.decode().split(":", 2)[2] for key in r.scan_iter("rq:job:*", count=1000)
                                     if key.count(b":") == 2 and r.hget(key, "status") == b"started"},
    }
    ids = sorted(set().union(*held.values()))
    uuids = [i for i in ids if re.fullmatch(r"[0-9a-f-]{36}", i)]
    completed = {row[0] for row in servers.sql("SELECT id FROM applications WHERE status = 'COMPLETED' AND id IN ("
                                               + ",".join(f"'{i}'" for i in uuids) + ")")} if uuids else set()
    stale = {key: len(members & completed) for key, members in held.items() if members & completed}
    stuck = {key: len(members - completed) for key, members in held.items() if members - completed}
    if r.llen(f"rq:queue:{queue}"):
        stuck[f"rq:queue:{queue}"] = r.llen(f"rq:queue:{queue}")
    return stale, stuck, set(ids) & completed


def scenario_sentinel_failover(args, servers, logs):
    """API and two Swift workers (RQ mode) on the Sentinel URL of a fresh topology (PostgreSQL is
    the suite's); SENTINEL FAILOVER once half of `args.outage_jobs` uploads, paced over
    `args.failover_window`, are accepted. Writes the old master acknowledged after the replica was
    promoted are lost with it (asynchronous replication): a job enqueued there and not processed
    before the switch leaves its row PENDING, and the workers' sweepers enqueue it again on the new
    master, so nothing accepted may be lost. Jobs started before the promotion and finished after
    it stay started on the new master (stale, see rq_state_after_failover): reported by the short
    version, waited for (maintenance retries them) by the long one. Recovery: from the FAILOVER
    until the first upload answered 202 after the Sentinels named the new master, and until the
    first of those uploads is processed."""
    topology = SentinelServers(servers, os.path.join(servers.directory, "topology-8"))
    fleet = None
    try:
        topology.start()
        fleet = Fleet(args, topology, logs)
        fleet.env["LOG_LEVEL"] = "info"  # the fleet's "redis master switched" lines, for the record
        started = time.time()
        api, job_post, uploader = start_paced_run(args, fleet, 2, args.failover_window)
        wait_until(lambda: len(uploader.accepted) >= args.outage_jobs // 2 or not any(t.is_alive() for t in uploader.threads),
                   args.failover_window * 3, "uploads stalled before the failover")
        accepted_before = len(uploader.accepted)
        with OldMasterWatch(topology.master_port(), args.failover_window + 30) as watch:
            failover_at, switched_at, old_port, new_port = topology.fail_over()
            log(f"scenario 8: SENTINEL FAILOVER after {accepted_before} accepted uploads; master {old_port} -> {new_port} "
                f"in {switched_at - failover_at:.1f} s")
            uploader.join()
            log(f"scenario 8: {len(uploader.accepted)} accepted in {time.time() - started:.1f} s; waiting for the fleet")
            drained = wait_for_applications(topology, job_post, uploader.accepted, args.timeout)
        stale, _, stale_ids = rq_state_after_failover(topology)
        settled = None
        if stale and args.failover_settle and drained is not None:
            # The long version waits for RQ maintenance to retry the stale copies and the retries
            # (10 s later, through rq:scheduled) to finish.
            log(f"scenario 8: stale job state on the new master {stale}; waiting up to {args.failover_settle:.0f} s for maintenance")
            waited = time.time()

            def settled_now():
                statuses = [topology.redis.hget(f"rq:job:{i}", "status") for i in stale_ids]
                return all(status in (b"finished", b"failed") for status in statuses) and not stuck_rq_state(topology)

            while not (done_now := settled_now()) and time.time() - waited < args.failover_settle:
                time.sleep(1)
            settled = round(time.time() - waited, 1) if done_now else None
            drained = wait_for_applications(topology, job_post, uploader.accepted, args.timeout)
        left_stale, stuck, _ = rq_state_after_failover(topology)
        figures = resume_figures(topology, job_post, uploader)
        after = [i for i, t in uploader.accepted.items() if t > switched_at]
        first_accept = min((uploader.accepted[i] for i in after), default=None)
        done = processed_at_lookup(topology, job_post)
        first_done = min((done(i) for i in after if done(i)), default=None)
        answers = sorted(t for t in uploader.accepted.values() if t > failover_at - 1)
        figures["failover_s"] = round(switched_at - failover_at, 2)
        figures["api_recovery_s"] = round(first_accept - failover_at, 2) if first_accept else None
        figures["worker_recovery_s"] = round(first_done - failover_at, 2) if first_done else None
        figures["recovery_s"] = (max(figures["api_recovery_s"], figures["worker_recovery_s"])
                                 if first_accept and first_done else None)
        figures["longest_202_gap_s"] = round(max((b - a for a, b in zip(answers, answers[1:])), default=0), 2)
        figures["old_master_last_command_s"] = round(watch.last_command - failover_at, 1) if watch.last_command else None
        figures["old_master_last_blocked_s"] = round(watch.last_blocked - failover_at, 1) if watch.last_blocked else None
        figures["old_master_clients_left"] = watch.left
        # Accepted uploads whose job the new master never got (enqueued on the old master after the
        # promotion) and that were processed there before the switch (a sweeper's re-enqueue writes a new one).
        pipe = topology.redis.pipeline(transaction=False)
        for application in uploader.accepted:
            pipe.exists(f"rq:job:{application}")
        figures["jobs_missing_on_new_master"] = sum(1 for present in pipe.execute() if not present)
        figures["sweeper_requeued"] = sweeper_requeued(logs)
        figures["switch_logged"] = sum(open(p.log_path, errors="replace").read().count("redis master switched by Sentinel")
                                       for p in fleet.processes)
        figures["elapsed_s"] = round(time.time() - started, 1)
        figures["stale_after_failover"] = stale or None
        figures["stale_cleared_s"] = settled
        if settled is not None:
            statuses = [topology.redis.hget(f"rq:job:{i}", "status") for i in stale_ids]
            figures["stale_jobs_after_retry"] = {status.decode() if status else "missing": statuses.count(status)
                                                 for status in set(statuses)}
        figures["stuck"] = stuck
        if uploader.other:
            figures.setdefault("problems", []).append(f"uploads answered other than 202/503: {uploader.other[:3]}")
        if stale and args.failover_settle and (left_stale or settled is None):
            figures.setdefault("problems", []).append(f"stale job state not cleared by maintenance within "
                                                      f"{args.failover_settle:.0f} s: {left_stale or stale}")
        for name in ("api_recovery_s", "worker_recovery_s"):
            if figures[name] is None:
                figures.setdefault("problems", []).append(f"{name}: nothing accepted after the switch was " +
                                                          ("accepted" if name == "api_recovery_s" else "processed"))
        if drained is None:
            figures.setdefault("problems", []).append(f"not drained within {args.timeout} s")
        print_figures(f"8 (rq, Sentinel failover during {args.outage_jobs} uploads)", figures)
        check(figures, 8)
    finally:
        if fleet is not None:
            fleet.stop()
        topology.stop()


# --------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", required=True, help="folder with the api, worker and bench executables")
    parser.add_argument("--services-dir", required=True, help="scripts/services.sh folder of the private servers")
    parser.add_argument("--logs", required=True)
    parser.add_argument("--short", action="store_true", help="the CI version: fewer jobs and shorter outages")
    parser.add_argument("--compare", action="store_true", help="also run scenarios 1, 5 and 6 with Python RQ workers")
    parser.add_argument("scenarios", nargs="*", type=int, default=[1, 2, 3, 4, 5, 6, 7, 8])
    args = parser.parse_args()
    args.api = os.path.join(args.bin_dir, "api")
    args.worker = os.path.join(args.bin_dir, "worker")
    args.bench = os.path.join(args.bin_dir, "bench")
    if args.short:
        args.jobs, args.kills, args.kill_interval, args.compare_jobs = 600, 3, 1.0, 600
        args.outage_jobs, args.outage_window, args.redis_down, args.postgres_down = 300, 6.0, 1.0, 6.0
        args.kill_period, args.mixed_jobs, args.fuzz_seconds, args.timeout = 0.1, 40, 14.0, 240
        args.failover_window, args.failover_settle = 10.0, 0.0
    else:
        args.jobs, args.kills, args.kill_interval, args.compare_jobs = 10_000, 5, 3.0, 2_000
        args.outage_jobs, args.outage_window, args.redis_down, args.postgres_down = 2_000, 12.0, 2.0, 30.0
        args.kill_period, args.mixed_jobs, args.fuzz_seconds, args.timeout = 0.1, 200, 120.0, 900
        args.failover_window, args.failover_settle = 20.0, 240.0
    servers = Servers(args.services_dir)
    random.seed(7)
    failures = []
    for scenario in args.scenarios:
        log(f"scenario {scenario} starting")
        logs = os.path.join(args.logs, f"scenario-{scenario}")
        os.makedirs(logs, exist_ok=True)
        try:
            if scenario == 1:
                scenario_kill_resumes(args, servers, logs, "rq")
                if args.compare:
                    for implementation in ("swift", "python"):
                        scenario_kill_rq_jobs(args, servers, os.path.join(logs, implementation), implementation)
            elif scenario == 2:
                scenario_kill_resumes(args, servers, logs, "native")
            elif scenario == 3:
                scenario_redis_restart(args, servers, logs)
            elif scenario == 4:
                scenario_postgres_stop(args, servers, logs)
            elif scenario == 5:
                scenario_client_kill(args, servers, logs)
                if args.compare:
                    for implementation in ("swift", "python"):
                        scenario_client_kill_rq_jobs(args, servers, os.path.join(logs, implementation), implementation)
            elif scenario == 6:
                check(scenario_mixed_fleet(args, servers, logs, "swift"), 6)
                if args.compare:
                    scenario_mixed_fleet(args, servers, os.path.join(logs, "python"), "python")
            elif scenario == 7:
                scenario_fuzz(args)
            elif scenario == 8:
                scenario_sentinel_failover(args, servers, logs)
        except Failure as failure:
            log(f"FAILED: {failure} (logs in {logs})")
            failures.append(str(failure))
    print("\nscenario figures:")
    for scenario, figures in RESULTS:
        print(f"  {scenario}: lost {figures.get('lost', '-')}, run twice {figures.get('run_twice', '-')}, "
              f"duplicates {figures.get('duplicate_rows', figures.get('completed_twice', '-'))}, "
              f"recovery {figures.get('recovery_after_kill', figures.get('worker_reconnect_s', figures.get('recovery_s', figures.get('ready_recovered_s', '-'))))}")
    if failures:
        print(f"\n{len(failures)} scenario(s) failed:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nall scenarios passed: nothing accepted was lost")


if __name__ == "__main__":
    main()
