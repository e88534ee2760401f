import Pickle

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
        // Unclassified, as an import error is to Python RQ: its `Retry` applies where the format
        // retries those (RQ), never in the native format.
        JobFailure(type: "UnknownFunctionError", "no handler is registered for '\(name)' in this worker", kind: .unclassified)
    }
}
