import LocalProviders
import Testing
import Zlib

@Suite("ZIP reader")
struct ZipReaderTests {
    private func code(_ body: () throws -> Void) -> ZipError.Code? {
        do {
            try body()
            return nil
        } catch let error as ZipError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test func readsTheDocxFixtureWrittenByPython() throws {
        let archive = try ZipArchive(ResumeFixtures.bytes("lucia_fernandez.docx"))
        #expect(archive.entries.first?.name == "[Content_Types].xml")
        let xml = try archive.contents(ofEntryNamed: "word/document.xml")
        let text = String(decoding: xml, as: UTF8.self)
        #expect(text.contains("<w:t>Fernández</w:t>"))
        #expect(archive.entries.allSatisfy { $0.method == 8 })
        for entry in archive.entries { _ = try archive.contents(of: entry) }  // every CRC checks out
    }

    @Test func storedAndDeflatedEntries() throws {
        var builder = ZipBuilder()
        let large = Array(String(repeating: "résumé ", count: 5_000).utf8)
        builder.items = [
            .init(name: "stored.txt", data: Array("stored".utf8), method: 0),
            .init(name: "deflated.txt", data: large),
            .init(name: "empty", data: [], method: 0),
        ]
        let archive = try ZipArchive(try builder.build())
        #expect(archive.entries.map(\.name) == ["stored.txt", "deflated.txt", "empty"])
        #expect(try archive.contents(ofEntryNamed: "stored.txt") == Array("stored".utf8))
        #expect(try archive.contents(ofEntryNamed: "deflated.txt") == large)
        #expect(try archive.contents(ofEntryNamed: "empty") == [])
        #expect(code { _ = try archive.contents(ofEntryNamed: "absent") } == .missingEntry)
    }

    @Test func aBombThatLiesAboutItsSizeStopsAtTheDeclaredSize() throws {
        // 4 MiB of zeros deflate to ~4 KiB; the headers claim 1 KiB.
        var builder = ZipBuilder()
        builder.items = [.init(name: "word/document.xml", data: Array(repeating: 0, count: 4 << 20), declaredSize: 1_024)]
        let archive = try ZipArchive(try builder.build())
        #expect(code { _ = try archive.contents(ofEntryNamed: "word/document.xml") } == .tooLarge)
    }

    @Test func anEntryOverTheLimitIsRefusedBeforeInflating() throws {
        var builder = ZipBuilder()
        builder.items = [.init(name: "big", data: Array(repeating: 0x41, count: 2 << 20))]
        let bytes = try builder.build()
        let small = try ZipArchive(bytes, limits: ZipArchive.Limits(maximumEntrySize: 1 << 20))
        #expect(code { _ = try small.contents(ofEntryNamed: "big") } == .tooLarge)
        #expect(try ZipArchive(bytes).contents(ofEntryNamed: "big").count == 2 << 20)
        #expect(code { _ = try ZipArchive(bytes, limits: ZipArchive.Limits(maximumEntryCount: 0)) } == .tooLarge)
    }

    @Test func badCRCAndWrongSizesAreRefused() throws {
        var builder = ZipBuilder()
        builder.items = [
            .init(name: "crc", data: Array("payload".utf8), declaredCRC: 0xDEAD_BEEF),
            .init(name: "short", data: Array("payload".utf8), declaredSize: 100),
        ]
        let archive = try ZipArchive(try builder.build())
        #expect(code { _ = try archive.contents(ofEntryNamed: "crc") } == .checksumMismatch)
        #expect(code { _ = try archive.contents(ofEntryNamed: "short") } == .checksumMismatch)
        // A flipped byte in the compressed data: corrupt deflate or a CRC mismatch, never the wrong bytes.
        var flipped = try ZipBuilder.docx(body: "<w:p><w:r><w:t>\(String(repeating: "text ", count: 200))</w:t></w:r></w:p>")
        let entry = try #require(try ZipArchive(flipped).entry(named: "word/document.xml"))
        flipped[entry.localHeaderOffset + 30 + entry.name.utf8.count + entry.compressedSize / 2] ^= 0x55
        let result = code { _ = try ZipArchive(flipped).contents(ofEntryNamed: "word/document.xml") }
        #expect(result == .corrupt || result == .checksumMismatch)
    }

    @Test func unsupportedFeaturesAreNamed() throws {
        var builder = ZipBuilder()
        builder.items = [
            .init(name: "secret", data: Array("x".utf8), flags: 1),
            .init(name: "bzip2", data: Array("x".utf8), method: 12),
        ]
        let archive = try ZipArchive(try builder.build())
        #expect(code { _ = try archive.contents(ofEntryNamed: "secret") } == .unsupported)
        #expect(code { _ = try archive.contents(ofEntryNamed: "bzip2") } == .unsupported)
    }

    @Test func notZipAndTruncatedArchives() throws {
        #expect(code { _ = try ZipArchive([]) } == .notZip)
        #expect(code { _ = try ZipArchive(Array("%PDF-1.4 not a zip at all, but long enough".utf8)) } == .notZip)
        let docx = ResumeFixtures.bytes("lucia_fernandez.docx")
        // Without its end record it is not a ZIP; with the central directory cut it is corrupt.
        #expect(code { _ = try ZipArchive(Array(docx.dropLast(10))) } == .notZip)
        var shifted = docx
        shifted.removeSubrange(100..<200)  // offsets now point at the wrong bytes
        let failure = code {
            let archive = try ZipArchive(shifted)
            for entry in archive.entries { _ = try archive.contents(of: entry) }
        }
        #expect(failure != nil)
    }

    @Test func mutatedArchivesNeverCrash() throws {
        let docx = try ZipBuilder.docx(body: "<w:p><w:r><w:t>Fuzz me</w:t></w:r></w:p>")
        var generator = SystemRandomNumberGenerator()
        var failures = 0
        for _ in 0..<1_000 {
            var bytes = docx
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))) }
            do {
                let archive = try ZipArchive(bytes, limits: ZipArchive.Limits(maximumEntrySize: 1 << 20))
                for entry in archive.entries { _ = try archive.contents(of: entry) }
            } catch {
                failures += 1
            }
        }
        #expect(failures > 0)
    }
}
