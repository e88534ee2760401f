/// Arguments of the text opcodes (protocol 0) and string payloads, decoded as CPython does.
extension Unpickler {
    /// CPython 3.11's default limit on digits in a decimal `int` conversion.
    static let maximumIntegerDigits = 4300

    /// A `STRING` argument: a quoted Python 2 `str` literal with backslash escapes
    /// (`codecs.escape_decode`), decoded as ASCII like `Unpickler(encoding="ASCII")`.
    mutating func decodeEscapedString(_ line: ArraySlice<UInt8>) throws(PickleError) -> String {
        guard line.count >= 2, let first = line.first, first == line.last,
              first == UInt8(ascii: "'") || first == UInt8(ascii: "\"") else {
            throw fail(.invalid, "the STRING opcode argument must be quoted")
        }
        let body = line.dropFirst().dropLast()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(body.count)
        var index = body.startIndex
        while index < body.endIndex {
            let byte = body[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                bytes.append(byte)
                continue
            }
            guard index < body.endIndex else { throw fail(.invalid, "trailing \\ in STRING argument") }
            let escape = body[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\n"): break
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): bytes.append(escape)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0c)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "n"): bytes.append(0x0a)
            case UInt8(ascii: "r"): bytes.append(0x0d)
            case UInt8(ascii: "v"): bytes.append(0x0b)
            case UInt8(ascii: "a"): bytes.append(0x07)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = UInt32(escape - 0x30)
                for _ in 0..<2 {
                    guard index < body.endIndex, body[index] >= 0x30, body[index] <= 0x37 else { break }
                    value = value * 8 + UInt32(body[index] - 0x30)
                    index += 1
                }
                bytes.append(UInt8(truncatingIfNeeded: value))
            case UInt8(ascii: "x"):
                guard index + 1 < body.endIndex, let high = Self.hexDigit(body[index]), let low = Self.hexDigit(body[index + 1]) else {
                    throw fail(.invalid, "invalid \\x escape in STRING argument")
                }
                bytes.append(UInt8(high << 4 | low))
                index += 2
            default:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(escape)
            }
        }
        return try ascii(bytes[...])
    }

    /// A `UNICODE` argument: `raw-unicode-escape` (Latin-1 bytes plus `\uXXXX` and `\UXXXXXXXX`).
    mutating func decodeRawUnicodeEscape(_ line: ArraySlice<UInt8>) throws(PickleError) -> String {
        var scalars = String.UnicodeScalarView()
        var index = line.startIndex
        while index < line.endIndex {
            let byte = line[index]
            index += 1
            guard byte == UInt8(ascii: "\\"), index < line.endIndex else {
                scalars.append(Unicode.Scalar(byte))
                continue
            }
            let kind = line[index]
            index += 1
            let count: Int
            switch kind {
            case UInt8(ascii: "u"): count = 4
            case UInt8(ascii: "U"): count = 8
            default:
                scalars.append("\\")
                scalars.append(Unicode.Scalar(kind))
                continue
            }
            var value: UInt32 = 0
            for _ in 0..<count {
                guard index < line.endIndex, let digit = Self.hexDigit(line[index]) else {
                    throw fail(.invalid, "truncated \\\(count == 4 ? "uXXXX" : "UXXXXXXXX") escape in UNICODE argument")
                }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            guard value <= 0x10FFFF else { throw fail(.invalid, "\\Uxxxxxxxx out of range in UNICODE argument") }
            guard let scalar = Unicode.Scalar(value) else {
                throw fail(.invalid, "str contains a lone surrogate, which Swift strings cannot hold")
            }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// An `INT` or `LONG` argument: optional sign and decimal digits.
    mutating func parseTextInteger(_ text: ArraySlice<UInt8>) throws(PickleError) -> PythonValue {
        var digits = text
        var negative = false
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw fail(.invalid, "invalid literal for int() in \(opcodeName) argument")
        }
        if digits.count > 1, digits.first == UInt8(ascii: "0"), digits.contains(where: { $0 != UInt8(ascii: "0") }) {
            throw fail(.invalid, "leading zeros in \(opcodeName) argument")
        }
        guard digits.count <= Self.maximumIntegerDigits else {
            throw fail(.limitExceeded, "integer of \(digits.count) digits exceeds the limit of \(Self.maximumIntegerDigits)")
        }
        if digits.count <= 18 {
            var value = 0
            for digit in digits { value = value * 10 + Int(digit - 0x30) }
            return .int(negative ? -value : value)
        }
        guard let big = PythonBigInt(decimal: String(decoding: text, as: UTF8.self)) else {
            throw fail(.invalid, "invalid literal for int() in \(opcodeName) argument")
        }
        if let small = big.int64 { return .int(Int(small)) }
        return .bigInt(big)
    }

    /// A `FLOAT` argument as `PyOS_string_to_double` reads it: decimal or `inf`/`infinity`/`nan`,
    /// optionally signed; overflow to infinity is an error.
    mutating func parseTextFloat(_ text: ArraySlice<UInt8>) throws(PickleError) -> Double {
        var index = text.startIndex
        if index < text.endIndex, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") { index += 1 }
        let rest = text[index...]
        let isSpecial = rest.count <= 8
            && ["inf", "infinity", "nan"].contains(String(decoding: rest, as: UTF8.self).lowercased())
        if !isSpecial {
            var mantissaDigits = 0
            while index < text.endIndex, Self.isDigit(text[index]) { index += 1; mantissaDigits += 1 }
            if index < text.endIndex, text[index] == UInt8(ascii: ".") {
                index += 1
                while index < text.endIndex, Self.isDigit(text[index]) { index += 1; mantissaDigits += 1 }
            }
            var valid = mantissaDigits > 0
            if valid, index < text.endIndex, text[index] == UInt8(ascii: "e") || text[index] == UInt8(ascii: "E") {
                index += 1
                if index < text.endIndex, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") { index += 1 }
                var exponentDigits = 0
                while index < text.endIndex, Self.isDigit(text[index]) { index += 1; exponentDigits += 1 }
                valid = exponentDigits > 0
            }
            guard valid, index == text.endIndex else {
                throw fail(.invalid, "could not convert string to float in FLOAT argument")
            }
        }
        guard let value = Double(String(decoding: text, as: UTF8.self)) else {
            throw fail(.invalid, "could not convert string to float in FLOAT argument")
        }
        if value.isInfinite && !isSpecial { throw fail(.invalid, "FLOAT argument out of range") }
        return value
    }

    /// A `PUT` or `GET` argument: a non-negative decimal index.
    mutating func parseMemoIndex(_ text: ArraySlice<UInt8>) throws(PickleError) -> Int {
        guard !text.isEmpty, text.count <= 18, text.allSatisfy(Self.isDigit) else {
            if text.first == UInt8(ascii: "-") { throw fail(.invalid, "negative \(opcodeName) argument") }
            throw fail(.invalid, "invalid \(opcodeName) argument")
        }
        var value = 0
        for digit in text { value = value * 10 + Int(digit - 0x30) }
        return value
    }

    /// A Python 2 `str` payload, which must be ASCII.
    mutating func ascii(_ bytes: ArraySlice<UInt8>) throws(PickleError) -> String {
        guard bytes.allSatisfy({ $0 < 0x80 }) else {
            throw fail(.invalid, "Python 2 str with non-ASCII bytes ('ascii' codec can't decode)")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A UTF-8 `str` payload; lone surrogates (CPython's `surrogatepass`) are refused.
    mutating func utf8(_ bytes: ArraySlice<UInt8>) throws(PickleError) -> String {
        let isASCII = bytes.withUnsafeBufferPointer { buffer in
            var combined: UInt8 = 0
            for byte in buffer { combined |= byte }
            return combined < 0x80
        }
        if isASCII { return String(decoding: bytes, as: UTF8.self) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw fail(.invalid, "str is not valid UTF-8 (or holds a lone surrogate, which Swift strings cannot hold)")
        }
        return text
    }

    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        case 0x41...0x46: byte - 0x41 + 10
        default: nil
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }
}
