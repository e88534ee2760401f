import Testing
import Zlib

@Suite("zlib over the system libz")
struct ZlibTests {
    private func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    @Test func decompressesWhatPythonCompressed() throws {
        // zlib.compress(("résumé " * 50).encode()) from CPython 3.11.
        let fromPython = bytes(hex: "789c2b3abcb2b834f7f04a85a251c6d06400005c86ed4f")
        let text = try Zlib.decompress(fromPython)
        #expect(String(decoding: text, as: UTF8.self) == String(repeating: "résumé ", count: 50))
        #expect(try Zlib.decompress(bytes(hex: "789c030000000001")) == [])
    }

    @Test func roundTripsBinaryData() throws {
        let input = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 300) }
        let compressed = try Zlib.compress(input)
        #expect(compressed.count < input.count)
        #expect(compressed.prefix(2) == [0x78, 0x9c])
        #expect(try Zlib.decompress(compressed) == input)
        #expect(try Zlib.decompress(Zlib.compress([])) == [])
    }

    @Test func corruptInputIsATypedError() {
        #expect { try Zlib.decompress([0x78, 0x9c, 0xff, 0xff, 0xff]) } throws: { ($0 as? ZlibError)?.code == .corrupt }
        #expect { try Zlib.decompress(Array("not zlib at all".utf8)) } throws: { ($0 as? ZlibError)?.code == .corrupt }
    }

    @Test func truncatedInputIsATypedError() throws {
        let compressed = try Zlib.compress(Array(repeating: 65, count: 10_000))
        for cut in [1, 2, compressed.count / 2, compressed.count - 1] {
            #expect { try Zlib.decompress(Array(compressed.prefix(cut))) } throws: { error in
                let code = (error as? ZlibError)?.code
                return code == .truncated || code == .corrupt
            }
        }
        #expect { try Zlib.decompress([]) } throws: { $0 is ZlibError }
    }

    @Test func trailingBytesAreRejected() throws {
        let compressed = try Zlib.compress(Array("payload".utf8))
        #expect { try Zlib.decompress(compressed + [0]) } throws: { ($0 as? ZlibError)?.code == .corrupt }
    }

    @Test func decompressionBombsStopAtTheLimit() throws {
        let bomb = try Zlib.compress(Array(repeating: 0, count: 8 << 20))
        #expect(bomb.count < 20_000)
        #expect { try Zlib.decompress(bomb, maximumSize: 1 << 20) } throws: { ($0 as? ZlibError)?.code == .tooLarge }
        #expect(try Zlib.decompress(bomb, maximumSize: 8 << 20).count == 8 << 20)
    }

    @Test func inflatesRawDeflateAsInZipEntries() throws {
        // zlib.compressobj(6, zlib.DEFLATED, -15) over ("Zoë Müller " * 40).encode(), CPython 3.11.
        let fromPython = bytes(hex: "8bca3fbc5ac1f7f09e9c9cd42285a851ce48e50000")
        let text = try Zlib.inflateRaw(fromPython)
        #expect(String(decoding: text, as: UTF8.self) == String(repeating: "Zoë Müller ", count: 40))
        #expect(try Zlib.inflateRaw(bytes(hex: "0300")) == [])
        let input = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 / 3) }
        let raw = try Zlib.deflateRaw(input)
        #expect(raw.prefix(2) != [0x78, 0x9c])
        #expect(try Zlib.inflateRaw(raw) == input)
        // A zlib stream is not raw deflate, and raw deflate is not a zlib stream.
        #expect { try Zlib.inflateRaw(Zlib.compress(input)) } throws: { $0 is ZlibError }
        #expect { try Zlib.decompress(raw) } throws: { $0 is ZlibError }
    }

    @Test func crc32MatchesPython() {
        // zlib.crc32(b"123456789") == 0xCBF43926, the CRC-32 check value.
        #expect(Zlib.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Zlib.crc32([]) == 0)
    }

    @Test func rawInflateStopsBombsAndRejectsTruncation() throws {
        let bomb = try Zlib.deflateRaw(Array(repeating: 0, count: 2 << 20))
        #expect { try Zlib.inflateRaw(bomb, maximumSize: 1 << 20) } throws: { ($0 as? ZlibError)?.code == .tooLarge }
        #expect(try Zlib.inflateRaw(bomb, maximumSize: 2 << 20).count == 2 << 20)
        #expect { try Zlib.inflateRaw(Array(bomb.prefix(bomb.count / 2))) } throws: { $0 is ZlibError }
        #expect { try Zlib.inflateRaw(bomb + [1, 2, 3]) } throws: { ($0 as? ZlibError)?.code == .corrupt }
    }

    @Test func randomInputNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let length = Int.random(in: 0..<64, using: &generator)
            var input = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if Bool.random(using: &generator), input.count >= 2 { (input[0], input[1]) = (0x78, 0x9c) }
            _ = try? Zlib.decompress(input, maximumSize: 1 << 16)
        }
    }
}
