import ApplicationStore
import Foundation
import Postgres
import HTTPAPI
import TestSupport
import Testing

/// One malformed or hostile request and the exact status it must get.
struct HostileCase: Sendable {
    var name: String
    var pieces: [RawHTTP.Piece]
    var expected: Int
}

@Suite("HTTP API hostile requests", .serialized)
struct HostileRequestTests {

    /// Builds the cases against an existing job post.
    static func cases(jobPostID: UUID) -> [HostileCase] {
        let post = jobPostID.uuidString.lowercased()
        var cases: [HostileCase] = []
        func upload(_ name: String, _ body: MultipartBody, expected: Int, contentType: String? = nil) {
            let headers = [("Content-Type", contentType ?? body.contentType)]
            cases.append(HostileCase(name: name, pieces: [.bytes(RawHTTP.request("POST", "/resumes/upload", headers: headers, body: body.bytes))], expected: expected))
        }
        func raw(_ name: String, _ bytes: [UInt8], expected: Int) {
            cases.append(HostileCase(name: name, pieces: [.bytes(bytes)], expected: expected))
        }
        let valid: [String: [UInt8]] = [
            "candidate_name": Array("Jane Doe".utf8), "candidate_email": Array("jane@example.com".utf8),
            "job_post_id": Array(post.utf8), "seniority_level": Array("SENIOR".utf8),
        ]
        let order = ["candidate_name", "candidate_email", "job_post_id", "seniority_level"]
        /// A form with the valid fields, `field` replaced (nil = left out), and optionally the file changed.
        func form(replacing field: String? = nil, with value: [UInt8]? = nil, file: [UInt8]? = Documents.pdf, filename: String = "resume.pdf",
                  extra: (inout MultipartBody) -> Void = { _ in }) -> MultipartBody {
            var body = MultipartBody()
            if let file { body.file(filename: filename, file) }
            for name in order {
                if name == field {
                    if let value { body.field(name, value) }
                } else {
                    body.field(name, valid[name]!)
                }
            }
            extra(&body)
            return body
        }

        // Text fields: each problem on each field → 422.
        let lengths = ["candidate_name": 200, "candidate_email": 254, "job_post_id": 36, "seniority_level": 16]
        for name in order {
            upload("\(name) missing", form(replacing: name, with: nil), expected: 422)
            upload("\(name) empty", form(replacing: name, with: []), expected: 422)
            upload("\(name) blank", form(replacing: name, with: Array("   \t ".utf8)), expected: 422)
            upload("\(name) one too long", form(replacing: name, with: Array(String(repeating: "a", count: lengths[name]! + 1).utf8)), expected: 422)
            upload("\(name) huge (200 KB)", form(replacing: name, with: Array(repeating: 0x61, count: 200_000)), expected: 422)
            upload("\(name) NUL byte", form(replacing: name, with: valid[name]! + [0] + Array("x".utf8)), expected: 422)
            upload("\(name) non-UTF-8", form(replacing: name, with: [0xFF, 0xFE, 0xC3, 0x28]), expected: 422)
            upload("\(name) control character", form(replacing: name, with: valid[name]! + [0x07]), expected: 422)
            upload("\(name) given twice", form(extra: { $0.field(name, valid[name]!) }), expected: 422)
            upload("\(name) as a file", form(replacing: name, with: nil, extra: { $0.file(name, filename: "x.txt", valid[name]!) }), expected: 422)
        }
        for email in ["jane", "jane@", "@example.com", "jane@example", "jane doe@example.com", "jane@@example.com", "jane@exa_mple.com",
                      "jane@.example.com", "<script>@example.com", "jané@example.com"] {
            upload("bad e-mail \(email)", form(replacing: "candidate_email", with: Array(email.utf8)), expected: 422)
        }
        for id in ["123", "not-a-uuid", "g0000000-0000-0000-0000-000000000000", "' OR 1=1 --", "../../etc/passwd", "00000000000000000000000000000000x"] {
            upload("bad job_post_id \(id)", form(replacing: "job_post_id", with: Array(id.utf8)), expected: 422)
        }
        for level in ["PRINCIPAL", "senior ", "SENIOR; DROP TABLE applications", "1", "Séniör"] where level != "senior " {
            upload("unknown seniority \(level)", form(replacing: "seniority_level", with: Array(level.utf8)), expected: 422)
        }
        upload("unknown job post", form(replacing: "job_post_id", with: Array(UUID().uuidString.utf8)), expected: 404)

        // The file.
        upload("file missing", form(file: nil), expected: 422)
        upload("file empty", form(file: []), expected: 422)
        upload("file twice", form(extra: { $0.file(filename: "b.pdf", Documents.pdf) }), expected: 422)
        upload("file as a text field", form(file: nil, extra: { $0.field("file", Documents.pdf) }), expected: 422)
        upload("PNG without an IHDR chunk", form(file: Documents.png, filename: "resume.pdf"), expected: 422)
        upload("PNG declaring 20000 × 20000 pixels", form(file: ScanFactory.pngHeader(width: 20_000, height: 20_000), filename: "r.png"), expected: 422)
        upload("TIFF whose directory lies outside the file", form(file: [0x49, 0x49, 0x2A, 0, 0xFF, 0xFF, 0, 0, 1, 2, 3], filename: "r.tif"), expected: 422)
        upload("GIF", form(file: Array("GIF89a".utf8) + [0, 0, 1, 0, 0xFF, 0], filename: "resume.pdf"), expected: 415)
        upload("ELF", form(file: [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0, 0, 0], filename: "resume.txt"), expected: 415)
        upload("ZIP without word/", form(file: [0x50, 0x4B, 0x03, 0x04] + Array("xl/workbook.xml".utf8) + [0, 0, 0], filename: "r.docx"), expected: 415)
        upload("text with NUL bytes", form(file: Array("hello".utf8) + [0, 0, 0] + Array("world".utf8), filename: "r.txt"), expected: 415)
        upload("random binary", form(file: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }, filename: "r.pdf"), expected: 415)
        upload("PDF declared as image/png still judged by bytes, unknown post", {
            var body = MultipartBody()
            body.file(filename: "x.png", contentType: "image/png", Documents.pdf)
            for name in order { body.field(name, name == "job_post_id" ? Array(UUID().uuidString.utf8) : valid[name]!) }
            return body
        }(), expected: 404)
        for filename in ["../../../../etc/passwd", "/etc/shadow", "..\\..\\windows\\system32\\config", "resume.pdf\u{0}.exe", "%2e%2e%2f%2e%2e%2fetc",
                         "....//....//etc/hosts", String(repeating: "a", count: 5000) + ".pdf"] {
            // Traversal names are only ever display names; with an unknown post nothing is written either way.
            upload("path traversal file name \(filename.prefix(30))",
                   form(replacing: "job_post_id", with: Array(UUID().uuidString.utf8), filename: filename), expected: 404)
        }

