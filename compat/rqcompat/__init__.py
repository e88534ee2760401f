"""Python side of resume-processor's RQ interop suite."""
