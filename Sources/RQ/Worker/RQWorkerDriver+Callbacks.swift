import JobProcessing
import Logging
import Pickle
import Synchronization

extension RQWorkerDriver {
    /// RQ's callbacks around a job's end, as Python's worker runs them (`docs/rq-interop.md`,
    /// "Callbacks"), each within its `*_callback_timeout` (default 60 s):
    ///
    /// - finished, with a success callback: if it fails (or none is registered under its name),
    ///   the job fails with that error instead — through the failure callback, and retried when
    ///   it has retries left, as RQ's `handle_job_failure` does;
    /// - failed or retried, with a failure callback: if it fails, its error replaces the job's;
    /// - stopped, with a stopped callback: its error is logged, the job stays stopped.
    func applyingCallbacks(to disposition: JobDisposition, of job: RQJob, retriesLeft: Int) async -> JobDisposition {
        switch disposition {
        case .finished(let value):
            guard !job.successCallbackName.isEmpty else { return disposition }
            guard let failure = await runCallback(job.successCallbackName, kind: "success", of: job, result: value, failure: nil) else {
                return disposition
            }
            let recorded = await failureCallback(of: job, failure) ?? failure
            return retriesLeft > 0 ? .retry(recorded) : .failed(recorded)
        case .failed(let failure):
            return .failed(await failureCallback(of: job, failure) ?? failure)
        case .retry(let failure):
            return .retry(await failureCallback(of: job, failure) ?? failure)
        case .stopped:
            if !job.stoppedCallbackName.isEmpty,
               let error = await runCallback(job.stoppedCallbackName, kind: "stopped", of: job, result: nil, failure: nil) {
                logger.warning("stopped callback failed", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
            }
            return disposition
        }
    }

    /// The failure callback's own failure, if it has one and it fails.
    private func failureCallback(of job: RQJob, _ failure: JobFailure) async -> JobFailure? {
        guard !job.failureCallbackName.isEmpty else { return nil }
        return await runCallback(job.failureCallbackName, kind: "failure", of: job, result: nil, failure: failure)
    }

    /// Runs the callback `name` within the job's `<kind>_callback_timeout`; returns its failure,
    /// or `nil` when it succeeded.
    private func runCallback(_ name: String, kind: String, of job: RQJob, result: PythonValue?, failure: JobFailure?) async -> JobFailure? {
        guard let callback = configuration.callbacks.callback(named: name) else {
            let first = missingCallbacks.withLock { $0.insert(name).inserted }
            if first {
                logger.warning("no Swift callback registered under this name; failing as RQ does when it cannot import one",
                               metadata: ["rq.callback": "\(name)", "rq.callback_kind": "\(kind)"])
            }
            return JobFailure(type: "UnknownCallbackError", "no Swift callback is registered for '\(name)' (the job's \(kind) callback)")
        }
        let seconds = Int(String(decoding: job.otherFields["\(kind)_callback_timeout"] ?? [], as: UTF8.self)) ?? 60
        let context = RQCallbackContext(job: job, redis: redis, result: result, failure: failure)
        return await withTaskGroup(of: JobFailure?.self) { group in
            group.addTask {
                do {
                    try await callback(context)
                    return nil
                } catch let error as JobFailure {
                    return error
                } catch is CancellationError {
                    return JobFailure.timedOut(after: .seconds(seconds))
                } catch {
                    return JobFailure(type: String(describing: type(of: error)), "\(error)")
                }
            }
            if seconds > 0 {
                group.addTask {
                    try? await Task.sleep(for: .seconds(seconds))
                    return JobFailure.timedOut(after: .seconds(seconds))
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
