/// An exact Python `int` of any size, for values that do not fit `Int64`.
///
/// The value is stored the way pickle's `LONG1`/`LONG4` opcodes carry it: two's complement,
/// little-endian, normalised to the minimal number of bytes (zero is the empty array, `-1` is
/// `[0xff]`, `128` is `[0x80, 0x00]`). Two values are equal exactly when their integers are equal.
public struct PythonBigInt: Sendable, Hashable, CustomStringConvertible {
    /// The integer as minimal two's-complement little-endian bytes (empty for zero).
    public let twosComplementLittleEndian: [UInt8]

    /// Creates a value from two's-complement little-endian bytes of any length (as in a pickle
    /// `LONG1`/`LONG4` payload); redundant sign bytes are dropped. An empty array is zero.
    public init(twosComplementLittleEndian bytes: [UInt8]) {
        twosComplementLittleEndian = Self.normalised(bytes)
    }

    /// Creates a value equal to `value`.
    public init(_ value: Int64) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8)
        var remaining = UInt64(bitPattern: value)
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: remaining))
            remaining >>= 8
        }
        twosComplementLittleEndian = Self.normalised(bytes)
    }

    /// Parses a decimal integer of any length: an optional `+` or `-` followed by one or more ASCII
    /// digits, nothing else (no spaces, underscores or prefixes). Returns `nil` for anything else.
    ///
    /// The conversion is quadratic in the number of digits; callers that read untrusted text should
    /// bound its length first (Python itself refuses more than 4300 digits by default).
    public init?(decimal: String) {
        var digits = Array(decimal.utf8)
        var negative = false
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            digits.removeFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var limbs: [UInt32] = []
        var index = 0
        let firstChunk = digits.count % 9 == 0 ? 9 : digits.count % 9
        var chunkLength = firstChunk
        while index < digits.count {
            var chunk: UInt32 = 0
            var scale: UInt32 = 1
            for offset in 0..<chunkLength {
                chunk = chunk * 10 + UInt32(digits[index + offset] - 0x30)
                scale *= 10
            }
            Self.multiplyAdd(&limbs, scale, chunk)
            index += chunkLength
            chunkLength = 9
        }
        self.init(magnitude: limbs, negative: negative)
    }

    /// The value as `Int64`, or `nil` when it does not fit.
    public var int64: Int64? {
        let bytes = twosComplementLittleEndian
        guard bytes.count <= 8 else { return nil }
        guard let last = bytes.last else { return 0 }
        var result: UInt64 = last & 0x80 != 0 ? ~0 : 0
        for byte in bytes.reversed() {
            result = (result << 8) | UInt64(byte)
        }
        return Int64(bitPattern: result)
    }

    /// Whether the value is below zero.
    public var isNegative: Bool {
        (twosComplementLittleEndian.last ?? 0) & 0x80 != 0
    }

    /// The exact decimal spelling, with a leading `-` for negative values (Python's `str(int)`).
    public var description: String {
        var limbs = magnitude
        if limbs.isEmpty { return "0" }
        var chunks: [UInt32] = []
        while !limbs.isEmpty {
            var remainder: UInt64 = 0
            for index in stride(from: limbs.count - 1, through: 0, by: -1) {
                let current = (remainder << 32) | UInt64(limbs[index])
                limbs[index] = UInt32(truncatingIfNeeded: current / 1_000_000_000)
                remainder = current % 1_000_000_000
            }
            chunks.append(UInt32(truncatingIfNeeded: remainder))
            while let last = limbs.last, last == 0 { limbs.removeLast() }
        }
        var text = isNegative ? "-" : ""
        text.reserveCapacity(chunks.count * 9 + 1)
        for (position, chunk) in chunks.reversed().enumerated() {
            let digits = String(chunk)
            if position > 0 { text += String(repeating: "0", count: 9 - digits.count) }
            text += digits
        }
        return text
    }

    // MARK: - Magnitude arithmetic

    /// Builds a value from an absolute value in 32-bit little-endian limbs and a sign.
    init(magnitude limbs: [UInt32], negative: Bool) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(limbs.count * 4 + 1)
        for limb in limbs {
            bytes.append(UInt8(truncatingIfNeeded: limb))
            bytes.append(UInt8(truncatingIfNeeded: limb >> 8))
            bytes.append(UInt8(truncatingIfNeeded: limb >> 16))
            bytes.append(UInt8(truncatingIfNeeded: limb >> 24))
        }
        bytes.append(0)  // sign byte: the magnitude is non-negative
        if negative { Self.negate(&bytes) }
        twosComplementLittleEndian = Self.normalised(bytes)
    }

    /// The absolute value as 32-bit little-endian limbs without leading zero limbs.
    var magnitude: [UInt32] {
        var bytes = twosComplementLittleEndian
        if isNegative {
            Self.negate(&bytes)
        }
        var limbs: [UInt32] = []
        limbs.reserveCapacity(bytes.count / 4 + 1)
        var index = 0
        while index < bytes.count {
            var limb: UInt32 = 0
            for offset in 0..<4 where index + offset < bytes.count {
                limb |= UInt32(bytes[index + offset]) << (8 * UInt32(offset))
            }
            limbs.append(limb)
            index += 4
        }
        while let last = limbs.last, last == 0 { limbs.removeLast() }
        return limbs
    }

    /// `limbs = limbs * factor + addend`.
    private static func multiplyAdd(_ limbs: inout [UInt32], _ factor: UInt32, _ addend: UInt32) {
        var carry = UInt64(addend)
        for index in limbs.indices {
            let product = UInt64(limbs[index]) * UInt64(factor) + carry
            limbs[index] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        if carry != 0 { limbs.append(UInt32(truncatingIfNeeded: carry)) }
    }

    /// Two's-complement negation in place (`~x + 1`), keeping the length.
    private static func negate(_ bytes: inout [UInt8]) {
        var carry = true
        for index in bytes.indices {
            let inverted = ~bytes[index]
            if carry {
                let (sum, overflow) = inverted.addingReportingOverflow(1)
                bytes[index] = sum
                carry = overflow
            } else {
                bytes[index] = inverted
            }
        }
    }

    /// Drops redundant sign-extension bytes; zero becomes the empty array.
    private static func normalised(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        while let last = bytes.last {
            if bytes.count == 1 {
                if last == 0 { bytes.removeLast() }
                break
            }
            let next = bytes[bytes.count - 2]
            if (last == 0x00 && next & 0x80 == 0) || (last == 0xff && next & 0x80 != 0) {
                bytes.removeLast()
            } else {
                break
            }
        }
        return bytes
    }
}
