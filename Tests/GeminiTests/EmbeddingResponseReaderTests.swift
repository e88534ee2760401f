import FakeGemini
import Foundation
import Gemini
import Logging
import Providers
import TestSupport
import Testing

/// The fast reader of Gemini answers must agree with `JSONDecoder` wherever it answers, and
/// decline (so `JSONDecoder` decides) on everything else.
@Suite("Gemini answer reader")
struct EmbeddingResponseReaderTests {
    private struct Values: Decodable { var values: [Float] }
    private struct Single: Decodable { var embedding: Values }
    private struct Batch: Decodable { var embeddings: [Values] }

    /// Random floats as Gemini prints them, in compact and in pretty-printed layout.
    private func bodies(vectors: [[Float]], batch: Bool) -> [String] {
        func array(_ values: [Float], _ separator: String) -> String { "[" + values.map { "\($0)" }.joined(separator: separator) + "]" }
        if batch {
            return [
                #"{"embeddings":["# + vectors.map { #"{"values":"# + array($0, ",") + "}" }.joined(separator: ",") + "]}",
                "{\n  \"embeddings\": [\n" + vectors.map { "    {\n      \"values\": " + array($0, ",\n        ") + "\n    }" }.joined(separator: ",\n") + "\n  ]\n}\n",
            ]
        }
        return [
            #"{"embedding":{"values":"# + array(vectors[0], ",") + "}}",
            "{\r\n\t\"embedding\" : {\n    \"values\" : " + array(vectors[0], " ,\n      ") + "\n  }\n}",
        ]
    }

    @Test func agreesWithJSONDecoderOnRandomVectors() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let count = round == 0 ? 0 : 768
            let vectors = (0..<(1 + round % 3)).map { _ in
                (0..<count).map { _ in Float.random(in: -1...1, using: &generator) * (Bool.random() ? 1 : 1e-6) }
            }
            for body in bodies(vectors: vectors, batch: true) {
                let fast = try #require(EmbeddingResponseReader.vectors(in: Data(body.utf8), batch: true), "declined: \(body.prefix(80))")
                #expect(fast == (try JSONDecoder().decode(Batch.self, from: Data(body.utf8))).embeddings.map(\.values))
                #expect(fast == vectors)
            }
            for body in bodies(vectors: vectors, batch: false) {
                let fast = try #require(EmbeddingResponseReader.vectors(in: Data(body.utf8), batch: false), "declined: \(body.prefix(80))")
                #expect(fast == [(try JSONDecoder().decode(Single.self, from: Data(body.utf8))).embedding.values])
                #expect(fast == [vectors[0]])
            }
        }
        // Exponents, negative zero, integers: all JSON numbers.
        let numbers = #"{"embedding":{"values":[0,-0,1,-1,1e-3,1E+2,-2.5e-7,12345.678,0.000001]}}"#
        #expect(EmbeddingResponseReader.vectors(in: Data(numbers.utf8), batch: false)
                == [(try JSONDecoder().decode(Single.self, from: Data(numbers.utf8))).embedding.values])
    }

    @Test(arguments: [
        #"{"embedding":{"values":[0.1,0.2]},"usageMetadata":{"tokens":3}}"#,  // another key
        #"{"embedding":{"values":[0.1,0.2],"truncated":false}}"#,
        #"{"embedd\u0069ng":{"values":[0.1]}}"#,  // an escaped key
        #"{"embedding":{"values":[01]}}"#,  // numbers outside JSON's grammar
        #"{"embedding":{"values":[1.]}}"#,
        #"{"embedding":{"values":[.5]}}"#,
        #"{"embedding":{"values":[+1]}}"#,
        #"{"embedding":{"values":[NaN]}}"#,
        #"{"embedding":{"values":[1e39]}}"#,  // not finite as a Float
        #"{"embedding":{"values":["0.1"]}}"#,
        #"{"embedding":{"values":[0.1,]}}"#,
        #"{"embedding":{"values":[0.1]}} x"#,  // trailing bytes
        #"{"embedding":{"values":[0.1]}"#,  // cut short
        #"{"embeddings":[{"values":[0.1]}]}"#,  // the batch shape for a single call
        "",
    ])
    func declinesEverythingElse(body: String) {
        #expect(EmbeddingResponseReader.vectors(in: Data(body.utf8), batch: false) == nil)
    }

    @Test func declinesTheSingleShapeForABatch() {
        #expect(EmbeddingResponseReader.vectors(in: Data(#"{"embedding":{"values":[0.1]}}"#.utf8), batch: true) == nil)
        #expect(EmbeddingResponseReader.vectors(in: Data(#"{"embeddings":[{"values":[0.1]},]}"#.utf8), batch: true) == nil)
        #expect(EmbeddingResponseReader.vectors(in: Data(#"{"embeddings":[]}"#.utf8), batch: true) == [])
    }

    @Test func embedderFallsBackToJSONDecoderForOtherShapes() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        // An answer with a key the fast reader does not know: JSONDecoder reads it.
        let values = (0..<768).map { Float($0 % 7) - 3 }
        let body = #"{"embedding":{"values":["# + values.map { "\($0)" }.joined(separator: ",") + #"]},"usageMetadata":{"promptTokenCount":3}}"#
        server.script(.respond(status: 200, headers: [:], body: body))
        var configuration = GeminiConfiguration(apiKey: server.apiKey, baseURL: server.baseURL)
        configuration.requestTimeout = .seconds(120)
        configuration.deadline = .seconds(300)
        let vectors = try await GeminiEmbedder(configuration: configuration, logger: TestEnvironment.logger).embed(["x"], task: .document)
        let norm = values.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        let expected = values.map { Float(Double($0) / norm) }
        #expect(vectors.count == 1)
        #expect(zip(vectors[0], expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}
