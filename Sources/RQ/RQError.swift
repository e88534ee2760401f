/// An error from the RQ layer: a job hash, payload or result that cannot be read, or a request
/// RQ would refuse. Messages never contain payload bytes.
public struct RQError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidJobID, noSuchJob, malformedJob, deserialization, serialization, invalidArgument, duplicateJob, suspended
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// A job id with characters outside `[A-Za-z0-9_-]`.
        public static let invalidJobID = Code(.invalidJobID)
        /// No hash at `rq:job:ID`.
        public static let noSuchJob = Code(.noSuchJob)
        /// A field of the job hash is not in RQ's encoding (bad timestamp, status, int, JSON).
        public static let malformedJob = Code(.malformedJob)
        /// `data`, `meta` or a result could not be decoded.
        public static let deserialization = Code(.deserialization)
        /// A value cannot be written in the chosen serializer (e.g. bytes with JSON).
        public static let serialization = Code(.serialization)
        /// An enqueue option RQ would refuse.
        public static let invalidArgument = Code(.invalidArgument)
        /// `unique` enqueue of an id that already exists.
        public static let duplicateJob = Code(.duplicateJob)
        /// `rq suspend` is in force: a worker refuses to start, as `rq worker` does.
        public static let suspended = Code(.suspended)
        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// Details, safe to log.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `"RQ <code>: <message>"`.
    public var description: String { "RQ \(code): \(message)" }
}
