import HTTPAPI
import Testing

/// The form reader on its own (no server): the header-name guard against MultipartKit's trap, in
/// every chunking, and UTF-8 file names still accepted.
@Suite struct UploadFormProbeTests {
    let type = "multipart/form-data; boundary=XYZ"

    func body(headerName: [UInt8], filename: String) -> [UInt8] {
        Array("preamble\r\n--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\n".utf8) + headerName
            + Array(": v\u{e9}\r\n\r\n%PDF-1.4 --XY --XYZ inside\r\n--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--XYZ--\r\n".utf8)
    }

    @Test func utf8FileNamesAndHeaderValuesAreAcceptedInEveryChunking() throws {
        let input = body(headerName: Array("X-Note".utf8), filename: "résumé – Zoë.pdf")
        for chunk in 1...input.count {
            let parts = try UploadFormProbe.parse(contentType: type, body: input, chunkSize: chunk)
            #expect(parts.map(\.name) == ["file", "a"], "chunk \(chunk)")
            #expect(parts.first?.filename == "résumé – Zoë.pdf")
            #expect(parts.first?.size == "%PDF-1.4 --XY --XYZ inside".utf8.count)
        }
    }

    @Test func nonASCIIHeaderNamesAreRefusedInEveryChunking() {
        for name in [Array("X-\u{e9}".utf8), [0x80], [0xFF, 0x41]] {
            let input = body(headerName: name, filename: "a.pdf")
            for chunk in 1...input.count {
                #expect(throws: UploadFormProbe.Refusal.malformed("a part header name contains a non-ASCII byte"), "chunk \(chunk)") {
                    _ = try UploadFormProbe.parse(contentType: type, body: input, chunkSize: chunk)
                }
            }
        }
    }

    @Test func refusalsMapToTheRouteAnswers() {
        #expect(throws: UploadFormProbe.Refusal.notMultipart) { _ = try UploadFormProbe.parse(contentType: "text/plain", body: [], chunkSize: 1) }
        #expect(throws: UploadFormProbe.Refusal.badBoundary) {
            _ = try UploadFormProbe.parse(contentType: "multipart/form-data", body: [], chunkSize: 1)
        }
        #expect(throws: UploadFormProbe.Refusal.tooLarge) {
            _ = try UploadFormProbe.parse(
                contentType: type, body: body(headerName: Array("X".utf8), filename: "a.pdf") + Array(repeating: 0x20, count: 200),
                chunkSize: 64, limits: UploadLimits(maxFileBytes: 10, formOverheadBytes: 100))
        }
    }
}
