/// One `key: value` pair of a Python `dict` (``PythonValue/dict(_:)`` keeps them in insertion
/// order, as Python does).
public struct PythonDictEntry: Sendable, Hashable {
    /// The key: usually a `str`, but any hashable Python value is allowed.
    public var key: PythonValue
    /// The value.
    public var value: PythonValue

    /// Creates an entry.
    public init(_ key: PythonValue, _ value: PythonValue) {
        self.key = key
        self.value = value
    }
}
