import FuzzSupport
import FuzzTargets
@testable import HTTPAPI
import Testing

/// The form reader's model of MultipartKit (``MultipartParserMirror``) against the parser itself:
/// the body that once crashed the API, the delimiter at every offset of a file in every small
/// chunking, the part-header caps, and the display file name's caps.
@Suite struct FormGuardTests {
    typealias Outcome = Result<[UploadFormProbe.Part], UploadFormProbe.Refusal>

    /// The body that desynchronised the old guard: the file contains `--B` without a CR LF before
    /// it, so the guard took the real delimiter that follows for header bytes and let MultipartKit
    /// read a header name starting with 0xFF (an out-of-range table read: the process was gone).
    static let crashBody: [UInt8] =
        Array("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello --B\r\nX:\r\n--B\r\n".utf8)
        + [0xFF] + Array(": v\r\n\r\nzzz\r\n--B--\r\n".utf8)

    static func outcome(_ body: [UInt8], chunk: Int, direct: Bool, limits: UploadLimits = UploadLimits()) -> Outcome {
        Result { () throws(UploadFormProbe.Refusal) in
            try UploadFormProbe.parse(contentType: DelimiterInjection.contentType, body: body, chunkSize: chunk, limits: limits, directBodies: direct)
        }
    }

    @Test func theBodyThatCrashedTheAPIIsRefusedInEveryChunking() {
        for chunk in 1...Self.crashBody.count {
            for direct in [true, false] {
                #expect(Self.outcome(Self.crashBody, chunk: chunk, direct: direct)
                            == .failure(.malformed("a part header name contains a non-ASCII byte")), "chunk \(chunk) direct \(direct)")
            }
        }
    }

    /// Every injection at every offset of the file, in chunkings that put a chunk edge on every
    /// byte: the parser always does what the model predicted (never `.inconsistent`), and skipping
    /// plain body bytes changes no outcome.
    @Test func theDelimiterAtEveryOffsetNeverDesynchronisesTheModel() {
        var parsed = 0, refusedHeaderName = 0
        for offset in 0...DelimiterInjection.file.count {
            for injection in DelimiterInjection.injections {
                let body = DelimiterInjection.form(offset: offset, injection: injection)
                let reference = Self.outcome(body, chunk: body.count, direct: false)
                for chunk in [1, 2, 3, 5, 8, 64, body.count] {
                    let direct = Self.outcome(body, chunk: chunk, direct: true)
                    #expect(direct != .failure(.inconsistent), "offset \(offset) injection \(injection) chunk \(chunk)")
                    #expect(direct == reference, "offset \(offset) injection \(injection) chunk \(chunk)")
                    #expect(Self.outcome(body, chunk: chunk, direct: false) == reference, "offset \(offset) injection \(injection) chunk \(chunk)")
                }
                switch reference {
                case .success: parsed += 1
                case .failure(.malformed("a part header name contains a non-ASCII byte")): refusedHeaderName += 1
                default: break
                }
            }
        }
        // Both outcomes occur, so the loop really exercised the guard and the parser.
        #expect(parsed > 100)
        #expect(refusedHeaderName > 100)
    }

    /// A file body that holds a byte ≥ 0x80 right after a delimiter look-alike is still a file.
    @Test func nonASCIIBytesInsideAFileAreData() throws {
        let body = DelimiterInjection.form(offset: 5, injection: Array("--B\r\n".utf8) + [0xFF] + Array(": v\r\n".utf8))
        let parts = try UploadFormProbe.parse(contentType: DelimiterInjection.contentType, body: body, chunkSize: 3)
        #expect(parts.map(\.name) == ["file", "candidate_name"])
        #expect(parts[0].data.contains(0xFF))
    }

    static func form(headerBytes: Int, parts: Int = 1) -> [UInt8] {
        // `--B` `\r\n` Content-Disposition… `X-Pad: aaa…` `\r\n\r\n`: the header block counts from the CR LF.
        let disposition = "Content-Disposition: form-data; name=\"f0\"\r\n"
        let fixed = 2 + disposition.utf8.count + "X-Pad: ".utf8.count + 2 + 2
        var body: [UInt8] = []
        for index in 0..<parts {
            let name = "Content-Disposition: form-data; name=\"f\(index % 10)\"\r\n"
            body += Array("--B\r\n\(name)X-Pad: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: headerBytes - fixed) + Array("\r\n\r\nv\r\n".utf8)
        }
        return body + Array("--B--\r\n".utf8)
    }

    @Test func partHeadersAreCappedPerPartAndInAll() throws {
        let limits = UploadLimits()
        for chunk in [1, 100, 1 << 20] {
            #expect(try UploadFormProbe.parse(contentType: DelimiterInjection.contentType, body: Self.form(headerBytes: limits.maxPartHeaderBytes),
                                              chunkSize: chunk).count == 1)
            #expect(throws: UploadFormProbe.Refusal.malformed("a part's headers are longer than 16384 bytes")) {
                _ = try UploadFormProbe.parse(contentType: DelimiterInjection.contentType, body: Self.form(headerBytes: limits.maxPartHeaderBytes + 1),
                                              chunkSize: chunk)
            }
            // Five parts of 15 KB: each under its cap, together over 64 KiB.
            #expect(throws: UploadFormProbe.Refusal.malformed("the parts' headers are longer than 65536 bytes in all")) {
                _ = try UploadFormProbe.parse(contentType: DelimiterInjection.contentType, body: Self.form(headerBytes: 15_000, parts: 5),
                                              chunkSize: chunk)
            }
            #expect(try UploadFormProbe.parse(contentType: DelimiterInjection.contentType, body: Self.form(headerBytes: 15_000, parts: 4),
                                              chunkSize: chunk).count == 4)
        }
    }

    /// An 8 MB header (which once cost seconds of CPU) is refused at its cap: at most the cap's
    /// worth of header bytes ever reaches MultipartKit.
    @Test func aHugeHeaderIsRefusedAtTheCap() {
        let huge = Self.form(headerBytes: 8 << 20)
        #expect(throws: UploadFormProbe.Refusal.malformed("a part's headers are longer than 16384 bytes")) {
            _ = try UploadFormProbe.parse(contentType: DelimiterInjection.contentType, body: huge, chunkSize: 65_536,
                                          limits: UploadLimits(maxFileBytes: 16 << 20))
        }
    }

    @Test func displayFileNamesAreCappedInBytesAndLoseBidiControls() throws {
        // One grapheme: "e" and 100 000 combining acute accents (200 001 bytes).
        let accents = "e" + String(repeating: "\u{301}", count: 100_000)
        let capped = try #require(DisplayFilename.make(accents))
        #expect(capped.utf8.count <= DisplayFilename.maxBytes)
        #expect(capped.unicodeScalars.count <= DisplayFilename.maxBytes)
        #expect(capped.unicodeScalars.first == "e")
        // A multi-byte scalar at the cap is dropped whole, never split.
        let cut = try #require(DisplayFilename.make(String(repeating: "a", count: 254) + "é.pdf"))
        #expect(cut == String(repeating: "a", count: 254))
        #expect(DisplayFilename.make("cv\u{202E}fdp.exe") == "cvfdp.exe")
        #expect(DisplayFilename.make("\u{2066}a\u{2069}\u{200F}b\u{61C}.pdf") == "ab.pdf")
        #expect(DisplayFilename.make("C:\\Users\\x\\résumé.pdf") == "résumé.pdf")
        #expect(DisplayFilename.make("\u{202E}") == nil)
    }
}
