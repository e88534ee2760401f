/// The unpickler's input: bytes, lines and integers read with every length checked.
extension Unpickler {
    // MARK: - Reading

    var remaining: Int { input.count - position }

    mutating func readByte() throws(PickleError) -> UInt8 {
        guard position < input.count else { throw truncated(1) }
        let byte = input[position]
        position += 1
        return byte
    }

    mutating func readBytes(_ count: Int) throws(PickleError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw truncated(count) }
        let slice = input[position..<(position + count)]
        position += count
        return slice
    }

    mutating func readLittleEndian(_ width: Int) throws(PickleError) -> UInt64 {
        let bytes = try readBytes(width)
        var result: UInt64 = 0
        for byte in bytes.reversed() { result = (result << 8) | UInt64(byte) }
        return result
    }

    mutating func readBigEndian64() throws(PickleError) -> UInt64 {
        let bytes = try readBytes(8)
        var result: UInt64 = 0
        for byte in bytes { result = (result << 8) | UInt64(byte) }
        return result
    }

    /// The bytes up to (not including) the next `\n`, which is consumed.
    mutating func readLine() throws(PickleError) -> ArraySlice<UInt8> {
        guard let end = input[position...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw fail(.truncated, "pickle data was truncated (no newline after \(opcodeName)'s argument)")
        }
        let line = input[position..<end]
        position = end + 1
        return line
    }

    /// The argument of a numeric text opcode (`INT`, `LONG`, `FLOAT`, `PUT`, `GET`). CPython parses
    /// these as C strings, so a NUL byte ends the number and the rest of the line is ignored.
    mutating func readNumberLine() throws(PickleError) -> ArraySlice<UInt8> {
        Self.untilNUL(try readLine())
    }

    /// The bytes before the first NUL (all of them when there is none).
    static func untilNUL(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        if let nul = line.firstIndex(of: 0) { return line[..<nul] }
        return line
    }

    /// A declared str/bytes length, checked against the input left and ``PickleLimits/maximumLength``.
    mutating func checkedLength(_ length: UInt64) throws(PickleError) -> Int {
        guard length <= UInt64(remaining) else {
            throw fail(.truncated, "declared length \(length) but only \(remaining) bytes remain")
        }
        guard length <= UInt64(max(limits.maximumLength, 0)) else { throw tooLong(Int(length)) }
        return Int(length)
    }

    /// A `LONG1`/`LONG4` payload of `count` bytes.
    mutating func readInteger(_ count: Int) throws(PickleError) -> PythonValue {
        guard count <= remaining else {
            throw fail(.truncated, "declared length \(count) but only \(remaining) bytes remain")
        }
        guard count <= max(limits.maximumIntegerBytes, 0) else {
            throw fail(.limitExceeded, "integer of \(count) bytes exceeds the limit of \(limits.maximumIntegerBytes)")
        }
        let bytes = try readBytes(count)
        if bytes.count <= 8 {
            guard let last = bytes.last else { return .int(0) }
            var result: UInt64 = last & 0x80 != 0 ? ~0 : 0
            for byte in bytes.reversed() { result = (result << 8) | UInt64(byte) }
            return .int(Int(Int64(bitPattern: result)))
        }
        let big = PythonBigInt(twosComplementLittleEndian: Array(bytes))
        if let small = big.int64 { return .int(Int(small)) }
        return .bigInt(big)
    }

    // MARK: - Errors

    var opcodeName: String {
        PickleOpcode(rawValue: opcodeByte)?.name ?? Self.hexName(opcodeByte)
    }

    static func hexName(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0f)])
    }

    func fail(_ code: PickleError.Code, _ message: String) -> PickleError {
        PickleError(code, offset: opcodeOffset, opcode: opcodeName, message)
    }

    func truncated(_ needed: Int) -> PickleError {
        fail(.truncated, "pickle data was truncated (\(opcodeName) needs \(needed) more bytes, \(remaining) remain)")
    }

    func tooLong(_ length: Int) -> PickleError {
        fail(.limitExceeded, "length \(length) exceeds the limit of \(limits.maximumLength) bytes")
    }
}
