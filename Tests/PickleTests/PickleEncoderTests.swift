import Pickle
import Testing

/// Protocol 5 output spelled the way CPython spells it.
@Suite("Pickle encoder")
struct PickleEncoderTests {
    private func body(_ value: PythonValue) -> [UInt8] {
        let bytes = PickleEncoder.encode(value)
        #expect(bytes.prefix(2) == [0x80, 0x05])
        #expect(bytes.last == 0x2e)
        return Array(bytes.dropFirst(2).dropLast())
    }

    @Test func everyFixtureRoundTrips() throws {
        for fixture in PickleFixture.values {
            let value = try PickleDecoder.decode(fixture.pickle)
            #expect(try PickleDecoder.decode(PickleEncoder.encode(value)) == value, "\(fixture)")
        }
    }

    @Test func integersUseCPythonsOpcodes() throws {
        #expect(body(0) == [0x4b, 0x00])
        #expect(body(255) == [0x4b, 0xff])
        #expect(body(256) == [0x4d, 0x00, 0x01])
        #expect(body(65535) == [0x4d, 0xff, 0xff])
        #expect(body(65536) == [0x4a, 0x00, 0x00, 0x01, 0x00])
        #expect(body(-1) == [0x4a, 0xff, 0xff, 0xff, 0xff])
        #expect(body(.int(Int(Int32.min))) == [0x4a, 0x00, 0x00, 0x00, 0x80])
        #expect(body(.int(1 << 31)) == [0x8a, 0x05, 0x00, 0x00, 0x00, 0x80, 0x00])
        #expect(body(.int(-(1 << 31) - 1)) == [0x8a, 0x05, 0xff, 0xff, 0xff, 0x7f, 0xff])
        #expect(body(.int(Int.min)) == [0x8a, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x80])
        #expect(body(.int(Int.max)) == [0x8a, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
        let twoTo64 = try #require(PythonBigInt(decimal: "18446744073709551616"))
        #expect(body(.bigInt(twoTo64)) == [0x8a, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x01])
        // A bigInt that fits is written like the int.
        #expect(body(.bigInt(PythonBigInt(5))) == [0x4b, 0x05])
        let huge = PythonBigInt(twosComplementLittleEndian: [UInt8](repeating: 0x01, count: 300))
        #expect(Array(body(.bigInt(huge)).prefix(5)) == [0x8b, 0x2c, 0x01, 0x00, 0x00])
    }

    @Test func scalarsUseCPythonsOpcodes() {
        #expect(body(nil) == [0x4e])
        #expect(body(true) == [0x88])
        #expect(body(false) == [0x89])
        #expect(body(1.5) == [0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0])
        #expect(body("é") == [0x8c, 0x02, 0xc3, 0xa9])
        #expect(body(.string(String(repeating: "a", count: 255))).prefix(2) == [0x8c, 0xff])
        #expect(body(.string(String(repeating: "a", count: 256))).prefix(5) == [0x58, 0x00, 0x01, 0x00, 0x00])
        #expect(body(.bytes([1, 2])) == [0x43, 0x02, 0x01, 0x02])
        #expect(body(.bytes([UInt8](repeating: 7, count: 256))).prefix(5) == [0x42, 0x00, 0x01, 0x00, 0x00])
        #expect(body(.bytearray([9])) == [0x96, 1, 0, 0, 0, 0, 0, 0, 0, 9])
    }

    @Test func containersUseCPythonsBatching() {
        #expect(body(.tuple([])) == [0x29])
        #expect(body(.tuple([1])) == [0x4b, 1, 0x85])
        #expect(body(.tuple([1, 2])) == [0x4b, 1, 0x4b, 2, 0x86])
        #expect(body(.tuple([1, 2, 3])) == [0x4b, 1, 0x4b, 2, 0x4b, 3, 0x87])
        #expect(body(.tuple([1, 2, 3, 4])) == [0x28, 0x4b, 1, 0x4b, 2, 0x4b, 3, 0x4b, 4, 0x74])
        #expect(body([]) == [0x5d])
        #expect(body([1]) == [0x5d, 0x4b, 1, 0x61])
        #expect(body([1, 2]) == [0x5d, 0x28, 0x4b, 1, 0x4b, 2, 0x65])
        #expect(body([:]) == [0x7d])
        #expect(body(["k": 1]) == [0x7d, 0x8c, 1, 0x6b, 0x4b, 1, 0x73])
        #expect(body(.set([])) == [0x8f])
        #expect(body(.set([1])) == [0x8f, 0x28, 0x4b, 1, 0x90])
        #expect(body(.frozenset([])) == [0x28, 0x91])
        #expect(body(.frozenset([1])) == [0x28, 0x4b, 1, 0x91])

        let list = body(.list((0..<2500).map { _ in .none }))
        #expect(list.filter { $0 == 0x28 }.count == 3)
        #expect(list.filter { $0 == 0x65 }.count == 3)
        let dict = body(.dict((0..<1500).map { _ in PythonDictEntry(nil, nil) }))
        #expect(dict.filter { $0 == 0x75 }.count == 2)
        let set = body(.set((0..<2000).map { _ in .none }))
        #expect(set.filter { $0 == 0x90 }.count == 2)
    }

    @Test func roundTripsValuesPythonNeverWrote() throws {
        let values: [PythonValue] = [
            .string("\u{0}\u{10FFFF}🙂\r\n"), .float(.nan), .float(-0.0), .float(.infinity), .float(Double(bitPattern: 1)),
            .dict([PythonDictEntry(.tuple([1, "a"]), .set([1, 2])), PythonDictEntry(.frozenset(["x"]), .bytearray([]))]),
            .list([.list([.list([.tuple([.tuple([])])])])]),
            .bigInt(try #require(PythonBigInt(decimal: "-" + String(repeating: "9", count: 700)))),
        ]
        for value in values {
            #expect(try PickleDecoder.decode(PickleEncoder.encode(value)) == value, "\(PythonRepr.repr(value))")
        }
    }
}
