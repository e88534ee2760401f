/// SplitMix64: a tiny deterministic generator, so a failing fuzz input reproduces from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (`bound` > 0).
    public mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(max(bound, 1)))
    }
}

/// Byte-level mutations for fuzzing decoders: bit flips, inserted and deleted bytes, truncation,
/// length fields overwritten with large values, and fresh random bytes.
public enum ByteMutator {
    /// One to three mutations of `input`.
    public static func mutate(_ input: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0...(random.next() % 3) {
            switch random.next() % 6 {
            case 0 where !bytes.isEmpty:
                bytes[random.below(bytes.count)] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
            case 1:
                bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: random.below(bytes.count + 1))
            case 2 where !bytes.isEmpty:
                bytes.remove(at: random.below(bytes.count))
            case 3:
                bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
            case 4 where bytes.count > 9:
                let index = random.below(bytes.count - 8)
                for offset in 0..<8 { bytes[index + offset] = 0xff }
            default:
                bytes = (0..<random.below(96)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
        }
        return bytes
    }
}
