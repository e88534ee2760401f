/// Why ``PickleDecoder`` refused its input. Messages never contain payload bytes beyond an opcode
/// name, a length or an index.
public struct PickleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case truncated, unsupportedOpcode, invalid, limitExceeded
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The input ended before `STOP` or inside an opcode's argument.
        public static let truncated = Code(.truncated)
        /// An opcode that would import or call code (`GLOBAL`, `REDUCE`, ...), an out-of-band buffer
        /// opcode, or a byte that is no opcode at all. ``PickleError/opcode`` names it.
        public static let unsupportedOpcode = Code(.unsupportedOpcode)
        /// Malformed data: stack underflow, a missing memo entry, a bad number or string, an
        /// unhashable key, a container that contains itself, ...
        public static let invalid = Code(.invalid)
        /// One of the ``PickleLimits`` was exceeded.
        public static let limitExceeded = Code(.limitExceeded)
        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// Byte offset of the opcode being decoded (or of the end of input when `STOP` is missing).
    public var offset: Int
    /// Name of that opcode as `pickletools` spells it (e.g. `"STACK_GLOBAL"`), or `nil` when the
    /// error is not tied to an opcode. Unknown bytes are named `"0xNN"`.
    public var opcode: String?
    /// Details, safe to log.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, offset: Int, opcode: String? = nil, _ message: String) {
        self.code = code
        self.offset = offset
        self.opcode = opcode
        self.message = message
    }

    /// `"pickle <code> at offset N (OPCODE): message"`.
    public var description: String {
        if let opcode {
            return "pickle \(code) at offset \(offset) (\(opcode)): \(message)"
        }
        return "pickle \(code) at offset \(offset): \(message)"
    }
}
