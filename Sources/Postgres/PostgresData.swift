import ClientSupport
import Foundation
import Timestamps

/// Type OIDs of the PostgreSQL types this client encodes and decodes.
public enum PostgresType {
    /// Let the server infer the parameter's type from context.
    public static let unspecified: UInt32 = 0
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let float4Array: UInt32 = 1021
    public static let float8Array: UInt32 = 1022
    public static let textArray: UInt32 = 1009
    public static let varchar: UInt32 = 1043
    public static let timestamp: UInt32 = 1114
    public static let timestamptz: UInt32 = 1184
    public static let numeric: UInt32 = 1700
    public static let uuid: UInt32 = 2950
}

/// A value that can be bound to a query parameter (`$1`, `$2`, …). Parameters travel separately
/// from the SQL text, in PostgreSQL's text format (or its binary format where a type gives one),
/// so they are never parsed as SQL.
public protocol PostgresBindable: Sendable {
    /// The parameter's text form, or `nil` for SQL `NULL`.
    var postgresText: String? { get }
    /// The parameter's type OID; ``PostgresType/unspecified`` lets the server infer it.
    var postgresTypeOID: UInt32 { get }
    /// The parameter in PostgreSQL's binary format for ``postgresTypeOID``, when the type has one
    /// here (sent instead of ``postgresText``); `nil` to send the text. Default: `nil`.
    var postgresBinary: [UInt8]? { get }
}

extension PostgresBindable {
    /// Text format by default.
    public var postgresBinary: [UInt8]? { nil }
}

/// A Swift type a column can be decoded into.
public protocol PostgresDecodable: Sendable {
    /// Decodes the column's text form; `type` is the column's type OID.
    init(postgresText text: String, type: UInt32) throws(PostgresError)
    /// The value for SQL `NULL`, if the type has one (only `Optional` does).
    static var postgresNull: Self? { get }
}

extension PostgresDecodable {
    /// Non-optional types have no `NULL` value.
    public static var postgresNull: Self? { nil }
}

private func decodingError(_ text: String, _ type: String) -> PostgresError {
    PostgresError(.decoding, "cannot decode '\(text.prefix(40))' as \(type)")
}

extension String: PostgresBindable, PostgresDecodable {
    public var postgresText: String? { self }
    public var postgresTypeOID: UInt32 { PostgresType.unspecified }
    public init(postgresText text: String, type: UInt32) { self = text }
}

extension Int: PostgresBindable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public var postgresTypeOID: UInt32 { PostgresType.int8 }
    public init(postgresText text: String, type: UInt32) throws(PostgresError) {
        guard let value = Int(text) else { throw decodingError(text, "Int") }
        self = value
    }
}

extension Int32: PostgresBindable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public var postgresTypeOID: UInt32 { PostgresType.int4 }
    public init(postgresText text: String, type: UInt32) throws(PostgresError) {
        guard let value = Int32(text) else { throw decodingError(text, "Int32") }
        self = value
    }
}

extension Bool: PostgresBindable, PostgresDecodable {
    public var postgresText: String? { self ? "t" : "f" }
    public var postgresTypeOID: UInt32 { PostgresType.bool }
    public init(postgresText text: String, type: UInt32) throws(PostgresError) {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw decodingError(text, "Bool")
        }
    }
}

extension Double: PostgresBindable, PostgresDecodable {
    public var postgresText: String? { Self.postgresLiteral(self) }
    public var postgresTypeOID: UInt32 { PostgresType.float8 }
    public init(postgresText text: String, type: UInt32) throws(PostgresError) {
        guard let value = Double(text) else { throw decodingError(text, "Double") }
        self = value
    }

    static func postgresLiteral(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "Infinity" }
        if value == -.infinity { return "-Infinity" }
        return String(value)
    }
}

extension Float: PostgresBindable, PostgresDecodable {
    public var postgresText: String? { Self.postgresLiteral(self) }
    public var postgresTypeOID: UInt32 { PostgresType.float4 }
    public init(postgresText text: String, type: UInt32) throws(PostgresError) {
        guard let value = Float(text) else { throw decodingError(text, "Float") }
        self = value
    }

    /// The shortest text that reads back as this `Float` (`real` parses it to the same value;
    /// widening to `Double` first would print 17 digits of noise).
    static func postgresLiteral(_ value: Float) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "Infinity" }
        if value == -.infinity { return "-Infinity" }
        return String(value)
    }
}

extension UUID: PostgresBindable, PostgresDecodable {
    public var postgresText: String? { uuidString.lowercased() }
    public var postgresTypeOID: UInt32 { PostgresType.uuid }
    public init(postgresText text: String, type: UInt32) throws(PostgresError) {
        guard let value = UUID(uuidString: text) else { throw decodingError(text, "UUID") }
        self = value
    }
}

extension Date: PostgresBindable, PostgresDecodable {
    /// UTC with microseconds, e.g. `2026-11-29 02:48:09.123456+00`.
    public var postgresText: String? { PostgresTimestamp.format(self) }
    public var postgresTypeOID: UInt32 { PostgresType.timestamptz }
    public init(postgresText text: String, type: UInt32) throws(PostgresError) {
        guard let value = PostgresTimestamp.parse(text) else { throw decodingError(text, "Date") }
        self = value
    }
}

