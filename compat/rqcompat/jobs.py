"""Job functions Python workers run for the interop suite (same names as the Swift built-ins)."""
import time


def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


def add(a, b):
    return a + b


def sleep(seconds):
    time.sleep(seconds)
    return seconds


def fail(message):
    raise ValueError(message)


def return_none():
    return None


def return_retry():
    from rq import Retry
    return Retry(max=1)


# Callbacks (the Swift worker has built-ins of the same names: RQCallbackRegistry.builtIns).
def record_success(job, connection, result, *args, **kwargs):
    connection.rpush(f"callbacks:{job.id}", f"success:{result!r}")


def record_failure(job, connection, type, value, traceback):
    connection.rpush(f"callbacks:{job.id}", f"failure:{type.__name__}")


def record_stopped(job, connection):
    connection.rpush(f"callbacks:{job.id}", "stopped")


def failing_callback(*args, **kwargs):
    raise ValueError("callback failed")
