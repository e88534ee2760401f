import Pickle

/// What a handler receives: the job's id, its call and how many times it has been tried.
public struct JobContext: Sendable {
    /// The job id.
    public var jobID: String
    /// The function name the job was enqueued with (the registered name or an alias).
    public var functionName: String
    /// Positional arguments.
    public var args: [PythonValue]
    /// Keyword arguments, in order.
    public var kwargs: [(String, PythonValue)]

    /// Creates a context.
    public init(jobID: String, functionName: String, args: [PythonValue], kwargs: [(String, PythonValue)]) {
        self.jobID = jobID
        self.functionName = functionName
        self.args = args
        self.kwargs = kwargs
    }

    /// The keyword argument `name`, if given.
    public func kwarg(_ name: String) -> PythonValue? {
        kwargs.first { $0.0 == name }?.1
    }
}

/// A job failed inside its handler; `message` becomes the failure text (`exc_string`).
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    /// Python-style exception type name shown first, e.g. `ValueError`.
    public var type: String
    /// The message.
    public var message: String
    /// Whether a retry may succeed (timeouts, 5xx, lost connections) as opposed to bad input.
    public var isTransient: Bool
    /// Whether the handler knows a retry cannot succeed (an unreadable file, an unknown row). RQ
    /// mode then fails the job at once even when it has `retries_left`; an unclassified failure
    /// (`false`, the default) is retried as Python RQ retries any exception.
    public var isPermanent: Bool

    /// Creates a failure.
    public init(type: String = "JobError", _ message: String, isTransient: Bool = false, isPermanent: Bool = false) {
        self.type = type
        self.message = message
        self.isTransient = isTransient
        self.isPermanent = isPermanent && !isTransient
    }

    /// `"<type>: <message>"`, the last line of a Python traceback.
    public var description: String { "\(type): \(message)" }
}

/// An async job function: returns the job's result (`.none` for Python's `None`) or throws.
public typealias JobHandler = @Sendable (JobContext) async throws -> PythonValue

/// The functions a worker can run, by the dotted names jobs are enqueued with.
///
/// An unknown name is not an error here: the worker fails that job with ``unknownFunction(_:)``'s
/// text, so nothing is dropped silently.
public struct JobHandlerRegistry: Sendable {
    private var handlers: [String: JobHandler] = [:]

    /// An empty registry.
    public init() {}

    /// Registers `handler` under `name` and each of `aliases`.
    public mutating func register(_ name: String, aliases: [String] = [], _ handler: @escaping JobHandler) {
        handlers[name] = handler
        for alias in aliases { handlers[alias] = handler }
    }

    /// The handler for `name`, if registered.
    public func handler(for name: String) -> JobHandler? { handlers[name] }

    /// Registered names, sorted.
    public var names: [String] { handlers.keys.sorted() }

    /// The failure for a job whose function is not registered.
    public static func unknownFunction(_ name: String) -> JobFailure {
        JobFailure(type: "UnknownFunctionError", "no handler is registered for '\(name)' in this worker", isPermanent: true)
    }
}

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
            guard seconds <= 1e9 else { throw JobFailure(type: "ValueError", "sleep length must be at most 1000000000 seconds", isPermanent: true) }
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
