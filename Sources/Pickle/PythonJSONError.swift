/// Why ``PythonJSON`` could not encode a value or decode some text.
public struct PythonJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalid, unsupportedType, limitExceeded
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// Decoding: the text is not JSON (as Python's `json.loads` reads it), or holds a string
        /// Swift cannot represent (a lone surrogate escape).
        public static let invalid = Code(.invalid)
        /// Encoding: a value or dict key Python's `json.dumps` rejects with `TypeError`
        /// (`bytes`, `bytearray`, `set`, `frozenset`; container keys).
        public static let unsupportedType = Code(.unsupportedType)
        /// Nesting deeper than the limit, or an integer beyond CPython's 4300-digit limit.
        public static let limitExceeded = Code(.limitExceeded)
        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// Decoding: byte offset in the input where the problem was found. Encoding: number of output
    /// bytes written before the offending value.
    public var offset: Int
    /// Details, safe to log.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, offset: Int, _ message: String) {
        self.code = code
        self.offset = offset
        self.message = message
    }

    /// `"json <code> at offset N: message"`.
    public var description: String { "json \(code) at offset \(offset): \(message)" }
}
