import Pickle
import Testing

/// `json.dumps` / `json.loads` with Python's defaults.
@Suite("Python JSON")
struct PythonJSONTests {
    private func text(_ value: PythonValue) throws -> String {
        String(decoding: try PythonJSON.encode(value), as: UTF8.self)
    }

    private func decode(_ text: String, maximumDepth: Int = 200) throws(PythonJSONError) -> PythonValue {
        try PythonJSON.decode(Array(text.utf8), maximumDepth: maximumDepth)
    }

    private func failure(_ text: String, maximumDepth: Int = 200) -> PythonJSONError? {
        do {
            let value = try decode(text, maximumDepth: maximumDepth)
            Issue.record("expected an error for \(text.prefix(80)), got \(PythonRepr.repr(value).prefix(80))")
            return nil
        } catch {
            return error
        }
    }

    @Test func fixturesEncodeByteForByte() throws {
        var count = 0
        for fixture in PickleFixture.values {
            guard let json = fixture.json else { continue }
            let value = try PickleDecoder.decode(fixture.pickle)
            #expect(try PythonJSON.encode(value) == json, "\(fixture)")
            let decoded = try PythonJSON.decode(json)
            #expect(PythonRepr.repr(decoded) == fixture.jsonRepr, "\(fixture)")
            #expect(try PythonJSON.encode(decoded) == json, "\(fixture)")
            count += 1
        }
        #expect(count > 200)
    }

    @Test func nonJSONFixturesAreRejectedLikePython() throws {
        for fixture in PickleFixture.values where fixture.json == nil {
            let value = try PickleDecoder.decode(fixture.pickle)
            #expect(throws: PythonJSONError.self, "\(fixture)") { try PythonJSON.encode(value) }
        }
    }

    @Test func encodesLikeJSONDumps() throws {
        #expect(try text(["a": [1, 2.5, nil, true], "b": .tuple(["x"])]) == #"{"a": [1, 2.5, null, true], "b": ["x"]}"#)
        #expect(try text(.string("é\u{1F600}\"\\\n\r\t\u{8}\u{c}\u{1}\u{7f}/")) == #""\u00e9\ud83d\ude00\"\\\n\r\t\b\f\u0001\u007f/""#)
        #expect(try text(.float(.nan)) == "NaN")
        #expect(try text([.float(.infinity), .float(-.infinity), .float(-0.0), .float(1e16), .float(1e-5), .float(100)])
            == "[Infinity, -Infinity, -0.0, 1e+16, 1e-05, 100.0]")
        #expect(try text(.dict([
            PythonDictEntry(1, "a"), PythonDictEntry(true, "b"), PythonDictEntry(nil, "c"), PythonDictEntry(2.5, "d"),
            PythonDictEntry(.float(.nan), "e"), PythonDictEntry(.bigInt(try #require(PythonBigInt(decimal: "-99999999999999999999"))), "f"),
        ])) == #"{"1": "a", "true": "b", "null": "c", "2.5": "d", "NaN": "e", "-99999999999999999999": "f"}"#)
        #expect(try text([]) == "[]")
        #expect(try text([:]) == "{}")
        #expect(try text(.tuple([])) == "[]")
    }

    @Test func refusesWhatPythonRefuses() throws {
        for value: PythonValue in [.bytes([1]), .bytearray([]), .set([]), .frozenset([1]), [1, .bytes([])]] {
            #expect(throws: PythonJSONError.self) { try PythonJSON.encode(value) }
        }
        do {
            _ = try PythonJSON.encode(["ok": 1, "bad": .set([1])])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .unsupportedType)
            #expect(error.message == "Object of type set is not JSON serializable")
            #expect(error.offset == 17)
        }
        do {
            _ = try PythonJSON.encode(.dict([PythonDictEntry(.tuple([1]), 1)]))
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "keys must be str, int, float, bool or None, not tuple")
        }
        // CPython refuses to print integers of more than 4300 digits.
        let big = try #require(PythonBigInt(decimal: String(repeating: "9", count: 4301)))
        #expect(throws: PythonJSONError.self) { try PythonJSON.encode(.bigInt(big)) }
        let fits = try #require(PythonBigInt(decimal: String(repeating: "9", count: 4300)))
        #expect(try text(.bigInt(fits)).count == 4300)
    }

    @Test func decodesLikeJSONLoads() throws {
        #expect(try decode(#"{"a": 1, "b": [true, false, null], "a": 2}"#) == ["a": 2, "b": [true, false, nil]])
        #expect(try decode("[NaN, Infinity, -Infinity, -0, -0.0, 1E2, 1e-2]")
            == [.float(.nan), .float(.infinity), .float(-.infinity), 0, .float(-0.0), 100.0, 0.01])
        #expect(try decode("9223372036854775807") == .int(Int.max))
        #expect(try decode("-9223372036854775808") == .int(Int.min))
        #expect(try decode("9223372036854775808") == .bigInt(try #require(PythonBigInt(decimal: "9223372036854775808"))))
        #expect(try decode(#""\u00e9\ud83d\ude00\/\b""#) == "é😀/\u{8}")
        #expect(try decode(" \t\r\n\"x\" \n") == "x")
        #expect(try decode("1e400") == .float(.infinity))
        var many = "{"
        for index in 0..<100 { many += "\"k\(index % 30)\": \(index), " }
        many += "\"end\": 0}"
        let entries = try #require(try decode(many).dictEntries)
        #expect(entries.count == 31)
        #expect(entries[0] == PythonDictEntry("k0", 90))
        #expect(entries.last == PythonDictEntry("end", 0))
    }

    @Test func reportsErrorsWithOffsets() {
        let cases: [(String, Int)] = [
            ("", 0), ("[1,]", 3), ("[1 2]", 3), (#"{"a" 1}"#, 5), ("{a: 1}", 1), ("01", 1), ("1.", 1), ("-", 0),
            ("\"abc", 0), ("\"a\u{1}\"", 2), ("nul", 0), ("[", 1), (#"{"a": 1,}"#, 8), (#""\x""#, 1),
            (#""\u12""#, 1), ("\u{FEFF}[]", 0), ("[1] x", 4), (#""\ud800""#, 1),
        ]
        for (document, offset) in cases {
            let error = failure(document)
            #expect(error?.code == .invalid, "\(document)")
            #expect(error?.offset == offset, "\(document): \(String(describing: error))")
        }
        // Invalid UTF-8 inside a string.
        do {
            _ = try PythonJSON.decode([0x22, 0xc3, 0x28, 0x22])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalid)
        }
    }

    @Test func enforcesDepthAndDigitLimits() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(failure(deep)?.code == .limitExceeded)
        let nested = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect(failure(nested, maximumDepth: 9)?.code == .limitExceeded)
        #expect((try? decode(nested, maximumDepth: 10)) != nil)
        let objects = String(repeating: #"{"a": "#, count: 300) + "1" + String(repeating: "}", count: 300)
        #expect(failure(objects)?.code == .limitExceeded)
        #expect(failure(String(repeating: "7", count: 4301))?.code == .limitExceeded)
        #expect((try? decode(String(repeating: "7", count: 4300))) != nil)
    }
}
