/// One argument of a Redis command: raw bytes, so values may contain any byte including NUL.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    /// The bytes sent for this argument.
    public var bytes: [UInt8]

    /// An argument holding `bytes` as they are.
    public init(bytes: [UInt8]) { self.bytes = bytes }
    /// An argument holding the UTF-8 bytes of `string`.
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    /// An argument holding the decimal form of `value`.
    public init(_ value: Int) { self.bytes = Array(String(value).utf8) }
    /// An argument holding `value` as Redis parses floats (`inf`/`-inf` for infinities).
    public init(_ value: Double) {
        if value == .infinity {
            self.bytes = Array("+inf".utf8)
        } else if value == -.infinity {
            self.bytes = Array("-inf".utf8)
        } else {
            self.bytes = Array(String(value).utf8)
        }
    }
    /// A string-literal argument.
    public init(stringLiteral value: String) { self.init(value) }
    /// An integer-literal argument.
    public init(integerLiteral value: Int) { self.init(value) }
}

/// A command as its argument vector, e.g. `["SET", "key", "value"]`.
public typealias RedisCommand = [RedisArgument]
