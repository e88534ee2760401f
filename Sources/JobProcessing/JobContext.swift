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
