/// A Python value from the JSON-like subset that RQ moves through Redis: the constants, numbers,
/// `str`, `bytes`, `bytearray` and the built-in containers.
///
/// Containers keep Python's order: a dict's entries in insertion order, a set's elements in the
/// order they were pickled (Python's iteration order when the pickle was written).
///
/// Equality is structural, not Python's `==`: `.int(1)`, `.float(1.0)` and `.bool(true)` differ,
/// `.float(0.0)` and `.float(-0.0)` differ, every NaN equals every other NaN (so decoded values
/// compare equal to themselves), and a `.bigInt` that fits `Int64` equals the matching `.int`.
/// Sets compare by element order.
public enum PythonValue: Sendable {
    /// `None`.
    case none
    /// `True` / `False`.
    case bool(Bool)
    /// An `int` that fits `Int64`. Decoders always use this case for such values.
    case int(Int)
    /// An `int` outside the `Int64` range, exact.
    case bigInt(PythonBigInt)
    /// A `float` (IEEE 754 double, including NaN, infinities and `-0.0`).
    case float(Double)
    /// A `str`. Python strings with lone surrogates cannot be represented and are refused by the
    /// decoders.
    case string(String)
    /// A `bytes` object.
    case bytes([UInt8])
    /// A `bytearray` object.
    case bytearray([UInt8])
    /// A `list`.
    case list([PythonValue])
    /// A `tuple`.
    case tuple([PythonValue])
    /// A `dict`, entries in insertion order.
    case dict([PythonDictEntry])
    /// A `set`, elements in iteration order.
    case set([PythonValue])
    /// A `frozenset`, elements in iteration order.
    case frozenset([PythonValue])
}

extension PythonValue {
    /// The text of a `str`, else `nil`.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value of an `int` that fits `Int` (including a `.bigInt` that does), else `nil`.
    /// Booleans are not integers here.
    public var intValue: Int? {
        switch self {
        case .int(let number): return number
        case .bigInt(let number): return number.int64.map { Int($0) }
        default: return nil
        }
    }

    /// The elements of a `list` or `tuple`, else `nil`.
    public var arrayValue: [PythonValue]? {
        switch self {
        case .list(let items), .tuple(let items): return items
        default: return nil
        }
    }

    /// The entries of a `dict`, else `nil`.
    public var dictEntries: [PythonDictEntry]? {
        if case .dict(let entries) = self { return entries }
        return nil
    }

    /// For a `dict`, the value stored under the `str` key `key` (the first such entry), else `nil`.
    public subscript(key: String) -> PythonValue? {
        guard case .dict(let entries) = self else { return nil }
        for entry in entries {
            if case .string(let text) = entry.key, text == key { return entry.value }
        }
        return nil
    }
}

extension PythonValue: Equatable {
    /// Structural equality; see the type's documentation for how it differs from Python's `==`.
    public static func == (lhs: PythonValue, rhs: PythonValue) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.bigInt(let a), .bigInt(let b)): return a == b
        case (.int(let a), .bigInt(let b)), (.bigInt(let b), .int(let a)): return b.int64 == Int64(a)
        case (.float(let a), .float(let b)): return a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): return a == b
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.bytearray(let a), .bytearray(let b)): return a == b
        case (.list(let a), .list(let b)): return a == b
        case (.tuple(let a), .tuple(let b)): return a == b
        case (.dict(let a), .dict(let b)): return a == b
        case (.set(let a), .set(let b)): return a == b
        case (.frozenset(let a), .frozenset(let b)): return a == b
        default: return false
        }
    }
}

extension PythonValue: Hashable {
    /// Hashes consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .none:
            hasher.combine(0 as UInt8)
        case .bool(let flag):
            hasher.combine(1 as UInt8)
            hasher.combine(flag)
        case .int(let number):
            hasher.combine(2 as UInt8)
            hasher.combine(number)
        case .bigInt(let number):
            if let small = number.int64 {
                hasher.combine(2 as UInt8)
                hasher.combine(Int(small))
            } else {
                hasher.combine(3 as UInt8)
                hasher.combine(number)
            }
        case .float(let number):
            hasher.combine(4 as UInt8)
            hasher.combine(number.isNaN ? Double.nan.bitPattern : number.bitPattern)
        case .string(let text):
            hasher.combine(5 as UInt8)
            hasher.combine(text)
        case .bytes(let bytes):
            hasher.combine(6 as UInt8)
            hasher.combine(bytes)
        case .bytearray(let bytes):
            hasher.combine(7 as UInt8)
            hasher.combine(bytes)
        case .list(let items):
            hasher.combine(8 as UInt8)
            hasher.combine(items)
        case .tuple(let items):
            hasher.combine(9 as UInt8)
            hasher.combine(items)
        case .dict(let entries):
            hasher.combine(10 as UInt8)
            hasher.combine(entries)
        case .set(let items):
            hasher.combine(11 as UInt8)
            hasher.combine(items)
        case .frozenset(let items):
            hasher.combine(12 as UInt8)
            hasher.combine(items)
        }
    }
}

extension PythonValue: ExpressibleByStringLiteral {
    /// A `str`.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension PythonValue: ExpressibleByIntegerLiteral {
    /// An `int`.
    public init(integerLiteral value: Int) {
        self = .int(value)
    }
}

extension PythonValue: ExpressibleByFloatLiteral {
    /// A `float`.
    public init(floatLiteral value: Double) {
        self = .float(value)
    }
}

extension PythonValue: ExpressibleByBooleanLiteral {
    /// `True` or `False`.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension PythonValue: ExpressibleByArrayLiteral {
    /// A `list`.
    public init(arrayLiteral elements: PythonValue...) {
        self = .list(elements)
    }
}

extension PythonValue: ExpressibleByDictionaryLiteral {
    /// A `dict` with the entries in literal order.
    public init(dictionaryLiteral elements: (PythonValue, PythonValue)...) {
        self = .dict(elements.map { PythonDictEntry($0.0, $0.1) })
    }
}

extension PythonValue: ExpressibleByNilLiteral {
    /// `None`.
    public init(nilLiteral: ()) {
        self = .none
    }
}
