import Pickle
import Testing

/// CPython's own pickles decode to the values Python printed, and hostile input fails cleanly.
@Suite("Pickle decoder")
struct PickleDecoderTests {
    /// Decodes `bytes`, expecting failure; returns the error.
    private func failure(_ bytes: [UInt8], limits: PickleLimits = PickleLimits()) -> PickleError? {
        do {
            let value = try PickleDecoder.decode(bytes, limits: limits)
            Issue.record("expected an error, decoded \(PythonRepr.repr(value).prefix(200))")
            return nil
        } catch {
            return error
        }
    }

    @Test func fixturesArePresent() {
        #expect(PickleFixture.values.count > 300)
        #expect(PickleFixture.all.filter(\.isRefused).count == 8)
        #expect(PickleFixture.all.filter(\.isCyclic).count == 2)
        for protocolVersion in [0, 2, 4, 5] {
            #expect(PickleFixture.values.contains { $0.name.hasSuffix("_p\(protocolVersion)") })
        }
    }

    @Test func everyFixtureDecodesToPythonsRepr() throws {
        for fixture in PickleFixture.values {
            let expected = try #require(fixture.repr, "\(fixture)")
            let value = try PickleDecoder.decode(fixture.pickle)
            #expect(PythonRepr.repr(value) == expected, "\(fixture)")
        }
    }

    @Test func refusedFixturesNameTheOpcode() throws {
        for fixture in PickleFixture.all where fixture.isRefused {
            let error = try #require(failure(fixture.pickle), "\(fixture)")
            #expect(error.code == .unsupportedOpcode, "\(fixture)")
            #expect(error.opcode == fixture.refusedOpcode, "\(fixture)")
            #expect(error.offset == fixture.refusedOffset, "\(fixture)")
            #expect(error.description.contains(error.opcode ?? "?"), "\(fixture)")
        }
    }

    @Test func osSystemIsRefusedAtTheGlobal() throws {
        let fixture = try #require(PickleFixture.all.first { $0.name == "refused_os_system" })
        let error = try #require(failure(fixture.pickle))
        #expect(error.code == .unsupportedOpcode)
        #expect(error.opcode == "GLOBAL")
        #expect(error.offset == 0)
    }

    @Test func cyclicFixturesAreRejected() throws {
        for fixture in PickleFixture.all where fixture.isCyclic {
            let error = try #require(failure(fixture.pickle), "\(fixture)")
            #expect(error.code == .invalid, "\(fixture)")
            #expect(error.message.contains("contains itself"), "\(fixture)")
        }
    }

