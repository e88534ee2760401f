"""Drains an RQ queue with a Python RQ worker in burst mode and prints JSON figures.

Usage: rq_drain.py REDIS_URL QUEUE simple|fork
Prints {"seconds": <wall time of work(burst=True)>, "max_rss_kb": <this process's peak RSS>,
"finished": <finished registry size>}. Used by `bench worker` as the reference.
"""
import json
import resource
import sys
import time

import redis
from rq import Queue, SimpleWorker, Worker
from rq.registry import FinishedJobRegistry


def main():
    url, queue_name, kind = sys.argv[1:4]
    connection = redis.Redis.from_url(url)
    queue = Queue(queue_name, connection=connection)
    worker_class = SimpleWorker if kind == "simple" else Worker
    worker = worker_class([queue], connection=connection, log_job_description=False)
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    seconds = time.perf_counter() - started
    print(json.dumps({
        "seconds": seconds,
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "finished": FinishedJobRegistry(queue_name, connection=connection).count,
    }))


if __name__ == "__main__":
    main()
