import Foundation
import Providers
import Testing
import TestSupport

/// Image headers read without decoding: sizes, the pixel cap, and refusals with a reason.
@Suite("Image headers (PNG, JPEG, TIFF)")
struct ImageHeaderTests {
    static func png(width: UInt32, height: UInt32) -> [UInt8] {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        for value in [width, height] { bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        return bytes + [8, 2, 0, 0, 0] + [0, 0, 0, 0]
    }

    static func jpeg(width: Int, height: Int, frame: UInt8 = 0xC0, fill: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8]
        bytes += [0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]  // APP0
        bytes += [0xFF, 0xC4, 0x00, 0x05, 0x00, 0x01, 0x02]  // a DHT segment, which is not a frame
        if fill { bytes += [0xFF, 0xFF] }
        bytes += [0xFF, frame, 0x00, 0x11, 0x08, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 3]
        return bytes + [UInt8](repeating: 1, count: 9) + [0xFF, 0xD9]
    }

    /// A TIFF with one directory per `(width, height)`, little- or big-endian.
    static func tiff(_ pages: [(Int, Int)], little: Bool = true, loop: Bool = false) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { little ? [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] : [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { little ? u16(v & 0xFFFF) + u16(v >> 16) : u16(v >> 16) + u16(v & 0xFFFF) }
        var bytes: [UInt8] = little ? [0x49, 0x49, 0x2A, 0x00] : [0x4D, 0x4D, 0x00, 0x2A]
        bytes += u32(8)
        for (index, page) in pages.enumerated() {
            let start = bytes.count
            bytes += u16(2)
            bytes += u16(256) + u16(4) + u32(1) + u32(page.0)
            bytes += u16(257) + u16(3) + u32(1) + u16(page.1) + u16(0)
            let next = index == pages.count - 1 ? (loop ? 8 : 0) : start + 2 + 24 + 4
            bytes += u32(next)
        }
        return bytes
    }

    @Test func sizesAreRead() throws {
        #expect(try ImageHeader.read(Self.png(width: 2550, height: 3300)) == ImageHeader(format: .png, width: 2550, height: 3300, pages: 1))
        #expect(try ImageHeader.read(Self.jpeg(width: 2480, height: 3508)) == ImageHeader(format: .jpeg, width: 2480, height: 3508, pages: 1))
        #expect(try ImageHeader.read(Self.jpeg(width: 640, height: 480, frame: 0xC2, fill: true)).width == 640)
        let multi = try ImageHeader.read(Self.tiff([(1000, 1400), (2550, 3300), (10, 10)]))
        #expect(multi == ImageHeader(format: .tiff, width: 2550, height: 3300, pages: 3))
        #expect(try ImageHeader.read(Self.tiff([(300, 200)], little: false)).height == 200)
    }

    @Test func thePixelCapRefusesBeforeAnyDecoding() {
        #expect { try ImageHeader.read(Self.png(width: 20_000, height: 20_000)) } throws: { error in
            (error as? ImageHeaderError)?.code == .tooManyPixels && "\(error)".contains("20000 × 20000")
        }
        #expect { try ImageHeader.read(Self.png(width: 0x7FFF_FFFF, height: 0x7FFF_FFFF)) } throws: { ($0 as? ImageHeaderError)?.code == .tooManyPixels }
        #expect { try ImageHeader.read(Self.jpeg(width: 65535, height: 65535)) } throws: { ($0 as? ImageHeaderError)?.code == .tooManyPixels }
        // A small first page does not let a huge later page through.
        #expect { try ImageHeader.read(Self.tiff([(100, 100), (60_000, 60_000)])) } throws: { error in
            (error as? ImageHeaderError)?.code == .tooManyPixels && "\(error)".contains("page 2")
        }
        #expect(throws: ImageHeaderError.self) { try ImageHeader.read(Self.png(width: 1000, height: 1000), maximumPixels: 999_999) }
    }

    @Test func brokenHeadersSayWhy() {
        let cases: [([UInt8], ImageHeaderError.Code)] = [
            (Array("%PDF-1.4".utf8), .notAnImage),
            (Array(Self.png(width: 10, height: 10).prefix(20)), .truncated),
            (Self.png(width: 0, height: 10), .malformed),
            (Array(Self.jpeg(width: 10, height: 10).prefix(30)), .truncated),
            (Self.jpeg(width: 10, height: 0), .malformed),
            ([0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02], .malformed),
            (Self.tiff([(10, 10), (20, 20)], loop: true), .malformed),
            (Array(Self.tiff([(10, 10)]).prefix(12)), .truncated),
            ([0x49, 0x49, 0x2A, 0x00, 0, 0, 0, 0], .malformed),
        ]
        for (bytes, code) in cases {
            #expect { try ImageHeader.read(bytes) } throws: { ($0 as? ImageHeaderError)?.code == code }
        }
    }

    /// Every prefix and many single-byte mutations of valid headers: an answer or a typed error.
    @Test func mutationsNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for base in [Self.png(width: 800, height: 600), Self.jpeg(width: 800, height: 600), Self.tiff([(800, 600), (10, 10)])] {
            for length in 0...base.count { _ = try? ImageHeader.read(Array(base.prefix(length))) }
            for _ in 0..<2000 {
                var bytes = base
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                if let header = try? ImageHeader.read(bytes) { #expect(header.pixels <= ImageHeader.defaultMaximumPixels) }
            }
        }
    }
}

/// Real files: pages of a fixture PDF rendered by poppler's `pdftoppm` as PNG, JPEG and TIFF.
@Suite("Image headers of rendered pages")
struct RenderedImageHeaderTests {
    @Test(arguments: [("png", ImageHeader.Format.png, "png"), ("jpeg", .jpeg, "jpg"), ("tiff", .tiff, "tif")])
    func pdftoppmOutputIsRead(option: String, format: ImageHeader.Format, suffix: String) throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/resumes/alice_chen.pdf").path
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("header-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: "\(prefix)-1.\(suffix)") }
        let result = try ChildProcess.run("pdftoppm", ["-\(option)", "-r", "100", "-f", "1", "-l", "1", fixture, prefix])
        #expect(result.status == 0, "\(result.output)")
        let bytes = try #require(FileManager.default.contents(atPath: "\(prefix)-1.\(suffix)"))
        let header = try ImageHeader.read(Array(bytes))
        // An A4 page (595.3 × 841.9 pt) at 100 dpi: pdftoppm rounds 826.8 × 1169.3 up (as `file` also reports).
        #expect(header == ImageHeader(format: format, width: 827, height: 1170, pages: 1))
    }
}
