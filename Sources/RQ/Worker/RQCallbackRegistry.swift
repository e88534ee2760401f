import JobProcessing
import Pickle
import Redis

/// Swift callbacks by the dotted name a job's `success_callback_name`, `failure_callback_name` or
/// `stopped_callback_name` carries (RQ's `Callback(func, timeout)`; `docs/rq-interop.md`,
/// "Callbacks"). A name with no callback here is handled as RQ handles a callback it cannot
/// import.
public struct RQCallbackRegistry: Sendable {
    private var callbacks: [String: RQCallback] = [:]

    /// An empty registry.
    public init() {}

    /// Registers `callback` under `name` (e.g. `myapp.callbacks.notify`).
    public mutating func register(_ name: String, _ callback: @escaping RQCallback) {
        callbacks[name] = callback
    }

    /// The callback registered under `name`, if any.
    public func callback(named name: String) -> RQCallback? { callbacks[name] }

    /// The compat suite's callbacks, also defined on the Python side (`compat/rqcompat/jobs.py`):
    /// `resume_processor.jobs.record_success` / `record_failure` / `record_stopped` append
    /// `success:<repr of the result>`, `failure:<type>` or `stopped` to the list
    /// `callbacks:<job id>`; `resume_processor.jobs.failing_callback` raises `ValueError`.
    public static var builtIns: RQCallbackRegistry {
        var registry = RQCallbackRegistry()
        func record(_ name: String, _ entry: @escaping @Sendable (RQCallbackContext) -> String) {
            registry.register("resume_processor.jobs.\(name)") { context in
                _ = try await context.redis.send("RPUSH", RedisArgument("callbacks:\(context.job.id)"), RedisArgument(entry(context)))
            }
        }
        record("record_success") { "success:\(PythonRepr.repr($0.result ?? .none))" }
        record("record_failure") { "failure:\($0.failure?.type ?? "")" }
        record("record_stopped") { _ in "stopped" }
        registry.register("resume_processor.jobs.failing_callback") { _ in
            throw JobFailure(type: "ValueError", "callback failed")
        }
        return registry
    }
}