    @Test func decodesTheRQCallShape() throws {
        let fixture = try #require(PickleFixture.all.first { $0.name == "rq_call_p5" })
        let value = try PickleDecoder.decode(fixture.pickle)
        #expect(value == .tuple([
            "app.workers.async_resume_processor.process_resume_async", nil, .tuple(["a1b2", "c3d4"]), [:],
        ]))
        let parts = try #require(value.arrayValue)
        #expect(parts[0].stringValue == "app.workers.async_resume_processor.process_resume_async")
        #expect(parts[3].dictEntries == [])
    }

    @Test func normalisesIntegersToInt() throws {
        let cases: [(String, PythonValue)] = [
            ("int_2p63m1_p5", .int(Int.max)), ("int_neg2p63_p5", .int(Int.min)),
            ("int_2p31_p2", .int(1 << 31)), ("handmade_long1_padded", .int(5)), ("handmade_long1_neg1", .int(-1)),
            ("int_2p63_p5", .bigInt(try #require(PythonBigInt(decimal: "9223372036854775808")))),
            ("int_neg2p63m1_p0", .bigInt(try #require(PythonBigInt(decimal: "-9223372036854775809")))),
        ]
        for (name, expected) in cases {
            let fixture = try #require(PickleFixture.all.first { $0.name == name }, "\(name)")
            let value = try PickleDecoder.decode(fixture.pickle)
            #expect(value == expected, "\(name)")
            if case .int = expected { #expect(value.intValue != nil, "\(name)") }
            if case .bigInt = expected, case .bigInt = value {} else if case .bigInt = expected {
                Issue.record("\(name) should be .bigInt")
            }
        }
    }

    @Test func sharedContainersSeeLaterMutation() throws {
        // ]q0 (TUPLE1) q1 h0 K1 a 0 h1 . : the list is appended to after the tuple captured it.
        let value = try PickleDecoder.decode([0x5d, 0x71, 0, 0x85, 0x71, 1, 0x68, 0, 0x4b, 1, 0x61, 0x30, 0x68, 1, 0x2e])
        #expect(value == .tuple([[1]]))
        // A dict memoized, shared twice, then filled.
        let shared = try PickleDecoder.decode(Array("}q\u{0}]q\u{1}h\u{0}ah\u{0}ah\u{0}X\u{1}\u{0}\u{0}\u{0}kK\u{2}s0.".utf8))
        #expect(shared == [["k": 2], ["k": 2]])
    }

    @Test func truncatedPrefixesFailWithTruncated() throws {
        let names = [
            "rq_call_p5", "rq_call_kwargs_p4", "dict_mixed_p0", "nested_json_p2", "str_300_unicode_p4", "int_2p2100_p5",
            "float_list_p0", "set_tuple_p4", "bytes_300_p5", "handmade_string_escapes", "handmade_unicode_escapes",
            "handmade_memo_text", "handmade_float_text", "shared_list_p5", "bytearray_small_p5", "handmade_binunicode8",
        ]
        for name in names {
            let fixture = try #require(PickleFixture.all.first { $0.name == name }, "\(name)")
            for length in 0..<fixture.pickle.count {
                let error = try #require(failure(Array(fixture.pickle.prefix(length))), "\(name) prefix \(length)")
                #expect(error.code == .truncated, "\(name) prefix \(length): \(error)")
                #expect(error.offset >= 0 && error.offset <= length, "\(name) prefix \(length): \(error)")
            }
        }
    }

    @Test func depthBombsHitTheLimit() throws {
        let count = 100_000
        // 100 000 nested lists built bottom-up with EMPTY_LIST ... APPEND.
        let lists = [UInt8](repeating: 0x5d, count: count) + [UInt8](repeating: 0x61, count: count - 1) + [0x2e]
        #expect(failure(lists)?.code == .limitExceeded)
        // 100 000 MARKs.
        let marks = [UInt8](repeating: 0x28, count: count) + [0x2e]
        let markError = failure(marks)
        #expect(markError?.code == .limitExceeded)
        #expect(markError?.opcode == "MARK")
        // 100 000 nested tuples (NONE, TUPLE1 × N).
        let tuples = [0x4e] + [UInt8](repeating: 0x85, count: count) + [0x2e]
        #expect(failure(tuples)?.code == .limitExceeded)
        // 100 000 nested dicts: D1 k D2 k ... Dn, then SETITEM × (n - 1).
        var dicts: [UInt8] = []
        for level in 0..<count { dicts += level < count - 1 ? [0x7d, 0x4b, 0x01] : [0x7d] }
        dicts += [UInt8](repeating: 0x73, count: count - 1) + [0x2e]
        #expect(failure(dicts)?.code == .limitExceeded)
    }

    @Test func depthGrownThroughTheMemoIsCaughtAndFreedSafely() throws {
        // Top-down chain: each new list is appended into the previous one fetched from the memo,
        // so no container knows its depth while decoding. 200 000 levels would overflow the stack
        // if the containers were released recursively.
        var bytes: [UInt8] = [0x80, 0x04, 0x5d, 0x72, 0, 0, 0, 0]  // EMPTY_LIST LONG_BINPUT 0
        let levels = 200_000
        for level in 1..<levels {
            // LONG_BINGET level-1, EMPTY_LIST, LONG_BINPUT level, APPEND, POP
            bytes += [0x6a] + le32(level - 1) + [0x5d, 0x72] + le32(level) + [0x61, 0x30]
        }
        bytes += [0x6a] + le32(0) + [0x2e]
        let error = failure(bytes)
        #expect(error?.code == .limitExceeded)
        // Within the limits the same shape decodes.
        var small: [UInt8] = [0x5d, 0x71, 0]
        for level in 1..<50 { small += [0x68, UInt8(level - 1), 0x5d, 0x71, UInt8(level), 0x61, 0x30] }
        small += [0x68, 0, 0x2e]
        var expected: PythonValue = []
        for _ in 1..<50 { expected = [expected] }
        #expect(try PickleDecoder.decode(small) == expected)
    }

    private func le32(_ value: Int) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    @Test func billionLaughsHitsTheElementLimit() throws {
        // L0 = []; L(i) = [L(i-1), L(i-1)] for 60 levels: 2^60 elements once expanded.
        var bytes: [UInt8] = [0x5d, 0x72] + le32(0)
        for level in 1...60 {
            bytes += [0x5d, 0x28, 0x6a] + le32(level - 1) + [0x6a] + le32(level - 1) + [0x65, 0x72] + le32(level) + [0x30]
        }
        bytes += [0x6a] + le32(60) + [0x2e]
        let error = failure(bytes)
        #expect(error?.code == .limitExceeded)
        // 60 levels of sharing also exceed the depth limit when it is raised, but the element
        // limit still stops it.
        let deeper = failure(bytes, limits: PickleLimits(maximumDepth: 1000))
        #expect(deeper?.code == .limitExceeded)
        #expect(deeper?.message.contains("elements") == true)
    }

    @Test func hugeDeclaredLengthsFailFast() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let cases: [[UInt8]] = [
            [0x80, 0x05, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x61, 0x62, 0x2e],  // BINUNICODE8 2^63-1
            [0x80, 0x05, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x61, 0x2e],  // BINBYTES8 2^64-1
            [0x96, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2e],  // BYTEARRAY8 2^32
            [0x58, 0xff, 0xff, 0xff, 0xff, 0x2e],  // BINUNICODE 4 GiB
            [0x42, 0xff, 0xff, 0xff, 0x7f, 0x2e],  // BINBYTES
            [0x8b, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x2e],  // LONG4 2^31-1 bytes
            [0x54, 0xff, 0xff, 0xff, 0x7f, 0x2e],  // BINSTRING
            [0x80, 0x04, 0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x4e, 0x2e],  // FRAME 2^64-1
            [0x8c, 0xff, 0x41, 0x2e],  // SHORT_BINUNICODE 255 with 2 bytes
        ]
        for bytes in cases {
            let error = failure(bytes)
            #expect(error?.code == .truncated, "\(bytes): \(String(describing: error))")
        }
        #expect(clock.now - start < .seconds(1))
        // Negative signed lengths are invalid rather than huge.
        #expect(failure([0x8b, 0xff, 0xff, 0xff, 0xff, 0x2e])?.code == .invalid)
        #expect(failure([0x54, 0xfe, 0xff, 0xff, 0xff, 0x2e])?.code == .invalid)
    }

    @Test func memoSelfReferenceIsAnError() throws {
        // ]q0 h0 a . : the list appends itself.
        let error = try #require(failure([0x5d, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2e]))
        #expect(error.code == .invalid)
        #expect(error.opcode == "STOP")
        // A dict whose value is a list holding the dict.
        #expect(failure(Array("}q\u{0}X\u{1}\u{0}\u{0}\u{0}k]h\u{0}as.".utf8))?.code == .invalid)
        // A tuple inside the list it belongs to.
        #expect(failure([0x5d, 0x71, 0x00, 0x68, 0x00, 0x85, 0x61, 0x2e])?.code == .invalid)
    }

    @Test func malformedStacksAreInvalid() throws {
        let cases: [([UInt8], String)] = [
            ([0x2e], "STOP"),  // STOP on an empty stack
            ([0x61, 0x2e], "APPEND"),
            ([0x4e, 0x61, 0x2e], "APPEND"),
            ([0x4b, 0x01, 0x4b, 0x02, 0x61, 0x2e], "APPEND"),  // APPEND to an int
            ([0x30, 0x2e], "POP"),
            ([0x31, 0x2e], "POP_MARK"),
            ([0x65, 0x2e], "APPENDS"),
            ([0x74, 0x2e], "TUPLE"),
            ([0x4e, 0x86, 0x2e], "TUPLE2"),
            ([0x28, 0x4e, 0x4e, 0x4e, 0x64, 0x2e], "DICT"),  // odd number of items
            ([0x7d, 0x28, 0x4e, 0x75, 0x2e], "SETITEMS"),
            ([0x68, 0x05, 0x2e], "BINGET"),  // missing memo entry
            ([0x67, 0x2d, 0x31, 0x0a, 0x2e], "GET"),
            ([0x71, 0x00, 0x2e], "BINPUT"),
            ([0x28, 0x32, 0x2e], "DUP"),  // DUP across a MARK
            ([0x4e, 0x28, 0x2e], "STOP"),  // STOP may not pop below a MARK
            ([0x80, 0x06, 0x4e, 0x2e], "PROTO"),
            ([0x7d, 0x5d, 0x4b, 0x01, 0x73, 0x2e], "SETITEM"),  // unhashable list key
            ([0x7d, 0x5d, 0x85, 0x85, 0x4b, 0x01, 0x73, 0x2e], "SETITEM"),  // ((list,),) key
            ([0x8f, 0x28, 0x96, 0, 0, 0, 0, 0, 0, 0, 0, 0x85, 0x90, 0x2e], "ADDITEMS"),  // (bytearray,) element
            ([0x8f, 0x28, 0x7d, 0x90, 0x2e], "ADDITEMS"),  // unhashable dict element
            ([0x28, 0x96, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x91, 0x2e], "FROZENSET"),
            ([0x49, 0x31, 0x78, 0x0a, 0x2e], "INT"),
            ([0x49, 0x30, 0x31, 0x32, 0x0a, 0x2e], "INT"),  // leading zero
            ([0x46, 0x31, 0x65, 0x0a, 0x2e], "FLOAT"),
            ([0x46, 0x31, 0x65, 0x34, 0x30, 0x30, 0x0a, 0x2e], "FLOAT"),  // overflow, as CPython
            ([0x46, 0x30, 0x78, 0x31, 0x70, 0x33, 0x0a, 0x2e], "FLOAT"),  // hex floats are not Python's
            ([0x53, 0x61, 0x62, 0x63, 0x0a, 0x2e], "STRING"),  // unquoted
            ([0x53, 0x27, 0x5c, 0x78, 0x34, 0x27, 0x0a, 0x2e], "STRING"),  // bad \x
            ([0x55, 0x01, 0xe9, 0x2e], "SHORT_BINSTRING"),  // non-ASCII Python 2 str
            ([0x56, 0x5c, 0x75, 0x30, 0x30, 0x0a, 0x2e], "UNICODE"),  // truncated \u escape
            ([0x56, 0x5c, 0x55, 0x30, 0x30, 0x31, 0x31, 0x30, 0x30, 0x30, 0x30, 0x0a, 0x2e], "UNICODE"),
        ]
        for (bytes, opcode) in cases {
            let error = failure(bytes)
            #expect(error?.code == .invalid, "\(bytes): \(String(describing: error))")
            #expect(error?.opcode == opcode, "\(bytes): \(String(describing: error))")
        }
    }

    @Test func loneSurrogatesAreInvalid() throws {
        // pickle.dumps('\ud800', protocol=5) and protocol 0.
        let binary: [UInt8] = [0x80, 0x05, 0x95, 0x07, 0, 0, 0, 0, 0, 0, 0, 0x8c, 0x03, 0xed, 0xa0, 0x80, 0x94, 0x2e]
        #expect(failure(binary)?.code == .invalid)
        #expect(failure(Array("V\\ud800\np0\n.".utf8))?.code == .invalid)
        #expect(failure(Array("(V\\ud83d\\ude00\nt.".utf8))?.code == .invalid)
        // Ordinary invalid UTF-8.
        #expect(failure([0x8c, 0x02, 0xc3, 0x28, 0x2e])?.code == .invalid)
    }

    @Test func unknownAndCodeOpcodesAreRefused() throws {
        let unknown = try #require(failure([0x80, 0x05, 0xff, 0x2e]))
        #expect(unknown.code == .unsupportedOpcode)
        #expect(unknown.opcode == "0xff")
        #expect(unknown.offset == 2)
        let refused: [(UInt8, String)] = [
            (0x63, "GLOBAL"), (0x93, "STACK_GLOBAL"), (0x52, "REDUCE"), (0x62, "BUILD"), (0x69, "INST"), (0x6f, "OBJ"),
            (0x81, "NEWOBJ"), (0x92, "NEWOBJ_EX"), (0x82, "EXT1"), (0x83, "EXT2"), (0x84, "EXT4"), (0x50, "PERSID"),
            (0x51, "BINPERSID"), (0x97, "NEXT_BUFFER"), (0x98, "READONLY_BUFFER"),
        ]
        for (byte, name) in refused {
            let error = try #require(failure([0x80, 0x05, 0x4e, byte, 0x2e]))
            #expect(error.code == .unsupportedOpcode)
            #expect(error.opcode == name)
            #expect(error.offset == 3)
            #expect(error.description == "pickle unsupportedOpcode at offset 3 (\(name)): \(error.message)")
        }
    }

    @Test func limitsAreEnforced() throws {
        let text = PickleEncoder.encode(.string(String(repeating: "x", count: 1000)))
        #expect(failure(text, limits: PickleLimits(maximumLength: 999))?.code == .limitExceeded)
        #expect(try PickleDecoder.decode(text, limits: PickleLimits(maximumLength: 1000)) == .string(String(repeating: "x", count: 1000)))

        let list = PickleEncoder.encode(.list((0..<100).map { .int($0) }))
        #expect(failure(list, limits: PickleLimits(maximumElements: 50))?.code == .limitExceeded)
        #expect(try PickleDecoder.decode(list, limits: PickleLimits(maximumElements: 101)).arrayValue?.count == 100)

        var memo: [UInt8] = [0x4e]
        for index in 0..<20 { memo += [0x71, UInt8(index)] }
        memo.append(0x2e)
        #expect(failure(memo, limits: PickleLimits(maximumMemoEntries: 10))?.code == .limitExceeded)
        #expect(try PickleDecoder.decode(memo, limits: PickleLimits(maximumMemoEntries: 20)) == .none)

        var nested: PythonValue = 1
        for _ in 0..<10 { nested = [nested] }
        #expect(failure(PickleEncoder.encode(nested), limits: PickleLimits(maximumDepth: 9))?.code == .limitExceeded)
        #expect(try PickleDecoder.decode(PickleEncoder.encode(nested), limits: PickleLimits(maximumDepth: 10)) == nested)

        let big = PickleEncoder.encode(.bigInt(PythonBigInt(twosComplementLittleEndian: [UInt8](repeating: 0x11, count: 300))))
        #expect(failure(big, limits: PickleLimits(maximumIntegerBytes: 299))?.code == .limitExceeded)
        #expect(failure(Array("I\(String(repeating: "9", count: 4301))\n.".utf8))?.code == .limitExceeded)
    }

    @Test func duplicateKeysFollowPython() throws {
        // Python keeps the first position and the last value; sets keep one copy.
        #expect(try PickleDecoder.decode(Array("}(X\u{1}\u{0}\u{0}\u{0}aK\u{1}X\u{1}\u{0}\u{0}\u{0}bK\u{2}X\u{1}\u{0}\u{0}\u{0}aK\u{3}u.".utf8))
            == ["a": 3, "b": 2])
        var many: [UInt8] = [0x7d, 0x28]
        for index in 0..<30 { many += [0x4b, UInt8(index % 10), 0x4b, UInt8(index)] }
        many += [0x75, 0x2e]
        let dict = try #require(try PickleDecoder.decode(many).dictEntries)
        #expect(dict.count == 10)
        #expect(dict.first == PythonDictEntry(0, 20))
        var set: [UInt8] = [0x8f, 0x28]
        for index in 0..<30 { set += [0x4b, UInt8(index % 12)] }
        set += [0x90, 0x2e]
        #expect(try PickleDecoder.decode(set) == .set((0..<12).map { .int($0) }))
        // NaN keys stay distinct, as distinct NaN objects do in Python.
        let nan = PythonValue.dict([PythonDictEntry(.float(.nan), 1), PythonDictEntry(.float(.nan), 2)])
        #expect(try PickleDecoder.decode(PickleEncoder.encode(nan)).dictEntries?.count == 2)
    }

    @Test func trailingBytesAfterStopAreIgnored() throws {
        #expect(try PickleDecoder.decode([0x4e, 0x2e, 0xff, 0xff]) == .none)
    }
}
