import Foundation
import FuzzSupport
import FuzzTargets
@testable import HTTPAPI
import Testing

/// The form reader's shortcut past MultipartKit for plain body stretches must not change a single
/// outcome: every body, in every chunking, gives the same parts (same bytes) or the same refusal
/// with the shortcut as with every byte going through the parser. Bodies are built to stress the
/// shortcut's one decision: CRs, partial and complete delimiters at chunk ends, delimiter look-alikes
/// inside files, parts whose body starts with CR, and the mutated fuzz seeds.
@Suite struct DirectBodyTests {
    typealias Outcome = Result<[UploadFormProbe.Part], UploadFormProbe.Refusal>

    static func outcome(_ contentType: String, _ body: [UInt8], chunk: Int, direct: Bool, limits: UploadLimits = UploadLimits()) -> Outcome {
        Result { () throws(UploadFormProbe.Refusal) in
            try UploadFormProbe.parse(contentType: contentType, body: body, chunkSize: chunk, limits: limits, directBodies: direct)
        }
    }

    /// A form whose file is `file` and whose text field is `field`, with boundary `XYZ`.
    static func form(file: [UInt8], field: [UInt8] = Array("Ada".utf8)) -> [UInt8] {
        Array("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n".utf8) + file
            + Array("\r\n--XYZ\r\nContent-Disposition: form-data; name=\"candidate_name\"\r\n\r\n".utf8) + field
            + Array("\r\n--XYZ--\r\n".utf8)
    }

    @Test func trickyFilesGiveTheSameBytesInEveryChunking() {
        let type = "multipart/form-data; boundary=XYZ"
        let files: [[UInt8]] = [
            Array("%PDF-1.4 plain text only".utf8),
            Array("\r".utf8), Array("\r\n".utf8), Array("\r\n-".utf8), Array("\r\n--".utf8), Array("\r\n--X".utf8), Array("\r\n--XY".utf8),
            Array("\r\r\n\r\n-\r\n--\r\n--XY\r\n--XYW".utf8),
            Array("%PDF\r\n--XYW not a delimiter\r\n--XY\rZ".utf8),
            Array("--XYZ\r\n--XY".utf8) + [13],
            [13] + Array("leading CR".utf8),
        ]
        for file in files {
            let body = Self.form(file: file)
            for chunk in 1...body.count {
                let direct = Self.outcome(type, body, chunk: chunk, direct: true)
                #expect(direct == Self.outcome(type, body, chunk: chunk, direct: false), "file \(file) chunk \(chunk)")
                #expect((try? direct.get())?.first?.data == file, "file \(file) chunk \(chunk)")
            }
        }
    }

    /// Network reads are large: a read often holds part headers plus most of a file, which the
    /// reader hands to the parser in small steps until the body starts.
    @Test func largeReadsWithSparseDelimiterBytesAgree() {
        var random = SplitMix64(seed: 37)
        let type = "multipart/form-data; boundary=XYZ"
        for iteration in 0..<200 {
            let file = (0..<random.below(6_000)).map { _ -> UInt8 in
                random.below(300) == 0 ? Array("\r\n-XYZ".utf8)[random.below(6)] : UInt8(32 + random.below(95))
            }
            let body = Self.form(file: file, field: (0..<random.below(900)).map { _ in UInt8(97 + random.below(26)) })
            for chunk in [body.count, 65_536, 4_096, 700, 1 + random.below(1_000)] {
                let direct = Self.outcome(type, body, chunk: chunk, direct: true)
                #expect(direct == Self.outcome(type, body, chunk: chunk, direct: false), "iteration \(iteration) chunk \(chunk)")
                #expect((try? direct.get())?.first?.data == file, "iteration \(iteration) chunk \(chunk)")
            }
        }
    }

    @Test(arguments: [UInt64(31), 32])
    func randomBinaryFilesAndMutatedSeedsAgree(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let type = "multipart/form-data; boundary=XYZ"
        // Binary files drawn from an alphabet dense in delimiter bytes.
        let alphabet = Array("\r\n-XYZ".utf8) + [0, 0xFF, 0x41]
        for iteration in 0..<600 {
            let file = (0..<random.below(400)).map { _ in alphabet[random.below(alphabet.count)] }
            let body = Self.form(file: file)
            let chunk = 1 + random.below(64)
            let limits = UploadLimits(maxFileBytes: 1 + random.below(500), maxFieldBytes: 1 + random.below(8))
            #expect(Self.outcome(type, body, chunk: chunk, direct: true, limits: limits)
                        == Self.outcome(type, body, chunk: chunk, direct: false, limits: limits), "seed \(seed) iteration \(iteration)")
        }
        let seeds = MultipartSeeds.bodies()
        for iteration in 0..<3_000 {
            let (contentType, body) = seeds[random.below(seeds.count)]
            let input = ByteMutator.mutate(body, &random)
            let chunk = 1 + random.below(200)
            #expect(Self.outcome(contentType, input, chunk: chunk, direct: true) == Self.outcome(contentType, input, chunk: chunk, direct: false),
                    "seed \(seed) mutation \(iteration)")
        }
    }
}

/// `FieldText` answers as Foundation's character sets and trimming do (it replaced them on the
/// upload route).
@Suite struct FieldTextTests {
    @Test func classesMatchFoundationOnEveryScalarUpToU3100() {
        for value in UInt32(0)...0x3100 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            #expect(FieldText.isSpace(scalar) == CharacterSet.whitespaces.contains(scalar), "U+\(String(value, radix: 16))")
            #expect(FieldText.isSpaceOrNewline(scalar) == CharacterSet.whitespacesAndNewlines.contains(scalar), "U+\(String(value, radix: 16))")
            #expect(FieldText.isControl(scalar) == (scalar.properties.generalCategory == .control), "U+\(String(value, radix: 16))")
        }
    }

    @Test func trimmingMatchesFoundation() {
        var random = SplitMix64(seed: 41)
        let pieces = [" ", "\t", "\n", "\r", "\u{85}", "\u{A0}", "\u{2028}", "\u{3000}", "a", "é", "中", "b c", "\u{0}"]
        for _ in 0..<2_000 {
            let text = (0..<random.below(8)).map { _ in pieces[random.below(pieces.count)] }.joined()
            #expect(FieldText.trimming(text) == text.trimmingCharacters(in: .whitespaces), "\(Array(text.unicodeScalars))")
            #expect(FieldText.trimming(text, FieldText.isSpaceOrNewline) == text.trimmingCharacters(in: .whitespacesAndNewlines),
                    "\(Array(text.unicodeScalars))")
        }
    }
}
