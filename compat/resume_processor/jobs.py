from rqcompat.jobs import add, echo, fail, return_none, return_retry, sleep  # noqa: F401