        // Size.
        let big = Documents.pdf(size: 11 * 1024 * 1024)
        upload("11 MB file", form(file: big), expected: 413)
        var chunked = Array("POST /resumes/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n".utf8)
        let bigForm = form(file: big)
        chunked += Array("Content-Type: \(bigForm.contentType)\r\n\r\n".utf8)
        var offset = 0
        let bigBytes = bigForm.bytes
        while offset < bigBytes.count {
            let end = min(offset + 65_536, bigBytes.count)
            chunked += Array("\(String(end - offset, radix: 16))\r\n".utf8) + bigBytes[offset..<end] + Array("\r\n".utf8)
            offset = end
        }
        chunked += Array("0\r\n\r\n".utf8)
        raw("11 MB chunked upload", chunked, expected: 413)
        raw("declared 50 MB", Array("POST /resumes/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: \(bigForm.contentType)\r\nContent-Length: 52428800\r\n\r\n".utf8), expected: 413)
        upload("too many parts", form(extra: { body in for index in 0..<20 { body.field("extra\(index)", "x") } }), expected: 400)

        // Content types and boundaries.
        let good = form()
        for type in ["application/json", "text/plain", "multipart/mixed; boundary=\(good.boundary)", "application/x-www-form-urlencoded", "image/png"] {
            upload("content type \(type.prefix(24))", good, expected: 415, contentType: type)
        }
        raw("no content type", RawHTTP.request("POST", "/resumes/upload", body: good.bytes), expected: 415)
        for type in ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\(String(repeating: "b", count: 71))",
                     "multipart/form-data; boundary=bad{chars}", "multipart/form-data; boundary=\"unterminated"] {
            upload("boundary \(type.dropFirst(19).prefix(20))", good, expected: 400, contentType: type)
        }

        // Broken multipart bodies.
        func rawForm(_ name: String, _ body: [UInt8], boundary: String = "XYZ", expected: Int = 400) {
            raw(name, RawHTTP.request("POST", "/resumes/upload", headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: body), expected: expected)
        }
        var unclosed = good
        unclosed.closing = false
        upload("no closing boundary", unclosed, expected: 400)
        upload("other boundary in the body", good, expected: 400, contentType: "multipart/form-data; boundary=something-else")
        rawForm("empty body", [])
        rawForm("garbage body", Array("this is not multipart at all".utf8))
        rawForm("part without Content-Disposition", Array("--XYZ\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XYZ--\r\n".utf8))
        rawForm("Content-Disposition not form-data", Array("--XYZ\r\nContent-Disposition: attachment; name=\"file\"\r\n\r\nhello\r\n--XYZ--\r\n".utf8))
        rawForm("header line without colon", Array("--XYZ\r\nContent-Disposition form-data\r\n\r\nhello\r\n--XYZ--\r\n".utf8))
        rawForm("junk after boundary", Array("--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--XYZjunk\r\n--XYZ--\r\n".utf8))
        rawForm("unterminated quoted name", Array("--XYZ\r\nContent-Disposition: form-data; name=\"file\r\n\r\nhello\r\n--XYZ--\r\n".utf8))
        rawForm("name given twice in one header", Array("--XYZ\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nhello\r\n--XYZ--\r\n".utf8))
        rawForm("two Content-Disposition headers", Array("--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\nhello\r\n--XYZ--\r\n".utf8))
        rawForm("empty part name", Array("--XYZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nhello\r\n--XYZ--\r\n".utf8))
        rawForm("bare LF line endings", Array("--XYZ\nContent-Disposition: form-data; name=\"a\"\n\nhello\n--XYZ--\n".utf8))
        rawForm("closing boundary only", Array("--XYZ--\r\n".utf8))
        // Found by `bench fuzz`: MultipartKit 4.7.1 traps on a header-name byte ≥ 0x80 (the server
        // would crash); the reader refuses it first. UTF-8 in header *values* stays accepted.
        rawForm("non-ASCII header name", Array("--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-\u{e9}t\u{e9}: 1\r\n\r\nhello\r\n--XYZ--\r\n".utf8))
        rawForm("non-ASCII byte first in a header name", [UInt8]("--XYZ\r\n".utf8) + [0xFF] + Array(": x\r\n\r\nhello\r\n--XYZ--\r\n".utf8))
        rawForm("truncated mid-part", Array("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4 trunc".utf8))

        // Job posts.
        func postJSON(_ name: String, _ body: [UInt8], contentType: String = "application/json", expected: Int) {
            raw(name, RawHTTP.request("POST", "/job-posts", headers: [("Content-Type", contentType)], body: body), expected: expected)
        }
        postJSON("job post garbage JSON", Array("{not json".utf8), expected: 400)
        postJSON("job post JSON array", Array("[1,2,3]".utf8), expected: 400)
        postJSON("job post JSON string", Array("\"title\"".utf8), expected: 400)
        postJSON("job post empty body", [], expected: 400)
        postJSON("job post invalid UTF-8", [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], expected: 400)
        postJSON("job post missing fields", Array("{}".utf8), expected: 422)
        postJSON("job post wrong types", Array(#"{"title": 5, "description": ["x"], "seniority_level": true}"#.utf8), expected: 422)
        postJSON("job post empty title", Array(#"{"title": "", "description": "d", "seniority_level": "MID"}"#.utf8), expected: 422)
        postJSON("job post huge title", Array(#"{"title": "\#(String(repeating: "t", count: 300))", "description": "d", "seniority_level": "MID"}"#.utf8), expected: 422)
        postJSON("job post bad seniority", Array(#"{"title": "t", "description": "d", "seniority_level": "CEO"}"#.utf8), expected: 422)
        postJSON("job post NUL in title", Array(#"{"title": "a\u0000b", "description": "d", "seniority_level": "MID"}"#.utf8), expected: 422)
        postJSON("job post null fields", Array(#"{"title": null, "description": null, "seniority_level": null}"#.utf8), expected: 422)
        postJSON("job post as form", Array("title=x".utf8), contentType: "application/x-www-form-urlencoded", expected: 415)
        postJSON("job post 100 KB body", Array(#"{"title": "\#(String(repeating: "t", count: 100_000))"}"#.utf8), expected: 413)

        // Paths and queries.
        func get(_ name: String, _ path: String, expected: Int) {
            raw(name, Array("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), expected: expected)
        }
        get("resume id not a UUID", "/resumes/abc", expected: 422)
        get("resume id encoded traversal", "/resumes/%2e%2e%2f%2e%2e%2fetc%2fpasswd", expected: 422)
        get("resume id SQL", "/resumes/1%27%20OR%20%271%27=%271", expected: 422)
        get("traversal path", "/resumes/../../etc/passwd", expected: 404)
        get("unknown route", "/admin", expected: 404)
        get("job id with bad characters", "/jobs/abc!def", expected: 422)
        get("job id too long", "/jobs/\(String(repeating: "a", count: 200))", expected: 422)
        get("unknown job", "/jobs/\(UUID().uuidString)", expected: 404)
        get("job post id not a UUID", "/job-posts/xyz", expected: 422)
        get("candidates of a bad id", "/job-posts/xyz/candidates", expected: 422)
        get("candidates garbage cursor", "/job-posts/\(post)/candidates?cursor=%00%01", expected: 422)
        get("applications negative limit", "/applications?limit=-1", expected: 422)
        get("applications huge limit", "/applications?limit=99999999999999999999", expected: 422)
        get("applications NUL in email", "/applications?email=a%00b", expected: 422)
        get("applications bad encoding", "/applications?status=%G1", expected: 422)
        get("job posts base64 garbage cursor", "/job-posts?cursor=dGhpcyBpcyBub3QgYSBjdXJzb3I", expected: 422)
        raw("DELETE on upload", RawHTTP.request("DELETE", "/resumes/upload"), expected: 405)
        raw("PUT job posts", RawHTTP.request("PUT", "/job-posts", body: Array("{}".utf8)), expected: 405)
        raw("request line garbage", Array("HELLO WORLD\r\n\r\n".utf8), expected: 400)
        raw("header without colon", Array("GET /health HTTP/1.1\r\nHost x\r\n\r\n".utf8), expected: 400)
        raw("invalid chunk size", Array("POST /job-posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n".utf8), expected: 400)
        return cases
    }

    @Test func everyHostileRequestGetsItsExactStatusAndWritesNothing() async throws {
        try await APITestServer.with(configure: { $0.idleTimeout = .seconds(5) }) { server in
            let jobPostID = try await server.makeJobPost()
            let cases = Self.cases(jobPostID: jobPostID)
            #expect(cases.count >= 130)
            let postsBefore = try await server.postgres.query("SELECT count(*) FROM job_posts").first?.decode(0, as: Int.self)

            var results: [(HostileCase, RawResponse)] = []
            for batch in stride(from: 0, to: cases.count, by: 8) {
                let slice = Array(cases[batch..<min(batch + 8, cases.count)])
                await withTaskGroup(of: (Int, Result<RawResponse, any Error>).self) { group in
                    for (index, item) in slice.enumerated() {
                        group.addTask {
                            do {
                                return (index, .success(try await RawHTTP.exchange(port: server.port, item.pieces, timeout: 20)))
                            } catch {
                                return (index, .failure(error))
                            }
                        }
                    }
                    for await (index, outcome) in group {
                        switch outcome {
                        case .success(let response): results.append((slice[index], response))
                        case .failure(let error): Issue.record("\(slice[index].name): \(error)")
                        }
                    }
                }
            }
            for (item, response) in results {
                #expect(response.status == item.expected, "\(item.name): got \(response.status) \(response.text.prefix(300))")
                #expect(response.status < 500, "\(item.name)")
                if !response.body.isEmpty {
                    #expect(response.errorCode != nil, "\(item.name): not an error envelope: \(response.text.prefix(200))")
                }
            }
            // Nothing was written and the server is still up.
            #expect(try await server.repository.countApplications() == 0)
            #expect(try await server.postgres.query("SELECT count(*) FROM job_posts").first?.decode(0, as: Int.self) == postsBefore)
            #expect(server.storedFiles().isEmpty)
            #expect(try await RawHTTP.getJSON(port: server.port, "/health").status == 200)
            let ok = try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.pdf))
            #expect(ok.status == 202)
            if let id = ok.json?["job_id"] as? String { await server.cleanUpJob(id) }
        }
    }

    /// A client that trickles its body past the upload deadline gets 408 and nothing is written.
    @Test func slowBodyTimesOut() async throws {
        try await APITestServer.with(configure: { $0.uploadTimeout = .seconds(1) }) { server in
            let jobPostID = try await server.makeJobPost()
            let good = MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.pdf)
            let slow = good.bytes
            var pieces: [RawHTTP.Piece] = [
                .bytes(Array("POST /resumes/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: \(good.contentType)\r\nContent-Length: \(slow.count)\r\n\r\n".utf8))
            ]
            for index in 0..<8 {
                pieces.append(.bytes(Array(slow[(index * 20)..<(index * 20 + 20)])))
                pieces.append(.pause(milliseconds: 250))
            }
            pieces.append(.bytes(Array(slow[160...])))
            let response = try await RawHTTP.exchange(port: server.port, pieces)
            #expect(response.status == 408)
            #expect(response.errorCode == "request_timeout")
            #expect(try await server.repository.countApplications() == 0)
            #expect(server.storedFiles().isEmpty)
            // The same body sent at once is accepted.
            let ok = try await server.upload(good)
            #expect(ok.status == 202)
            if let id = ok.json?["job_id"] as? String { await server.cleanUpJob(id) }
        }
    }
}
