import Foundation
import FuzzSupport
import FuzzTargets
import HTTPAPI
import TestSupport
import Testing

/// The form guard through a real server: the body that once crashed the API, 10 000 forms with
/// delimiters injected at random offsets (each answered 202 or 4xx, the server still up after),
/// the key checked before `100 Continue`, and the file-name and header caps end to end. The name
/// ends in `FuzzTests`, so `scripts/test.sh` runs it in the fuzz pass, apart from timing tests.
@Suite("Form guard through the API", .serialized)
struct FormGuardServerFuzzTests {
    /// The injected form's file part, then the four text fields (the job post is `post`).
    static func upload(_ random: inout SplitMix64, post: String) -> [UInt8] {
        var form = DelimiterInjection.randomForm(&random)
        // Drop the generated closing delimiter and the candidate_name part; add the four fields.
        if let cut = RawHTTP.find(form, Array("\r\n--B\r\nContent-Disposition: form-data; name=\"candidate_name\"".utf8)) {
            form = Array(form[..<cut])
        }
        for (name, value) in [("candidate_name", "Ada"), ("candidate_email", "ada@example.com"), ("job_post_id", post), ("seniority_level", "SENIOR")] {
            form += Array("\r\n--B\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)".utf8)
        }
        return form + Array("\r\n--B--\r\n".utf8)
    }

    @Test func theCrashBodyIsRefusedAndTheServerStaysUp() async throws {
        try await APITestServer.with { server in
            let response = try await RawHTTP.send(
                port: server.port, "POST", "/resumes/upload", headers: [("Content-Type", DelimiterInjection.contentType)], body: FormGuardTests.crashBody)
            #expect(response.status == 400, "\(response.text)")
            #expect(response.errorCode == "bad_request")
            #expect((try await RawHTTP.getJSON(port: server.port, "/health")).status == 200)
            #expect(server.storedFiles().isEmpty)
        }
    }

    @Test func tenThousandInjectedFormsAreAnswered202Or4xx() async throws {
        try await APITestServer.with { server in
            let post = try await server.makeJobPost().uuidString.lowercased()
            let statuses = try await withThrowingTaskGroup(of: [Int: Int].self) { group in
                for client in 0..<4 {
                    group.addTask {
                        var random = SplitMix64(seed: 700 + UInt64(client))
                        var counts: [Int: Int] = [:]
                        for _ in 0..<2_500 {
                            // One form in twenty names the real post (202 when it parses); the others a
                            // post that does not exist (404 after a full parse), so little is stored.
                            let target = random.below(20) == 0 ? post : UUID().uuidString.lowercased()
                            let body = Self.upload(&random, post: target)
                            let response = try await RawHTTP.send(
                                port: server.port, "POST", "/resumes/upload", headers: [("Content-Type", DelimiterInjection.contentType)], body: body)
                            counts[response.status, default: 0] += 1
                            if response.status == 202, let id = response.json?["job_id"] as? String { await server.cleanUpJob(id) }
                        }
                        return counts
                    }
                }
                var all: [Int: Int] = [:]
                for try await counts in group { all.merge(counts, uniquingKeysWith: +) }
                return all
            }
            #expect(statuses.values.reduce(0, +) == 10_000)
            #expect(statuses.keys.allSatisfy { $0 == 202 || (400..<500).contains($0) }, "\(statuses)")
            #expect((statuses[202] ?? 0) > 0 && (statuses[400] ?? 0) > 0 && (statuses[404] ?? 0) > 0, "\(statuses)")
            #expect((try await RawHTTP.getJSON(port: server.port, "/health")).status == 200)
        }
    }

    /// With `API_KEY` set, a request without the key gets its 401 before any body byte is sent: no
    /// `100 Continue` first, and the connection is closed after the answer.
    @Test func theKeyIsCheckedBeforeContinue() async throws {
        let key = "k-\(UUID().uuidString)"
        try await APITestServer.with(configure: { $0.apiKey = key }) { server in
            let head = "POST /resumes/upload HTTP/1.1\r\nHost: x\r\nContent-Type: \(DelimiterInjection.contentType)\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n"
            let anonymous = try await RawConnection(port: server.port)
            try await anonymous.send(Array((head + "\r\n").utf8))
            let refused = try await withTimeout(.seconds(5), "401") { try await anonymous.response() }
            #expect(refused.status == 401)
            #expect(refused.header("Connection")?.lowercased() == "close")

            let wrong = try await RawConnection(port: server.port)
            try await wrong.send(Array((head + "X-API-Key: not-\(key)\r\n\r\n").utf8))
            #expect(try await withTimeout(.seconds(5), "401") { try await wrong.response() }.status == 401)

            let authorized = try await RawConnection(port: server.port)
            try await authorized.send(Array((head + "Authorization: Bearer \(key)\r\n\r\n").utf8))
            let interim = try await withTimeout(.seconds(5), "100 Continue") { try await authorized.head() }
            #expect(interim.hasPrefix("HTTP/1.1 100 Continue"))
        }
    }

    @Test func fileNamesAreStoredCappedAndHeadersOverTheCapAreRefused() async throws {
        try await APITestServer.with { server in
            let post = try await server.makeJobPost().uuidString
            // 6 000 combining accents on one "e": one character, 12 KB, within the 16 KB header cap.
            let accents = "e" + String(repeating: "\u{301}", count: 6_000) + "\u{202E}fdp.exe"
            let accepted = try await server.upload(MultipartBody.upload(jobPostID: post, data: Documents.pdf, filename: accents))
            #expect(accepted.status == 202, "\(accepted.text)")
            let id = try #require(accepted.json?["application_id"] as? String)
            if let job = accepted.json?["job_id"] as? String { await server.cleanUpJob(job) }
            let detail = try await RawHTTP.getJSON(port: server.port, "/resumes/\(id)")
            let stored = try #require(detail.json?["original_filename"] as? String)
            #expect(stored.utf8.count <= 255)
            #expect(!stored.unicodeScalars.contains("\u{202E}"))

            let tooLong = try await server.upload(MultipartBody.upload(jobPostID: post, data: Documents.pdf, filename: String(repeating: "n", count: 17_000)))
            #expect(tooLong.status == 400)
            #expect(tooLong.text.contains("headers are longer than 16384 bytes"), "\(tooLong.text)")
            #expect((try await RawHTTP.getJSON(port: server.port, "/health")).status == 200)
        }
    }
}
