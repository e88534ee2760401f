import Foundation
import Providers

/// A deterministic, offline embedder: hashed lexical features, no model.
///
/// **Lexical, not semantic.** Texts score as similar when they share words, word pairs and word
/// fragments ("postgres" ~ "postgresql"); synonyms without shared spelling ("k8s" vs "Kubernetes")
/// do not match. Good enough to rank résumés against a job post offline, in tests and benchmarks;
/// use Gemini for meaning.
///
/// Features, from the lowercased text split into words (letters and digits, with a trailing
/// `+`/`#` kept for names like C++ and C#), a short English stop-word list left out:
/// - each word (weight 1),
/// - each pair of adjacent words (weight 0.5),
/// - the character 3-grams and 4-grams of each word padded with `<` `>` (weight 0.2 each).
///
/// Each feature is hashed with FNV-1a 64 (stable across processes and machines, unlike Swift's
/// seeded `Hasher`) and added with a hash-derived sign into one of ``dimensions`` buckets (the
/// signed hashing trick), weighted by `1 + ln(count)` (sublinear term frequency). The vector is
/// L2-normalised; a text without words gives the zero vector. ``EmbeddingTask`` is ignored: the
/// same text always gives the same vector.
public struct LocalEmbedder: Embedder {
    /// `local-hash-ngram-<dimensions>`.
    public var name: String { "local-hash-ngram-\(dimensions)" }
    /// The vector length. Default: 768, the same as the Gemini default so both fit one column.
    public let dimensions: Int

    /// An embedder producing `dimensions`-long vectors (at least 1).
    public init(dimensions: Int = 768) {
        self.dimensions = max(1, dimensions)
    }

    /// One vector per text, in order. Never throws.
    public func embed(_ texts: [String], task: EmbeddingTask) async throws(ProviderError) -> [[Float]] {
        texts.map(vector(for:))
    }

    /// The vector of one text (synchronous; see the type's documentation).
    public func vector(for text: String) -> [Float] {
        let words = Self.words(in: text)
        var features: [UInt64] = []
        features.reserveCapacity(words.count * 16)
        var previous: [UInt32]?
        for word in words {
            features.append(Self.hash(tag: 1, word))
            if let previous {
                var pair = previous
                pair.append(0x20)
                pair.append(contentsOf: word)
                features.append(Self.hash(tag: 2, pair))
            }
            previous = word
            let padded = [0x3C] + word + [0x3E]  // <word>
            for length in 3...4 where padded.count >= length {
                for start in 0...(padded.count - length) {
                    features.append(Self.hash(tag: UInt8(length), padded[start..<(start + length)]))
                }
            }
        }
        // Sort so equal features are adjacent (counting without a Dictionary) and the sum runs in
        // the same order on every run: bit-for-bit identical vectors.
        features.sort()
        var vector = [Double](repeating: 0, count: dimensions)
        var index = 0
        while index < features.count {
            let feature = features[index]
            var end = index + 1
            while end < features.count && features[end] == feature { end += 1 }
            let count = Double(end - index)
            let tag = UInt8(truncatingIfNeeded: feature & 0x7)
            let weight = tag == 1 ? 1.0 : tag == 2 ? 0.5 : 0.2
            let bucket = Int((feature >> 3) % UInt64(dimensions))
            let sign: Double = feature >> 63 == 0 ? 1 : -1
            vector[bucket] += sign * weight * (1 + log(count))
            index = end
        }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return [Float](repeating: 0, count: dimensions) }
        return vector.map { Float($0 / norm) }
    }

    /// FNV-1a 64 over the tag byte and each code point's four little-endian bytes; the tag is
    /// also kept in the low three bits so the weight can be recovered after sorting.
    static func hash(tag: UInt8, _ scalars: some Sequence<UInt32>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        let prime: UInt64 = 0x0000_0100_0000_01B3
        hash = (hash ^ UInt64(tag)) &* prime
        for value in scalars {
            hash = (hash ^ UInt64(value & 0xFF)) &* prime
            hash = (hash ^ UInt64((value >> 8) & 0xFF)) &* prime
            hash = (hash ^ UInt64((value >> 16) & 0xFF)) &* prime
            hash = (hash ^ UInt64(value >> 24)) &* prime
        }
        return (hash & ~0x7) | UInt64(tag & 0x7)
    }

    /// Lowercased words as code points, stop words removed.
    static func words(in text: String) -> [[UInt32]] {
        var words: [[UInt32]] = []
        var current: [UInt32] = []
        func finish() {
            if !current.isEmpty {
                if !stopWords.contains(current) { words.append(current) }
                current.removeAll(keepingCapacity: true)
            }
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                switch value {
                case 0x61...0x7A, 0x30...0x39: current.append(value)
                case 0x41...0x5A: current.append(value + 0x20)
                case 0x2B where !current.isEmpty, 0x23 where !current.isEmpty: current.append(value)  // c++, c#
                default: finish()
                }
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                if scalar.properties.changesWhenLowercased {
                    current.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars.map(\.value))
                } else {
                    current.append(value)
                }
            } else if scalar.properties.generalCategory == .nonspacingMark {
                current.append(value)
            } else {
                finish()
            }
        }
        finish()
        return words
    }

    private static let stopWords: Set<[UInt32]> = Set(
        [
            "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "i", "in", "is", "it",
            "its", "of", "on", "or", "our", "that", "the", "their", "this", "to", "was", "we", "were", "with", "you",
            "your",
        ].map { $0.unicodeScalars.map(\.value) })
}
