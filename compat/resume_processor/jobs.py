from rqcompat.jobs import add, echo, fail, return_none, return_retry, sleep  # noqa: F401


def noop():
    """Does nothing; the benchmark's unit of work (the Swift built-in of the same name)."""
    return None
