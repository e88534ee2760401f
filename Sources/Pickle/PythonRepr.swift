/// Python's `repr()` of a ``PythonValue``, character for character (RQ builds job descriptions
/// from it).
///
/// `str` quoting follows `unicode_repr`: single quotes unless the text contains `'` and no `"`;
/// backslash, the quote, `\t`, `\n`, `\r` escaped; other non-printable characters as `\xNN`,
/// `\uNNNN` or `\UNNNNNNNN`. Printability follows `str.isprintable`: characters in the Unicode
/// categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs (except the ASCII space) are escaped, judged by
/// Swift's Unicode tables, which can be newer than CPython 3.11's (Unicode 14) for recently
/// assigned characters. Integers beyond 4300 digits are printed in full (CPython would refuse).
public enum PythonRepr {
    /// `repr(value)` as Python prints it.
    public static func repr(_ value: PythonValue) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(32)
        write(value, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static func write(_ value: PythonValue, to output: inout [UInt8]) {
        switch value {
        case .none: output.append(contentsOf: "None".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "True" : "False").utf8)
        case .int(let number): output.append(contentsOf: String(number).utf8)
        case .bigInt(let number): output.append(contentsOf: number.description.utf8)
        case .float(let number): output.append(contentsOf: PythonFloatFormat.repr(number).utf8)
        case .string(let text): writeString(text, to: &output)
        case .bytes(let bytes): writeBytes(bytes, to: &output)
        case .bytearray(let bytes):
            output.append(contentsOf: "bytearray(".utf8)
            writeBytes(bytes, to: &output)
            output.append(UInt8(ascii: ")"))
        case .list(let items):
            output.append(UInt8(ascii: "["))
            writeItems(items, to: &output)
            output.append(UInt8(ascii: "]"))
        case .tuple(let items):
            output.append(UInt8(ascii: "("))
            writeItems(items, to: &output)
            if items.count == 1 { output.append(UInt8(ascii: ",")) }
            output.append(UInt8(ascii: ")"))
        case .dict(let entries):
            output.append(UInt8(ascii: "{"))
            for (position, entry) in entries.enumerated() {
                if position > 0 { output.append(contentsOf: ", ".utf8) }
                write(entry.key, to: &output)
                output.append(contentsOf: ": ".utf8)
                write(entry.value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        case .set(let items):
            if items.isEmpty {
                output.append(contentsOf: "set()".utf8)
            } else {
                output.append(UInt8(ascii: "{"))
                writeItems(items, to: &output)
                output.append(UInt8(ascii: "}"))
            }
        case .frozenset(let items):
            if items.isEmpty {
                output.append(contentsOf: "frozenset()".utf8)
            } else {
                output.append(contentsOf: "frozenset({".utf8)
                writeItems(items, to: &output)
                output.append(contentsOf: "})".utf8)
            }
        }
    }

    private static func writeItems(_ items: [PythonValue], to output: inout [UInt8]) {
        for (position, item) in items.enumerated() {
            if position > 0 { output.append(contentsOf: ", ".utf8) }
            write(item, to: &output)
        }
    }

    private static func writeString(_ text: String, to output: inout [UInt8]) {
        var hasSingle = false
        var hasDouble = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: "'") { hasSingle = true } else if byte == UInt8(ascii: "\"") { hasDouble = true }
        }
        let quote = hasSingle && !hasDouble ? UInt8(ascii: "\"") : UInt8(ascii: "'")
        output.append(quote)
        for scalar in text.unicodeScalars {
            let code = scalar.value
            switch code {
            case UInt32(quote), 0x5c:
                output.append(UInt8(ascii: "\\"))
                output.append(UInt8(code))
            case 0x09: output.append(contentsOf: "\\t".utf8)
            case 0x0a: output.append(contentsOf: "\\n".utf8)
            case 0x0d: output.append(contentsOf: "\\r".utf8)
            case 0x20..<0x7f: output.append(UInt8(code))
            case 0..<0x20, 0x7f: appendHex(code, prefix: "\\x", width: 2, to: &output)
            default:
                if isPrintable(scalar) {
                    output.append(contentsOf: UTF8.encode(scalar) ?? UTF8.EncodedScalar())
                } else if code <= 0xff {
                    appendHex(code, prefix: "\\x", width: 2, to: &output)
                } else if code <= 0xffff {
                    appendHex(code, prefix: "\\u", width: 4, to: &output)
                } else {
                    appendHex(code, prefix: "\\U", width: 8, to: &output)
                }
            }
        }
        output.append(quote)
    }

    private static func writeBytes(_ bytes: [UInt8], to output: inout [UInt8]) {
        let hasSingle = bytes.contains(UInt8(ascii: "'"))
        let hasDouble = bytes.contains(UInt8(ascii: "\""))
        let quote = hasSingle && !hasDouble ? UInt8(ascii: "\"") : UInt8(ascii: "'")
        output.append(UInt8(ascii: "b"))
        output.append(quote)
        for byte in bytes {
            switch byte {
            case quote, UInt8(ascii: "\\"):
                output.append(UInt8(ascii: "\\"))
                output.append(byte)
            case UInt8(ascii: "\t"): output.append(contentsOf: "\\t".utf8)
            case UInt8(ascii: "\n"): output.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"): output.append(contentsOf: "\\r".utf8)
            case 0x20..<0x7f: output.append(byte)
            default: appendHex(UInt32(byte), prefix: "\\x", width: 2, to: &output)
            }
        }
        output.append(quote)
    }

    /// `str.isprintable()` for one character outside ASCII.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
            return false
        case .spaceSeparator:
            return scalar == " "
        default:
            return true
        }
    }

    private static func appendHex(_ value: UInt32, prefix: StaticString, width: Int, to output: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        output.append(contentsOf: UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
        for shift in stride(from: 4 * (width - 1), through: 0, by: -4) {
            output.append(digits.utf8Start[Int((value >> UInt32(shift)) & 0xf)])
        }
    }
}
