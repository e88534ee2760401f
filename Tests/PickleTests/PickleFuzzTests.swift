import Pickle
import FuzzSupport
import Testing

/// Random and mutated inputs derived from every fixture: the decoders must return a value or a
/// typed error, never crash, hang or run away with memory (surviving the run is the assertion).
/// Deterministic: a failure message names the seed and the iteration that reproduce it.
@Suite("Decoder fuzzing")
struct PickleFuzzTests {
    /// Small limits, so that mutated length fields and bombs are cheap to refuse.
    static let limits = PickleLimits(
        maximumDepth: 32, maximumLength: 1 << 12, maximumMemoEntries: 256, maximumElements: 4096, maximumIntegerBytes: 512
    )

    /// Every opcode byte, so inserted bytes are often meaningful.
    static let opcodes: [UInt8] = Array(0x80...0x98) + Array("(.012FIJKLMNPQRSTUXabcde}ghijl]opqrst)uGBC".utf8)

    static let jsonTokens: [[UInt8]] = [
        "[", "]", "{", "}", "\"", ",", ":", "\\u", "\\ud83d", "\\", "NaN", "Infinity", "-", "1e999", "0.5", "null",
        "true", "12345678901234567890123", " ", "\u{1}", "é", "\u{FFFF}",
    ].map { Array($0.utf8) }

    /// Applies one to four random mutations.
    static func mutate(_ input: [UInt8], corpus: [[UInt8]], tokens: [[UInt8]], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0...random.below(4) {
            switch random.below(9) {
            case 0 where !bytes.isEmpty:  // bit flip
                bytes[random.below(bytes.count)] ^= UInt8(1) << UInt8(random.below(8))
            case 1:  // insert a byte or token
                let insertion = random.below(2) == 0 ? [UInt8(truncatingIfNeeded: random.next())] : tokens[random.below(tokens.count)]
                bytes.insert(contentsOf: insertion, at: random.below(bytes.count + 1))
            case 2 where !bytes.isEmpty:  // delete a run
                let start = random.below(bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + random.below(8)))
            case 3:  // splice a chunk of another input
                let other = corpus[random.below(corpus.count)]
                guard !other.isEmpty else { break }
                let start = random.below(other.count)
                let chunk = other[start..<min(other.count, start + 1 + random.below(64))]
                let at = random.below(bytes.count + 1)
                let end = min(bytes.count, at + random.below(64))
                bytes.replaceSubrange(at..<end, with: chunk)
            case 4:  // truncate
                bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
            case 5 where bytes.count > 1:  // a length field with a large value
                let width = [1, 2, 4, 8][random.below(4)]
                let at = random.below(bytes.count)
                let large: [UInt64] = [.max, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 1 << 32, 1 << 62, 0xff, 0x1_0000]
                let value = large[random.below(large.count)]
                for offset in 0..<width where at + offset < bytes.count {
                    bytes[at + offset] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(offset)))
                }
            case 6 where !bytes.isEmpty:  // duplicate a chunk
                let start = random.below(bytes.count)
                let chunk = bytes[start..<min(bytes.count, start + 1 + random.below(32))]
                bytes.insert(contentsOf: chunk, at: random.below(bytes.count + 1))
            case 7 where !bytes.isEmpty:  // overwrite with a token
                let token = tokens[random.below(tokens.count)]
                let at = random.below(bytes.count)
                bytes.replaceSubrange(at..<min(bytes.count, at + token.count), with: token)
            default:  // random bytes
                bytes = (0..<random.below(64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if random.below(2) == 0 { bytes.insert(contentsOf: [0x80, 0x05], at: 0) }
            }
        }
        return bytes
    }

    @Test func pickleDecoderSurvivesMutations() throws {
        let corpus = PickleFixture.all.map(\.pickle)
        try #require(corpus.count > 300)
        let seed: UInt64 = 0x5EED_0001
        var random = SplitMix64(seed: seed)
        let tokens = Self.opcodes.map { [$0] } + [[0x8c, 0xff], [0x58, 0xff, 0xff, 0xff, 0xff], [0x28, 0x28, 0x28], [0x68, 0x00], [0x94]]
        let clock = ContinuousClock()
        let start = clock.now
        let iterations = 120_000
        var decoded = 0
        var codes: [String: Int] = [:]
        for iteration in 0..<iterations {
            let input = Self.mutate(corpus[random.below(corpus.count)], corpus: corpus, tokens: tokens, &random)
            do {
                let value = try PickleDecoder.decode(input, limits: Self.limits)
                decoded += 1
                // Whatever decodes survives our own encoder unchanged.
                let again = try? PickleDecoder.decode(PickleEncoder.encode(value))
                if again != value {
                    Issue.record("seed \(seed) iteration \(iteration): re-encoding changed \(PythonRepr.repr(value).prefix(200))")
                }
            } catch {
                // The type system already guarantees a PickleError; check it is well formed.
                codes[error.code.description, default: 0] += 1
                if error.offset < 0 || error.offset > input.count || error.message.isEmpty {
                    Issue.record("seed \(seed) iteration \(iteration): malformed error \(error)")
                }
            }
        }
        let elapsed = clock.now - start
        print("pickle fuzz: \(iterations) inputs in \(elapsed), \(decoded) decoded, failures \(codes.sorted { $0.key < $1.key })")
        #expect(decoded > 1000)
        #expect(codes.count == 4, "every error code should occur: \(codes)")
    }

    @Test func jsonDecoderSurvivesMutations() throws {
        let corpus = PickleFixture.values.compactMap(\.json)
        try #require(corpus.count > 200)
        let seed: UInt64 = 0x5EED_0002
        var random = SplitMix64(seed: seed)
        let clock = ContinuousClock()
        let start = clock.now
        let iterations = 25_000
        var decoded = 0
        var codes: [String: Int] = [:]
        for iteration in 0..<iterations {
            let input = Self.mutate(corpus[random.below(corpus.count)], corpus: corpus, tokens: Self.jsonTokens, &random)
            do {
                let value = try PythonJSON.decode(input, maximumDepth: 32)
                decoded += 1
                let again = try? PythonJSON.decode(PythonJSON.encode(value))
                if again != value {
                    Issue.record("seed \(seed) iteration \(iteration): re-encoding changed \(PythonRepr.repr(value).prefix(200))")
                }
            } catch {
                codes[error.code.description, default: 0] += 1
                if error.offset < 0 || error.offset > input.count || error.message.isEmpty {
                    Issue.record("seed \(seed) iteration \(iteration): malformed error \(error)")
                }
            }
        }
        let elapsed = clock.now - start
        print("json fuzz: \(iterations) inputs in \(elapsed), \(decoded) decoded, failures \(codes.sorted { $0.key < $1.key })")
        #expect(decoded > 1000)
        #expect(codes["invalid", default: 0] > 1000)
    }
}
