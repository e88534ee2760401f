import JobProcessing

/// How a job's failure reads in RQ's records (the failed result's `exc_string`, `exc_info`): as
/// Python RQ's worker writes it where scripts look for it, and as a traceback-shaped text
/// otherwise, so that its last line is `<type>: <message>` like Python's.
enum RQFailureText {
    /// Python's qualified names of the exceptions its worker raises itself.
    static let pythonTypes = [
        "JobTimeoutException": "rq.timeouts.JobTimeoutException",
        "ShutDownImminentException": "rq.exceptions.ShutDownImminentException",
    ]

    /// The text for `failure`, raised in the worker called `workerName`.
    ///
    /// - A killed job (`kill-horse`) gets Python's exact words for a work horse ended by SIGKILL:
    ///   `Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); `.
    /// - Anything else: `Traceback (most recent call last):`, a line naming the Swift worker, then
    ///   `<type>: <message>`, with RQ's own exception types under their Python module
    ///   (`rq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (1 seconds)`).
    static func excString(_ failure: JobFailure, workerName: String) -> String {
        if failure.type == JobFailure.killed.type {
            return "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); "
        }
        let type = pythonTypes[failure.type] ?? failure.type
        return "Traceback (most recent call last):\n  (raised in the Swift worker \(workerName))\n\(type): \(failure.message)\n"
    }
}
