/// Python's `json` module with default settings, as RQ's `JSONSerializer` uses it:
/// ``encode(_:)`` matches `json.dumps(value).encode()` byte for byte and ``decode(_:maximumDepth:)``
/// reads what `json.loads` reads.
///
/// Encoding: separators `", "` and `": "`, `ensure_ascii` (every non-ASCII character as `\uXXXX`,
/// astral characters as surrogate pairs, lowercase hex), floats as `float.__repr__` with `NaN`,
/// `Infinity`, `-Infinity`, tuples as arrays, dict keys converted like Python (`1` → `"1"`, `True`
/// → `"true"`, `None` → `"null"`, floats by repr). `bytes`, `bytearray`, `set`, `frozenset` and
/// container keys fail with ``PythonJSONError/Code/unsupportedType`` (Python's `TypeError`).
///
/// Decoding: RFC 8259 JSON plus Python's `NaN`, `Infinity` and `-Infinity`; numbers with a
/// fraction or exponent become floats, other numbers ints (``PythonValue/bigInt(_:)`` beyond
/// `Int64`, at most 4300 digits like CPython); objects become dicts in document order, a repeated
/// key keeping its first position and its last value. Input must be UTF-8.
public enum PythonJSON {
    /// CPython 3.11's default limit on digits in `int` ↔ decimal conversions.
    static let maximumIntegerDigits = 4300

    /// `json.dumps(value)` as UTF-8 bytes (pure ASCII).
    public static func encode(_ value: PythonValue) throws(PythonJSONError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        try write(value, to: &output)
        return output
    }

    /// `json.loads(bytes)`.
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 JSON text.
    ///   - maximumDepth: Deepest array/object nesting accepted (an array of scalars has depth 1).
    ///     Default 1000: CPython's `json.dumps` stops near 990 levels, at its recursion limit.
    public static func decode(_ bytes: [UInt8], maximumDepth: Int = 1000) throws(PythonJSONError) -> PythonValue {
        var parser = PythonJSONParser(input: bytes, maximumDepth: maximumDepth)
        return try parser.parseDocument()
    }

    // MARK: - Encoding

    private static func write(_ value: PythonValue, to output: inout [UInt8]) throws(PythonJSONError) {
        switch value {
        case .none: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): output.append(contentsOf: String(number).utf8)
        case .bigInt(let number): output.append(contentsOf: try decimal(number, at: output.count).utf8)
        case .float(let number): output.append(contentsOf: floatText(number).utf8)
        case .string(let text): writeString(text, to: &output)
        case .list(let items), .tuple(let items):
            output.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { output.append(contentsOf: ", ".utf8) }
                try write(item, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .dict(let entries):
            output.append(UInt8(ascii: "{"))
            for (position, entry) in entries.enumerated() {
                if position > 0 { output.append(contentsOf: ", ".utf8) }
                writeString(try keyText(entry.key, at: output.count), to: &output)
                output.append(contentsOf: ": ".utf8)
                try write(entry.value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        case .bytes, .bytearray, .set, .frozenset:
            throw PythonJSONError(.unsupportedType, offset: output.count, "Object of type \(typeName(value)) is not JSON serializable")
        }
    }

    /// A dict key as Python's encoder converts it.
    private static func keyText(_ key: PythonValue, at offset: Int) throws(PythonJSONError) -> String {
        switch key {
        case .string(let text): return text
        case .float(let number): return floatText(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .none: return "null"
        case .int(let number): return String(number)
        case .bigInt(let number): return try decimal(number, at: offset)
        default:
            throw PythonJSONError(.unsupportedType, offset: offset, "keys must be str, int, float, bool or None, not \(typeName(key))")
        }
    }

    /// Python's `_floatstr`.
    private static func floatText(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
        return PythonFloatFormat.repr(number)
    }

    /// The decimal digits of a big integer, refused beyond CPython's 4300-digit limit.
    private static func decimal(_ number: PythonBigInt, at offset: Int) throws(PythonJSONError) -> String {
        // 1800 bytes hold at least 2^14391 in magnitude, which has more than 4300 digits.
        if number.twosComplementLittleEndian.count <= 1800 {
            let text = number.description
            if text.utf8.count - (number.isNegative ? 1 : 0) <= maximumIntegerDigits { return text }
        }
        throw PythonJSONError(.limitExceeded, offset: offset, "Exceeds the limit (\(maximumIntegerDigits) digits) for integer string conversion")
    }

    /// `encode_basestring_ascii`.
    private static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != 0x22 && $0 != 0x5c }) {
            // Nothing to escape.
            output.append(contentsOf: text.utf8)
            output.append(UInt8(ascii: "\""))
            return
        }
        for scalar in text.unicodeScalars {
            let code = scalar.value
            switch code {
            case 0x22: output.append(contentsOf: "\\\"".utf8)
            case 0x5c: output.append(contentsOf: "\\\\".utf8)
            case 0x0a: output.append(contentsOf: "\\n".utf8)
            case 0x0d: output.append(contentsOf: "\\r".utf8)
            case 0x09: output.append(contentsOf: "\\t".utf8)
            case 0x08: output.append(contentsOf: "\\b".utf8)
            case 0x0c: output.append(contentsOf: "\\f".utf8)
            case 0x20..<0x7f: output.append(UInt8(code))
            case 0x10000...:
                let offset = code - 0x10000
                appendEscape(0xd800 | (offset >> 10), to: &output)
                appendEscape(0xdc00 | (offset & 0x3ff), to: &output)
            default:
                appendEscape(code, to: &output)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ unit: UInt32, to output: inout [UInt8]) {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        output.append(contentsOf: "\\u".utf8)
        for shift in stride(from: 12, through: 0, by: -4) {
            output.append(digits[Int((unit >> UInt32(shift)) & 0xf)])
        }
    }

    static func typeName(_ value: PythonValue) -> String {
        switch value {
        case .none: "NoneType"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .bytearray: "bytearray"
        case .list: "list"
        case .tuple: "tuple"
        case .dict: "dict"
        case .set: "set"
        case .frozenset: "frozenset"
        }
    }
}
