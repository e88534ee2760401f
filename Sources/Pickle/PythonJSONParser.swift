/// The recursive-descent reader behind ``PythonJSON/decode(_:maximumDepth:)``, following the
/// grammar of CPython's `json.scanner` (strict mode: no control characters inside strings).
/// Recursion is bounded by `maximumDepth`.
struct PythonJSONParser {
    let input: [UInt8]
    let maximumDepth: Int
    var position = 0
    var depth = 0

    init(input: [UInt8], maximumDepth: Int) {
        self.input = input
        self.maximumDepth = maximumDepth
    }

    mutating func parseDocument() throws(PythonJSONError) -> PythonValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard position == input.count else { throw failure("Extra data") }
        return value
    }

    // MARK: - Values

    private mutating func parseValue() throws(PythonJSONError) -> PythonValue {
        guard position < input.count else { throw failure("Expecting value") }
        switch input[position] {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "n"):
            try expect("null")
            return .none
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "N"):
            try expect("NaN")
            return .float(.nan)
        case UInt8(ascii: "I"):
            try expect("Infinity")
            return .float(.infinity)
        case UInt8(ascii: "-"):
            if position + 1 < input.count, input[position + 1] == UInt8(ascii: "I") {
                try expect("-Infinity")
                return .float(-.infinity)
            }
            return try parseNumber()
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            throw failure("Expecting value")
        }
    }

    private mutating func expect(_ word: String) throws(PythonJSONError) {
        let bytes = Array(word.utf8)
        guard input.count - position >= bytes.count, input[position..<(position + bytes.count)].elementsEqual(bytes) else {
            throw failure("Expecting value")
        }
        position += bytes.count
    }

    private mutating func enterContainer() throws(PythonJSONError) {
        depth += 1
        guard depth <= maximumDepth else {
            throw PythonJSONError(.limitExceeded, offset: position, "nesting deeper than \(maximumDepth)")
        }
    }

    private mutating func parseArray() throws(PythonJSONError) -> PythonValue {
        try enterContainer()
        position += 1
        var items: [PythonValue] = []
        skipWhitespace()
        if position < input.count, input[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .list(items)
        }
        while true {
            items.append(try parseValue())
            skipWhitespace()
            guard position < input.count else { throw failure("Expecting ',' delimiter") }
            if input[position] == UInt8(ascii: "]") {
                position += 1
                break
            }
            guard input[position] == UInt8(ascii: ",") else { throw failure("Expecting ',' delimiter") }
            position += 1
            skipWhitespace()
        }
        depth -= 1
        return .list(items)
    }

    private mutating func parseObject() throws(PythonJSONError) -> PythonValue {
        try enterContainer()
        position += 1
        var entries: [PythonDictEntry] = []
        var index: [String: Int]?
        skipWhitespace()
        if position < input.count, input[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .dict(entries)
        }
        while true {
            guard position < input.count, input[position] == UInt8(ascii: "\"") else {
                throw failure("Expecting property name enclosed in double quotes")
            }
            let key = try parseString()
            skipWhitespace()
            guard position < input.count, input[position] == UInt8(ascii: ":") else { throw failure("Expecting ':' delimiter") }
            position += 1
            skipWhitespace()
            let value = try parseValue()
            // dict(pairs): a repeated key keeps its first position and takes the last value.
            var existing: Int?
            if let index {
                existing = index[key]
            } else {
                existing = entries.firstIndex { $0.key.stringValue == key }
            }
            if let existing {
                entries[existing].value = value
            } else {
                entries.append(PythonDictEntry(.string(key), value))
                if index != nil {
                    index?[key] = entries.count - 1
                } else if entries.count > 8 {
                    var built: [String: Int] = [:]
                    for (position, entry) in entries.enumerated() {
                        if let text = entry.key.stringValue { built[text] = position }
                    }
                    index = built
                }
            }
            skipWhitespace()
            guard position < input.count else { throw failure("Expecting ',' delimiter") }
            if input[position] == UInt8(ascii: "}") {
                position += 1
                break
            }
            guard input[position] == UInt8(ascii: ",") else { throw failure("Expecting ',' delimiter") }
            position += 1
            skipWhitespace()
        }
        depth -= 1
        return .dict(entries)
    }

    // MARK: - Strings

    /// A string starting at the opening quote.
    private mutating func parseString() throws(PythonJSONError) -> String {
        let start = position
        position += 1
        var buffer: [UInt8] = []
        while true {
            let runStart = position
            while position < input.count {
                let byte = input[position]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                position += 1
            }
            if buffer.isEmpty, position < input.count, input[position] == UInt8(ascii: "\"") {
                // No escapes: make the string straight from the input.
                let text = try Self.string(input[runStart..<position], start: start)
                position += 1
                return text
            }
            buffer.append(contentsOf: input[runStart..<position])
            guard position < input.count else {
                throw PythonJSONError(.invalid, offset: start, "Unterminated string starting at offset \(start)")
            }
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                break
            }
            if byte < 0x20 { throw failure("Invalid control character") }
            // Backslash escape.
            guard position + 1 < input.count else {
                throw PythonJSONError(.invalid, offset: start, "Unterminated string starting at offset \(start)")
            }
            let escape = input[position + 1]
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0c)
            case UInt8(ascii: "n"): buffer.append(0x0a)
            case UInt8(ascii: "r"): buffer.append(0x0d)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hexQuad(at: position + 2)
                var consumed = 6
                if code >= 0xd800 && code <= 0xdbff {
                    if position + 7 < input.count, input[position + 6] == UInt8(ascii: "\\"), input[position + 7] == UInt8(ascii: "u"),
                       let low = try? hexQuad(at: position + 8), low >= 0xdc00 && low <= 0xdfff {
                        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)
                        consumed = 12
                    }
                }
                guard let scalar = Unicode.Scalar(code) else {
                    throw failure("lone surrogate \\u\(String(code, radix: 16)) cannot be represented in a Swift string")
                }
                buffer.append(contentsOf: String(scalar).utf8)
                position += consumed
                continue
            default:
                throw failure("Invalid \\escape")
            }
            position += 2
        }
        return try Self.string(buffer[...], start: start)
    }

    /// UTF-8 bytes as a string (ASCII needs no validation pass of its own).
    private static func string(_ bytes: ArraySlice<UInt8>, start: Int) throws(PythonJSONError) -> String {
        let isASCII = bytes.withUnsafeBufferPointer { buffer in
            var combined: UInt8 = 0
            for byte in buffer { combined |= byte }
            return combined < 0x80
        }
        if isASCII { return String(decoding: bytes, as: UTF8.self) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PythonJSONError(.invalid, offset: start, "string is not valid UTF-8")
        }
        return text
    }

    /// Four hex digits at `offset`.
    private func hexQuad(at offset: Int) throws(PythonJSONError) -> UInt32 {
        guard offset + 4 <= input.count else { throw failure("Invalid \\uXXXX escape") }
        var value: UInt32 = 0
        for index in offset..<(offset + 4) {
            let byte = input[index]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x61...0x66: digit = byte - 0x61 + 10
            case 0x41...0x46: digit = byte - 0x41 + 10
            default: throw failure("Invalid \\uXXXX escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    // MARK: - Numbers

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`; a fraction or exponent makes a float.
    private mutating func parseNumber() throws(PythonJSONError) -> PythonValue {
        let start = position
        if input[position] == UInt8(ascii: "-") { position += 1 }
        guard position < input.count, isDigit(input[position]) else {
            position = start
            throw failure("Expecting value")
        }
        if input[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while position < input.count, isDigit(input[position]) { position += 1 }
        }
        let integerEnd = position
        var isFloat = false
        if position + 1 < input.count, input[position] == UInt8(ascii: "."), isDigit(input[position + 1]) {
            position += 2
            while position < input.count, isDigit(input[position]) { position += 1 }
            isFloat = true
        }
        if position < input.count, input[position] == UInt8(ascii: "e") || input[position] == UInt8(ascii: "E") {
            var cursor = position + 1
            if cursor < input.count, input[cursor] == UInt8(ascii: "+") || input[cursor] == UInt8(ascii: "-") { cursor += 1 }
            if cursor < input.count, isDigit(input[cursor]) {
                while cursor < input.count, isDigit(input[cursor]) { cursor += 1 }
                position = cursor
                isFloat = true
            }
        }
        let text = input[start..<position]
        if isFloat {
            guard let number = Double(String(decoding: text, as: UTF8.self)) else {
                throw PythonJSONError(.invalid, offset: start, "invalid number")
            }
            return .float(number)
        }
        let negative = input[start] == UInt8(ascii: "-")
        let digits = input[(negative ? start + 1 : start)..<integerEnd]
        if digits.count <= 18 {
            var value = 0
            for digit in digits { value = value * 10 + Int(digit - 0x30) }
            return .int(negative ? -value : value)
        }
        guard digits.count <= PythonJSON.maximumIntegerDigits else {
            throw PythonJSONError(.limitExceeded, offset: start,
                                  "Exceeds the limit (\(PythonJSON.maximumIntegerDigits) digits) for integer string conversion: value has \(digits.count) digits")
        }
        guard let big = PythonBigInt(decimal: String(decoding: text, as: UTF8.self)) else {
            throw PythonJSONError(.invalid, offset: start, "invalid number")
        }
        if let small = big.int64 { return .int(Int(small)) }
        return .bigInt(big)
    }

    // MARK: - Helpers

    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x09, 0x0a, 0x0d: position += 1
            default: return
            }
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }

    private func failure(_ message: String) -> PythonJSONError {
        PythonJSONError(.invalid, offset: position, message)
    }
}
