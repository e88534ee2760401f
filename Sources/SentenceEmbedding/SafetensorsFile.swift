import Foundation

/// The float32 tensors of a `model.safetensors` file, read whole into memory.
///
/// The format: an 8-byte little-endian header length, a JSON header mapping each tensor name to
/// `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the end of the header),
/// then the raw little-endian data. Only `F32` tensors can be read as floats; others (BERT's
/// `position_ids`, `I64`) are listed but not needed.
public struct SafetensorsFile: Sendable {
    /// One tensor's place in the file.
    public struct Entry: Sendable, Equatable {
        /// `F32`, `I64`, …
        public var dtype: String
        /// The dimensions, outermost first.
        public var shape: [Int]
        /// Byte range within the data section.
        public var range: Range<Int>
    }

    /// The tensors by name.
    public let entries: [String: Entry]
    private let data: Data
    private let dataStart: Int

    /// Reads the file at `url`.
    public init(contentsOf url: URL) throws(SentenceEmbeddingError) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw SentenceEmbeddingError(.missingFile, "cannot read \(url.lastPathComponent)")
        }
        try self.init(data: data, name: url.lastPathComponent)
    }

    /// Reads a safetensors image; `name` is used in errors.
    public init(data: Data, name: String = "model.safetensors") throws(SentenceEmbeddingError) {
        guard data.count >= 8 else { throw SentenceEmbeddingError(.badFormat, "\(name) is too short") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8), headerLength <= 100_000_000 else {
            throw SentenceEmbeddingError(.badFormat, "\(name) has a header of \(headerLength) bytes")
        }
        let headerEnd = 8 + Int(headerLength)
        let header = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + headerEnd))
        guard let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw SentenceEmbeddingError(.badFormat, "\(name) has no JSON header")
        }
        var entries: [String: Entry] = [:]
        let available = data.count - headerEnd
        for (key, value) in object where key != "__metadata__" {
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int], offsets.count == 2,
                offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= available
            else { throw SentenceEmbeddingError(.badFormat, "\(name): tensor \(key) has a bad header entry") }
            entries[key] = Entry(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        self.entries = entries
        self.data = data
        self.dataStart = headerEnd
    }

    /// Tensor `name` as floats, checked against `shape`.
    public func floats(_ name: String, shape: [Int]) throws(SentenceEmbeddingError) -> [Float] {
        guard let entry = entries[name] else { throw SentenceEmbeddingError(.badTensor, "tensor \(name) is missing") }
        guard entry.dtype == "F32", entry.shape == shape else {
            throw SentenceEmbeddingError(.badTensor, "tensor \(name) is \(entry.dtype) \(entry.shape), expected F32 \(shape)")
        }
        let count = shape.reduce(1, *)
        guard entry.range.count == count * 4 else {
            throw SentenceEmbeddingError(.badTensor, "tensor \(name) has \(entry.range.count) bytes for \(count) floats")
        }
        let start = data.startIndex + dataStart + entry.range.lowerBound
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            data.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[(start - data.startIndex)..<(start - data.startIndex + count * 4)])
                for index in 0..<count {
                    buffer[index] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
                }
            }
            initialized = count
        }
    }
}
