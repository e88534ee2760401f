from rqcompat.jobs import (  # noqa: F401
    add, echo, fail, failing_callback, record_failure, record_stopped, record_success, return_none, return_retry, sleep,
)


def noop():
    """Does nothing; the benchmark's unit of work (the Swift built-in of the same name)."""
    return None
