import Foundation
import SentenceEmbedding
import Testing

/// The safetensors reader on files made here.
@Suite struct SafetensorsFileTests {
    func file(header: String, payload: [UInt8]) -> Data {
        var data = Data()
        var length = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: payload)
        return data
    }

    @Test func readsLittleEndianFloats() throws {
        let values: [Float] = [1.5, -2, 0.25, 1e-12]
        let payload = values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
        let data = file(header: #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#, payload: payload)
        let tensors = try SafetensorsFile(data: data)
        #expect(try tensors.floats("w", shape: [2, 2]) == values)
        #expect(throws: SentenceEmbeddingError.self) { try tensors.floats("w", shape: [4]) }
        #expect(throws: SentenceEmbeddingError.self) { try tensors.floats("missing", shape: [2, 2]) }
    }

    @Test func refusesLyingHeaders() {
        // Offsets past the end, a header longer than the file, no JSON, too short.
        let past = file(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, payload: [0, 0, 0, 0])
        #expect(throws: SentenceEmbeddingError.self) { try SafetensorsFile(data: past) }
        var long = file(header: "{}", payload: [])
        long[0] = 0xFF
        #expect(throws: SentenceEmbeddingError.self) { try SafetensorsFile(data: long) }
        #expect(throws: SentenceEmbeddingError.self) { try SafetensorsFile(data: file(header: "nope", payload: [])) }
        #expect(throws: SentenceEmbeddingError.self) { try SafetensorsFile(data: Data([1, 2, 3])) }
    }
}
