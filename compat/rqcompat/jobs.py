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
