import Pickle
import Testing

/// Accessors, literals, equality, and exact big integers.
@Suite("Python values")
struct PythonValueTests {
    @Test func accessorsAndLiterals() {
        let value: PythonValue = ["name": "x", "count": 3, "ratio": 0.5, "ok": true, "none": nil, "items": [1, 2]]
        #expect(value["name"] == "x")
        #expect(value["name"]?.stringValue == "x")
        #expect(value["count"]?.intValue == 3)
        #expect(value["ratio"] == .float(0.5))
        #expect(value["ok"] == .bool(true))
        #expect(value["none"] == PythonValue.none)
        #expect(value["items"]?.arrayValue == [1, 2])
        #expect(value["missing"] == nil)
        #expect(value.dictEntries?.map(\.key) == ["name", "count", "ratio", "ok", "none", "items"])
        #expect(PythonValue.tuple([1]).arrayValue == [1])
        #expect(PythonValue.set([1]).arrayValue == nil)
        #expect(PythonValue.bool(true).intValue == nil)
        #expect(PythonValue.string("x").intValue == nil)
        #expect(PythonValue.int(1)["x"] == nil)
    }

    @Test func equalityIsStructural() throws {
        #expect(PythonValue.float(.nan) == .float(.nan))
        #expect(PythonValue.float(0.0) != .float(-0.0))
        #expect(PythonValue.int(1) != .float(1))
        #expect(PythonValue.int(1) != .bool(true))
        #expect(PythonValue.bigInt(PythonBigInt(7)) == .int(7))
        #expect(PythonValue.list([1]) != .tuple([1]))
        #expect(Set<PythonValue>([.float(.nan), .float(.nan), .bigInt(PythonBigInt(7)), .int(7)]).count == 2)
    }

    @Test func bigIntegers() throws {
        #expect(PythonBigInt(0).twosComplementLittleEndian == [])
        #expect(PythonBigInt(-1).twosComplementLittleEndian == [0xff])
        #expect(PythonBigInt(128).twosComplementLittleEndian == [0x80, 0x00])
        #expect(PythonBigInt(-128).twosComplementLittleEndian == [0x80])
        #expect(PythonBigInt(twosComplementLittleEndian: [0x05, 0x00, 0x00]).twosComplementLittleEndian == [0x05])
        #expect(PythonBigInt(twosComplementLittleEndian: [0xff, 0xff, 0xff]).description == "-1")
        #expect(PythonBigInt(Int64.min).description == "-9223372036854775808")
        #expect(PythonBigInt(Int64.min).int64 == Int64.min)
        #expect(PythonBigInt(decimal: "+00012")?.int64 == 12)
        #expect(PythonBigInt(decimal: "-0")?.int64 == 0)
        for bad in ["", "-", "1 ", " 1", "1_000", "0x10", "1.0", "--1", "١"] {
            #expect(PythonBigInt(decimal: bad) == nil, "\(bad)")
        }
        let digits = "123456789" + String(repeating: "0", count: 91) + "7"
        let big = try #require(PythonBigInt(decimal: digits))
        #expect(big.description == digits)
        #expect(big.int64 == nil)
        #expect(try #require(PythonBigInt(decimal: "-" + digits)).description == "-" + digits)
        // 2**100 from Python's pickle: LONG1 with 13 bytes.
        let twoTo100 = PythonBigInt(twosComplementLittleEndian: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10])
        #expect(twoTo100.description == "1267650600228229401496703205376")
    }

    @Test func largeIntegerConversionIsFastEnough() throws {
        // The decoder's default maximumIntegerBytes (64 KiB) keeps description affordable.
        let clock = ContinuousClock()
        let start = clock.now
        let value = PythonBigInt(twosComplementLittleEndian: [UInt8](repeating: 0x5a, count: 8 << 10))
        let text = value.description
        #expect(PythonBigInt(decimal: text) == value)
        #expect(clock.now - start < .seconds(10))
    }
}
