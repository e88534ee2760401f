import Foundation

/// Reads the vectors out of a Gemini `embedContent` / `batchEmbedContents` answer without
/// `JSONDecoder`, for the plain shapes the API sends:
///
/// - `{"embedding": {"values": [n, …]}}`
/// - `{"embeddings": [{"values": [n, …]}, …]}`
///
/// with any JSON whitespace between tokens. Anything else — another key, an escaped key, a number
/// outside JSON's grammar, a value that is not finite as a `Float` — returns `nil`, and the caller
/// decodes with `JSONDecoder` instead, so the reader only ever changes speed, never outcome.
/// (`JSONDecoder` spends about 0.6 ms on one 768-float answer; this reader about a tenth of that.)
public enum EmbeddingResponseReader {
    /// The vectors of a single (`batch == false`) or batch answer, or `nil` when the body is not
    /// one of the plain shapes above.
    public static func vectors(in body: Data, batch: Bool) -> [[Float]]? {
        body.withUnsafeBytes { raw -> [[Float]]? in
            var reader = Cursor(bytes: raw.bindMemory(to: UInt8.self))
            guard reader.consume(UInt8(ascii: "{")) else { return nil }
            var vectors: [[Float]] = []
            if batch {
                guard reader.consumeKey("embeddings"), reader.consume(UInt8(ascii: "[")) else { return nil }
                if !reader.consume(UInt8(ascii: "]")) {
                    repeat {
                        guard reader.consume(UInt8(ascii: "{")), reader.consumeKey("values"),
                              let values = reader.numbers(), reader.consume(UInt8(ascii: "}")) else { return nil }
                        vectors.append(values)
                    } while reader.consume(UInt8(ascii: ","))
                    guard reader.consume(UInt8(ascii: "]")) else { return nil }
                }
            } else {
                guard reader.consumeKey("embedding"), reader.consume(UInt8(ascii: "{")), reader.consumeKey("values"),
                      let values = reader.numbers(), reader.consume(UInt8(ascii: "}")) else { return nil }
                vectors.append(values)
            }
            guard reader.consume(UInt8(ascii: "}")), reader.atEnd else { return nil }
            return vectors
        }
    }

    /// A position in the body; every `consume` skips JSON whitespace first.
    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var atEnd: Bool {
            mutating get {
                skipWhitespace()
                return index == bytes.count
            }
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// `"name"` then `:`; the name has no escapes.
        mutating func consumeKey(_ name: StaticString) -> Bool {
            guard consume(UInt8(ascii: "\"")) else { return false }
            let count = name.utf8CodeUnitCount
            guard bytes.count - index > count else { return false }
            for offset in 0..<count where bytes[index + offset] != name.utf8Start[offset] { return false }
            index += count
            guard bytes[index] == UInt8(ascii: "\"") else { return false }
            index += 1
            return consume(UInt8(ascii: ":"))
        }

        /// `[n, n, …]` of JSON numbers, each finite as a `Float`.
        mutating func numbers() -> [Float]? {
            guard consume(UInt8(ascii: "[")) else { return nil }
            var values: [Float] = []
            values.reserveCapacity(768)
            if consume(UInt8(ascii: "]")) { return values }
            repeat {
                guard let value = number() else { return nil }
                values.append(value)
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]")) ? values : nil
        }

        /// One number in JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
        mutating func number() -> Float? {
            skipWhitespace()
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                skipDigits()
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { return nil }
                skipDigits()
            }
            if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard index < bytes.count, isDigit(bytes[index]) else { return nil }
                skipDigits()
            }
            // Up to 15 bytes make a small (inline) string: no allocation for the usual numbers.
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let value = Float(text), value.isFinite else { return nil }
            return value
        }

        mutating func skipDigits() {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }
}
