import Pickle

extension JobHandlerRegistry {
    /// The built-in test functions, also runnable by Python workers from `compat/`:
    /// `resume_processor.jobs.echo(*args, **kwargs)` → `{"args": [...], "kwargs": {...}}`,
    /// `resume_processor.jobs.sleep(seconds)` → `seconds` after sleeping (cancellable),
    /// `resume_processor.jobs.fail(message)` raises `ValueError(message)`,
    /// `resume_processor.jobs.noop()` → `None`.
    public static var builtIns: JobHandlerRegistry {
        var registry = JobHandlerRegistry()
        registry.register("resume_processor.jobs.echo") { context in
            .dict([
                PythonDictEntry("args", .list(context.args)),
                PythonDictEntry("kwargs", .dict(context.kwargs.map { PythonDictEntry(.string($0.0), $0.1) })),
            ])
        }
        registry.register("resume_processor.jobs.sleep") { context in
            let value = context.args.first ?? context.kwarg("seconds") ?? .int(0)
            let seconds: Double
            switch value {
            case .int(let number): seconds = Double(number)
            case .float(let number): seconds = number
            default: throw JobFailure(type: "TypeError", "sleep() needs a number of seconds")
            }
            guard seconds.isFinite, seconds >= 0 else { throw JobFailure(type: "ValueError", "sleep length must be non-negative") }
            // `Int64(seconds * 1000)` traps beyond Int64, and a sleep's deadline must fit the clock.
            guard seconds <= 1e9 else { throw JobFailure(type: "ValueError", "sleep length must be at most 1000000000 seconds", kind: .permanent) }
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            return value
        }
        registry.register("resume_processor.jobs.fail") { context in
            let message = context.args.first.map { $0.stringValue ?? PythonRepr.repr($0) } ?? context.kwarg("message")?.stringValue ?? ""
            throw JobFailure(type: "ValueError", message)
        }
        registry.register("resume_processor.jobs.noop") { _ in .none }
        return registry
    }
}