extension Array: PostgresBindable where Element: PostgresArrayElement {
    public var postgresText: String? {
        "{" + map { Element.postgresArrayLiteral($0) }.joined(separator: ",") + "}"
    }
    public var postgresTypeOID: UInt32 { Element.postgresArrayTypeOID }
    public var postgresBinary: [UInt8]? { Element.postgresBinaryArray(self) }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public init(postgresText text: String, type: UInt32) throws(PostgresError) {
        guard text.hasPrefix("{"), text.hasSuffix("}") else { throw decodingError(text, "array") }
        let body = text.dropFirst().dropLast()
        if body.isEmpty {
            self = []
            return
        }
        // Split on the bytes: the elements are ASCII numbers, and walking Characters (grapheme
        // breaking) cost more than parsing them.
        var result: [Element] = []
        result.reserveCapacity(body.utf8.count / 8)
        for item in body.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let literal = Substring(item)
            guard literal != "NULL", let value = Element.fromPostgresArrayLiteral(literal) else {
                throw decodingError(String(literal), "\(Element.self) array element")
            }
            result.append(value)
        }
        self = result
    }
}

/// A scalar that can appear in a one-dimensional array column (`real[]`, `float8[]`).
public protocol PostgresArrayElement: Sendable {
    /// The array type's OID.
    static var postgresArrayTypeOID: UInt32 { get }
    /// The element's literal inside `{…}`.
    static func postgresArrayLiteral(_ value: Self) -> String
    /// Parses one element literal.
    static func fromPostgresArrayLiteral(_ text: Substring) -> Self?
    /// The whole array in PostgreSQL's binary format (`array_recv`), or `nil` to send text.
    static func postgresBinaryArray(_ values: [Self]) -> [UInt8]?
}

extension PostgresArrayElement {
    /// Text format by default.
    public static func postgresBinaryArray(_ values: [Self]) -> [UInt8]? { nil }
}

/// `array_recv`'s input for a one-dimensional array without NULLs: dimensions, flags, element
/// type, then each element as its length and big-endian bytes.
func binaryArray(elementType: UInt32, count: Int, elementSize: Int, _ element: (Int) -> UInt64) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(20 + count * (4 + elementSize))
    func append32(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    append32(count == 0 ? 0 : 1)  // dimensions
    append32(0)  // no NULLs
    append32(elementType)
    if count > 0 {
        append32(UInt32(count))
        append32(1)  // lower bound
    }
    for index in 0..<count {
        append32(UInt32(elementSize))
        let value = element(index)
        for shift in stride(from: (elementSize - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
    return bytes
}

extension Float: PostgresArrayElement {
    public static var postgresArrayTypeOID: UInt32 { PostgresType.float4Array }
    public static func postgresArrayLiteral(_ value: Float) -> String { postgresLiteral(value) }
    public static func fromPostgresArrayLiteral(_ text: Substring) -> Float? { Float(text) }
    /// Binary (`float4` bits, big-endian): no decimal text to print here or parse on the server.
    public static func postgresBinaryArray(_ values: [Float]) -> [UInt8]? {
        binaryArray(elementType: PostgresType.float4, count: values.count, elementSize: 4) { UInt64(values[$0].bitPattern) }
    }
}

extension Double: PostgresArrayElement {
    public static var postgresArrayTypeOID: UInt32 { PostgresType.float8Array }
    public static func postgresArrayLiteral(_ value: Double) -> String { postgresLiteral(value) }
    public static func fromPostgresArrayLiteral(_ text: Substring) -> Double? { Double(text) }
}

/// Raw bytes for a `bytea` column or parameter.
public struct PostgresBytes: PostgresBindable, PostgresDecodable, Hashable {
    /// The bytes.
    public var bytes: [UInt8]
    /// Wraps `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    public var postgresText: String? {
        var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        text.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            text.append(Self.hexDigits[Int(byte >> 4)])
            text.append(Self.hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
    public var postgresTypeOID: UInt32 { PostgresType.bytea }

    public init(postgresText text: String, type: UInt32) throws(PostgresError) {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else {
            throw decodingError(text, "bytea (hex)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else {
                throw decodingError(text, "bytea (hex)")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.bytes = bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    public var postgresText: String? { self?.postgresText }
    public var postgresTypeOID: UInt32 { self?.postgresTypeOID ?? PostgresType.unspecified }
    public var postgresBinary: [UInt8]? { self?.postgresBinary }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText text: String, type: UInt32) throws(PostgresError) {
        self = try Wrapped(postgresText: text, type: type)
    }
    public static var postgresNull: Self? { .some(nil) }
}

/// Conversion between `Date` and PostgreSQL's ISO timestamp text.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        return CivilDate.isoText(microsecondsSinceEpoch: micros, separator: " ") + "+00"
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM[:SS]]]` (timestamptz or timestamp, taken as UTC).
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for offset in 0..<width {
                let c = bytes[index + offset]
                guard c >= 48 && c <= 57 else { return nil }
                value = value * 10 + Int64(c - 48)
            }
            index += width
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == c else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              expect(32) || expect(84), let hour = number(2), expect(58), let minute = number(2), expect(58),
              let second = number(2) else { return nil }
        var micros: Int64 = 0
        if expect(46) {
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 6 { micros = micros * 10 + Int64(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if index < bytes.count {
            let sign: Int64
            if expect(43) { sign = 1 } else if expect(45) { sign = -1 } else if expect(90) { sign = 0 } else { return nil }
            if sign != 0 {
                guard let oh = number(2) else { return nil }
                var total = oh * 3600
                if expect(58), let om = number(2) { total += om * 60 }
                if expect(58), let os = number(2) { total += os }
                offsetSeconds = sign * total
            }
        }
        guard index == bytes.count else { return nil }
        let days = CivilDate.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }


}
