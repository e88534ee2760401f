import Foundation

/// Reads a JSON request body into a ``JSONNode`` and decodes typed requests from it.
///
/// It accepts exactly what the API accepted when it read bodies with Foundation's
/// `JSONSerialization.jsonObject(with:)` (a test compares the two on many inputs): a UTF-8 byte
/// order mark is skipped, UTF-16 and UTF-32 without one are recognised by their zero bytes, numbers
/// follow RFC 8259 and must fit a `Double`, strings must not hold raw control characters, escapes
/// must be valid (a high surrogate needs its low one), a trailing comma before `]` or `}` is
/// allowed, nesting stops at 512 levels, and a key given twice keeps its last value.
///
/// Foundation's `JSONDecoder` alone is not that strict on Linux (it accepts `01`, raw tabs in
/// strings, lone surrogates and numbers that overflow, and keeps a repeated key's first value), so
/// a body is read here first and only the canonical text of what was read reaches `JSONDecoder`.
enum JSONRequestReader {
    /// The deepest nesting of arrays and objects accepted.
    static let maximumDepth = 512

    /// `bytes` decoded as `T`, which must be a JSON object; `nil` when the body is not JSON, not an
    /// object, or does not decode as `T`.
    static func decodeObject<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) -> T? {
        guard let document = parse(bytes), case .object = document else { return nil }
        // What was read is valid and canonical (no repeated keys), so JSONDecoder reads it as read.
        return try? JSONDecoder().decode(T.self, from: Data(document.bytes))
    }

    /// The document, or `nil` when it is not a JSON array or object.
    static func parse(_ bytes: [UInt8]) -> JSONNode? {
        guard let text = utf8Text(bytes) else { return nil }
        var parser = Parser(bytes: text)
        guard let document = parser.document() else { return nil }
        switch document {
        case .array, .object: return document
        default: return nil
        }
    }

    /// The body as UTF-8: without a UTF-8 byte order mark, or converted from the UTF-16 or UTF-32
    /// that its zero bytes betray (as Foundation guesses it).
    static func utf8Text(_ bytes: [UInt8]) -> [UInt8]? {
        if bytes.count >= 2, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return Array(bytes.dropFirst(3)) }
        var encoding: String.Encoding?
        if bytes.count >= 4 {
            switch (bytes[0], bytes[1], bytes[2], bytes[3]) {
            case (0, 0, 0, _): encoding = .utf32BigEndian
            case (_, 0, 0, 0): encoding = .utf32LittleEndian
            case (0, _, 0, _): encoding = .utf16BigEndian
            case (_, 0, _, 0): encoding = .utf16LittleEndian
            default: break
            }
        } else if bytes.count >= 2 {
            switch (bytes[0], bytes[1]) {
            case (0, _): encoding = .utf16BigEndian
            case (_, 0): encoding = .utf16LittleEndian
            default: break
            }
        }
        guard let encoding else { return bytes }
        return String(bytes: bytes, encoding: encoding).map { Array($0.utf8) }
    }

    /// A recursive-descent reader over UTF-8 bytes.
    struct Parser {
        let bytes: [UInt8]
        var index = 0
        var depth = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        /// One value with only whitespace around it.
        mutating func document() -> JSONNode? {
            skipWhitespace()
            guard let value = value() else { return nil }
            skipWhitespace()
            return index == bytes.count ? value : nil
        }

        private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        private mutating func value() -> JSONNode? {
            switch current {
            case UInt8(ascii: "\"")?: return string().map(JSONNode.string)
            case UInt8(ascii: "{")?: return object()
            case UInt8(ascii: "[")?: return array()
            case UInt8(ascii: "t")?: return literal("true", .bool(true))
            case UInt8(ascii: "f")?: return literal("false", .bool(false))
            case UInt8(ascii: "n")?: return literal("null", .null)
            case UInt8(ascii: "-")?, (UInt8(ascii: "0")...UInt8(ascii: "9"))?: return number()
            default: return nil
            }
        }

        private mutating func literal(_ word: String, _ node: JSONNode) -> JSONNode? {
            let expected = Array(word.utf8)
            guard bytes.count - index >= expected.count, bytes[index..<(index + expected.count)].elementsEqual(expected) else { return nil }
            index += expected.count
            return node
        }

        private mutating func object() -> JSONNode? {
            guard depth < JSONRequestReader.maximumDepth else { return nil }
            depth += 1
            defer { depth -= 1 }
            index += 1
            var members: [(String, JSONNode)] = []
            var positions: [String: Int] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                guard current == UInt8(ascii: "\""), let key = string() else { return nil }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { return nil }
                index += 1
                skipWhitespace()
                guard let value = value() else { return nil }
                if let position = positions[key] {
                    members[position].1 = value
                } else {
                    positions[key] = members.count
                    members.append((key, value))
                }
                skipWhitespace()
                switch current {
                case UInt8(ascii: "}")?:
                    index += 1
                    return .object(members)
                case UInt8(ascii: ",")?:
                    index += 1
                    skipWhitespace()
                    if current == UInt8(ascii: "}") {
                        index += 1
                        return .object(members)
                    }
                default:
                    return nil
                }
            }
        }

        private mutating func array() -> JSONNode? {
            guard depth < JSONRequestReader.maximumDepth else { return nil }
            depth += 1
            defer { depth -= 1 }
            index += 1
            var items: [JSONNode] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                guard let value = value() else { return nil }
                items.append(value)
                skipWhitespace()
                switch current {
                case UInt8(ascii: "]")?:
                    index += 1
                    return .array(items)
                case UInt8(ascii: ",")?:
                    index += 1
                    skipWhitespace()
                    if current == UInt8(ascii: "]") {
                        index += 1
                        return .array(items)
                    }
                default:
                    return nil
                }
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, finite as a `Double`.
        private mutating func number() -> JSONNode? {
            let start = index
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, isDigit(first) else { return nil }
            index += 1
            if first != UInt8(ascii: "0") {
                while let byte = current, isDigit(byte) { index += 1 }
            }
            if current == UInt8(ascii: ".") {
                index += 1
                guard digits() else { return nil }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard digits() else { return nil }
            }
            // A digit straight after a leading zero (`01`) is refused here, not read as two values.
            if let byte = current, isDigit(byte) { return nil }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard let value = Double(text), value.isFinite else { return nil }
            return .number(text)
        }

        private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        /// One or more digits.
        private mutating func digits() -> Bool {
            let start = index
            while let byte = current, isDigit(byte) { index += 1 }
            return index > start
        }

        private mutating func string() -> String? {
            index += 1
            var out: [UInt8] = []
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return String(validating: out, as: UTF8.self)
                case 0..<0x20:
                    return nil
                case UInt8(ascii: "\\"):
                    index += 1
                    guard let escape = current else { return nil }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let scalar = unicodeEscape() else { return nil }
                        out += String(Character(scalar)).utf8
                    default: return nil
                    }
                default:
                    out.append(byte)
                    index += 1
                }
            }
            return nil
        }

        /// The scalar of `XXXX` (after `\u`), or of a surrogate pair `XXXX\uYYYY`.
        private mutating func unicodeEscape() -> Unicode.Scalar? {
            guard let unit = hexQuad() else { return nil }
            guard unit & 0xFC00 == 0xD800 else { return Unicode.Scalar(unit) }
            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
            index += 2
            guard let low = hexQuad(), low & 0xFC00 == 0xDC00 else { return nil }
            return Unicode.Scalar((UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00) + 0x10000)
        }

        private mutating func hexQuad() -> UInt16? {
            guard bytes.count - index >= 4 else { return nil }
            var value: UInt16 = 0
            for byte in bytes[index..<(index + 4)] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt16(digit)
            }
            index += 4
            return value
        }
    }
}
