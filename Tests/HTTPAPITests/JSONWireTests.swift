import ApplicationStore
import Foundation
import FuzzSupport
@testable import HTTPAPI
import Testing

/// The API's JSON on the wire: ``JSONRequestReader`` accepts what Foundation's
/// `JSONSerialization` accepted when it read job post bodies, and ``OrderedJSONEncoder`` writes
/// typed responses in declaration order with the API's fixed formats.
@Suite struct JSONWireTests {
    /// What `JSONSerialization` made of `bytes` as the API used it: `nil` unless a JSON object;
    /// else each member that is a string, or `"<not a string>"`.
    static func foundation(_ bytes: [UInt8]) -> [String: String]? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { return nil }
        return object.mapValues { ($0 as? String) ?? "<not a string>" }
    }

    static func ours(_ bytes: [UInt8]) -> [String: String]? {
        guard case .object(let members)? = JSONRequestReader.parse(bytes) else { return nil }
        var values: [String: String] = [:]
        for (key, value) in members {
            if case .string(let text) = value { values[key] = text } else { values[key] = "<not a string>" }
        }
        return values
    }

    static let corpus: [String] = [
        #"{"title":"a","title":"b"}"#, #"{"title":"\ud800"}"#, #"{"title":"\udc00x"}"#, #"{"title":1e999}"#, #"{"a":-1e999}"#,
        #"{"title":12345678901234567890123}"#, #"[1]"#, #""x""#, "", " ", "\u{FEFF}{\"title\":\"a\"}", #"{"title":"a"} x"#, #"{"title":"a"}  "#,
        #"{"title":NaN}"#, #"{"title":"a",}"#, #"{"title":"\u0000"}"#, #"{"title":[1,2,]}"#, #"{"title":{"a":1}}"#, #"{"title":true}"#,
        #"{"title":null}"#, #"{}"#, #"{"a":-}"#, #"{"title":"a\u00e9"}"#, #"{"title":"\/"}"#, "{\"title\":\"\u{7}\"}", "{\"title\":\"a\tb\"}",
        "{\"title\":\"a\u{7F}b\"}", #"{"title":01}"#, #"{"a":-01}"#, #"{"a":-0}"#, #"{"a":0.5e-3}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":1E+5}"#,
        #"{"a":1e}"#, #"{"a":1.5.5}"#, #"{"title":"\x"}"#, #"{"a":Infinity}"#, #"{'a':1}"#, "{\"a\":1}\n", "\r\n\t{\"a\":\"b\"}\r\n\t",
        #"{"a":"\ud83d\ude00"}"#, #"{"a":"\ud83dx"}"#, #"{"a":"\ud83d\u0041"}"#, #"{"a":"\u00"}"#, #"{"a":"\u00zz"}"#, #"{"a":tru}"#, #"{"a":nul}"#,
        #"{"a" :1 , "b" : 2}"#, #"{"a":1e309}"#, #"{"a":1e-400}"#, #"{"a":123456789012345678901234567890e100}"#, #"{"a":[,]}"#, #"{,}"#,
        #"{"a":1,,"b":2}"#, #"{"a"}"#, #"{"a":}"#, #"{"a":1"b":2}"#, #"{"a":"\""}"#, #"{"a":"\\"}"#, #"{"a":"\b\f\n\r\t"}"#, #"{"a":[[[]]]}"#,
        #"{"a":true,"b":false,"c":null}"#, #"{"a":"x"}garbage"#, #"{"title":"SENIOR","seniority_level":" lead "}"#, "{\"\u{0}\":1}",
        "{\"a\": \"\u{2028}\"}", #"{"a":-1.5E-10}"#, #"{"a":18446744073709551616}"#, #"{"a":-9223372036854775809}"#, #"{"a":[1,2"#, #"{"a":"b"#,
    ]

    static func cases() -> [[UInt8]] {
        var bodies = corpus.map { Array($0.utf8) }
        bodies.append(Array((String(repeating: "[", count: 511) + String(repeating: "]", count: 511)).utf8))
        bodies.append(Array(("{\"a\":" + String(repeating: "[", count: 511) + String(repeating: "]", count: 511) + "}").utf8))
        bodies.append(Array(("{\"a\":" + String(repeating: "[", count: 512) + String(repeating: "]", count: 512) + "}").utf8))
        // UTF-16 and UTF-32 without a byte order mark (zero bytes are valid UTF-8).
        for text in [#"{"title":"a"}"#, "{}", #"{"t":"é"}"#] {
            for encoding: String.Encoding in [.utf16LittleEndian, .utf16BigEndian, .utf32LittleEndian, .utf32BigEndian] {
                bodies.append(Array(text.data(using: encoding)!))
            }
        }
        bodies.append(Array("{\0}\0".utf8))
        bodies.append(Array("\0{\0}".utf8))
        bodies.append(Array("{}\0\0".utf8))
        return bodies
    }

    @Test func acceptsWhatJSONSerializationAccepted() {
        for body in Self.cases() {
            #expect(Self.ours(body) == Self.foundation(body), "\(String(decoding: body, as: UTF8.self).debugDescription)")
        }
    }

    @Test func mutatedBodiesAgreeWithJSONSerialization() {
        var random = SplitMix64(seed: 53)
        let seeds = Self.corpus.map { Array($0.utf8) }
            + [Array(#"{"title": "Senior Swift engineer", "description": "Server-side Swift\nand PostgreSQL", "seniority_level": "SENIOR"}"#.utf8)]
        var agreedObjects = 0
        for iteration in 0..<4_000 {
            let body = ByteMutator.mutate(seeds[random.below(seeds.count)], &random)
            guard String(validating: body, as: UTF8.self) != nil else { continue }  // the route refuses it before reading
            let expected = Self.foundation(body)
            #expect(Self.ours(body) == expected, "iteration \(iteration): \(String(decoding: body, as: UTF8.self).debugDescription)")
            if expected != nil { agreedObjects += 1 }
        }
        #expect(agreedObjects > 50)
    }

    @Test func decodesTypedRequestsFromWhatWasRead() throws {
        let body = Array(#"{"title": 5, "title": " T ", "description": null, "extra": [1, {"x": "\ud83d\ude00"}]}"#.utf8)
        let request = try #require(JSONRequestReader.decodeObject(JobPostRequest.self, from: body))
        #expect(request.title == .string(" T "))
        #expect(request.description == nil || request.description == .null)
        #expect(request.seniorityLevel == nil)
        #expect(JSONRequestReader.decodeObject(JobPostRequest.self, from: Array("[]".utf8)) == nil)
        #expect(JSONRequestReader.decodeObject(JobPostRequest.self, from: Array(#"{"title": 01}"#.utf8)) == nil)
        #expect(JSONRequestReader.decodeObject(JobPostRequest.self, from: Array(#"{"title": 1}"#.utf8))?.title == .notAString)
    }

    // MARK: Encoding

    struct Sample: Encodable {
        var zeta: Int
        var alpha: String?
        var middle: Double
        var when: Date?
        var id: UUID
        var level: SeniorityLevel
        var raw: RawJSON
        var nested: [Nested]

        struct Nested: Encodable {
            var b: Bool
            var a: Float?
        }
    }

    @Test func keysInDeclaredOrderWithTheAPIsFormats() throws {
        let id = UUID(uuidString: "0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9")!
        let sample = Sample(
            zeta: -3, alpha: nil, middle: 3, when: Date(timeIntervalSince1970: 1_800_000_000.123456), id: id, level: .lead,
            raw: RawJSON(bytes: Array(#"{"b": [1, 2.5]}"#.utf8)), nested: [Sample.Nested(b: true, a: 0.5), Sample.Nested(b: false, a: nil)])
        let text = String(decoding: try OrderedJSONEncoder().encode(sample), as: UTF8.self)
        #expect(text == #"{"zeta":-3,"alpha":null,"middle":3.0,"when":"2027-01-15T08:00:00.123456Z","id":"0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9","#
                    + #""level":"LEAD","raw":{"b": [1, 2.5]},"nested":[{"b":true,"a":0.5},{"b":false,"a":null}]}"#)
        // The same bytes every time (Foundation's JSONEncoder changes its key order between runs).
        for _ in 0..<20 { #expect(String(decoding: try OrderedJSONEncoder().encode(sample), as: UTF8.self) == text) }
    }

    @Test func numbersAndStringEscapes() throws {
        let encoder = OrderedJSONEncoder()
        #expect(try encoder.encode([0.1, 1e20, 3.0, 1.5e-7, -0.0, .nan, .infinity]) == Array(#"[0.1,1e+20,3.0,1.5e-07,-0.0,null,null]"#.utf8))
        #expect(try encoder.encode([Int.min, Int.max]) == Array("[\(Int.min),\(Int.max)]".utf8))
        #expect(try encoder.encode([UInt64.max]) == Array("[18446744073709551615]".utf8))
        let text = "q\"b\\n\nr\rt\tc\u{1}d\u{7F}e\u{1F}/é\u{2028}😀"
        #expect(String(decoding: try encoder.encode([text]), as: UTF8.self) == #"["q\"b\\n\nr\rt\tc\u0001d\u007fe\u001f/é"# + "\u{2028}😀\"]")
        #expect(try encoder.encode(["b": 1]) == Array(#"{"b":1}"#.utf8))
    }

    @Test func errorEnvelopeSortsFieldsAndOmitsThemWhenAbsent() throws {
        let encoder = OrderedJSONEncoder()
        let error = APIError.validation(["z": "2", "a": "1", "m": "\"3\""])
        #expect(String(decoding: try encoder.encode(error.body), as: UTF8.self)
                    == #"{"error":{"code":"validation_failed","message":"the request has invalid fields","fields":{"a":"1","m":"\"3\"","z":"2"}}}"#)
        #expect(String(decoding: try encoder.encode(APIError.notFound("gone").body), as: UTF8.self) == #"{"error":{"code":"not_found","message":"gone"}}"#)
    }

    @Test func rawJSONNeedsTheOrderedEncoder() {
        #expect(throws: EncodingError.self) { _ = try JSONEncoder().encode([RawJSON(bytes: Array("1".utf8))]) }
    }
}
