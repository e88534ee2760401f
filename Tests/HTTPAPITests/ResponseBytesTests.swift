import AppConfig
import ApplicationStore
import Foundation
import HTTPAPI
import NativeQueue
import Postgres
import RQ
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The exact bytes of the API's answers: key order, `null`s, number and date formats and string
/// escapes are a contract that clients and the OpenAPI document rely on. Each expected body is
/// written out here by hand, from the rows the request wrote.
@Suite("HTTP API response bytes", .serialized)
struct ResponseBytesTests {
    /// A date as the API writes it: UTC, microseconds, `Z`.
    static func stamp(_ date: Date?) -> String {
        guard let date else { return "null" }
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return "\"" + String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), fraction) + "\""
    }

    static func json(_ headers: [(String, String)] = []) -> [(String, String)] { [("Content-Type", "application/json")] + headers }

    @Test func healthReadyAndErrorEnvelopes() async throws {
        try await APITestServer.with { server in
            let health = try await RawHTTP.getJSON(port: server.port, "/health")
            #expect(health.text == #"{"status":"ok"}"#)
            #expect(health.header("Content-Type") == "application/json")
            #expect(health.header("Content-Length") == "15")
            #expect(try await RawHTTP.getJSON(port: server.port, "/ready").text == #"{"status":"ready","checks":{"redis":"ok","postgres":"ok"}}"#)
            #expect(try await RawHTTP.getJSON(port: server.port, "/nowhere").text == #"{"error":{"code":"not_found","message":"no such route"}}"#)

            let notAllowed = try await RawHTTP.send(port: server.port, "DELETE", "/job-posts")
            #expect(notAllowed.status == 405)
            #expect(notAllowed.header("Allow") == "GET, POST")
            #expect(notAllowed.text == #"{"error":{"code":"method_not_allowed","message":"this route answers GET, POST"}}"#)

            var form = MultipartBody()
            form.field("unrelated", "x")
            let invalid = try await server.upload(form)
            #expect(invalid.status == 422)
            #expect(invalid.text == #"{"error":{"code":"validation_failed","message":"the request has invalid fields","fields":{"#
                + #""candidate_email":"missing","candidate_name":"missing","file":"missing","job_post_id":"missing","seniority_level":"missing"}}}"#)

            let query = try await RawHTTP.getJSON(port: server.port, "/applications?limit=0&status=nope&x=1")
            #expect(query.text == #"{"error":{"code":"validation_failed","message":"the query string has invalid parameters","fields":{"x":"unknown parameter"}}}"#)
            let fields = try await RawHTTP.getJSON(port: server.port, "/applications?limit=0&status=nope")
            #expect(fields.text == #"{"error":{"code":"validation_failed","message":"the request has invalid fields","fields":{"#
                + #""limit":"must be a whole number from 1 to 100","status":"must be one of PENDING, PROCESSING, COMPLETED, FAILED"}}}"#)
        }
    }

    @Test func jobPostsAreWrittenInDeclaredOrder() async throws {
        try await APITestServer.with { server in
            let body = Array(#"{"title": " Staff \"Swift\" / Server ", "description": "Line one\nline\ttwo é", "seniority_level": "lead"}"#.utf8)
            let created = try await RawHTTP.send(port: server.port, "POST", "/job-posts", headers: Self.json(), body: body)
            #expect(created.status == 201, "\(created.text)")
            let id = try #require((created.json?["id"] as? String).flatMap { UUID(uuidString: $0) })
            let post = try #require(try await server.repository.jobPost(id: id))
            let expected = #"{"id":""# + id.uuidString.lowercased() + #"","title":"Staff \"Swift\" / Server","description":"Line one\nline\ttwo é","#
                + #""seniority_level":"LEAD","created_at":\#(Self.stamp(post.createdAt)),"updated_at":\#(Self.stamp(post.updatedAt))}"#
            #expect(created.text == expected)
            #expect(try await RawHTTP.getJSON(port: server.port, "/job-posts/\(id)").text == expected)
            #expect(try await RawHTTP.getJSON(port: server.port, "/job-posts").text == #"{"items":[\#(expected)],"next_cursor":null}"#)
        }
    }

    @Test func applicationsCandidatesAndResumeDetail() async throws {
        try await APITestServer.with { server in
            let jobPostID = try await server.makeJobPost()
            let created = Date(timeIntervalSince1970: 1_800_000_000.25)
            let application = Application(
                id: UUID(), jobPostID: jobPostID, candidateName: "Zoë \"Z\" O'Neil", email: "zoe@example.com", seniorityLevel: .mid,
                status: .pending, originalFilename: "cv.pdf", contentType: "application/pdf", fileSize: 1234, fileSHA256: String(repeating: "ab", count: 32),
                storageKey: "resumes/x.pdf", createdAt: created, updatedAt: created)
            try await server.repository.insert(application)
            let text = String(repeating: "Swift engineer. ", count: 50)
            try await server.postgres.query(
                "UPDATE applications SET status = 'COMPLETED', extracted_text = $1, match_score = 0.75, processed_at = now() WHERE id = $2",
                [text, application.id])
            let row = try #require(try await server.repository.application(id: application.id))
            let id = application.id.uuidString.lowercased()
            let members = #"{"application_id":"\#(id)","job_id":"\#(id)","job_post_id":"\#(jobPostID.uuidString.lowercased())","#
                + #""candidate_name":"Zoë \"Z\" O'Neil","candidate_email":"zoe@example.com","seniority_level":"MID","status":"COMPLETED","#
                + #""original_filename":"cv.pdf","content_type":"application/pdf","file_size":1234,"file_sha256":"\#(String(repeating: "ab", count: 32))","#
                + #""match_score":0.75,"error_message":null,"attempts":0,"created_at":\#(Self.stamp(row.createdAt)),"#
                + #""updated_at":\#(Self.stamp(row.updatedAt)),"processed_at":\#(Self.stamp(row.processedAt))"#
            let detail = try await RawHTTP.getJSON(port: server.port, "/resumes/\(id)")
            #expect(detail.text == members + #","text_length":800,"text_preview":"\#(text.prefix(300))"}"#)
            #expect(try await RawHTTP.getJSON(port: server.port, "/applications").text == #"{"items":[\#(members)}],"next_cursor":null}"#)
            let candidates = try await RawHTTP.getJSON(port: server.port, "/job-posts/\(jobPostID)/candidates")
            #expect(candidates.text == #"{"job_post_id":"\#(jobPostID.uuidString.lowercased())","items":[{"application_id":"\#(id)","#
                + #""candidate_name":"Zoë \"Z\" O'Neil","candidate_email":"zoe@example.com","seniority_level":"MID","match_score":0.75,"#
                + #""processed_at":\#(Self.stamp(row.processedAt))}],"next_cursor":null}"#)

            // A row without text, score or processing time: every absent value is `null`.
            let bare = Application(id: UUID(), jobPostID: jobPostID, candidateName: "B", email: "b@example.com", seniorityLevel: .junior, status: .pending)
            try await server.repository.insert(bare)
            let bareRow = try #require(try await server.repository.application(id: bare.id))
            let bareID = bare.id.uuidString.lowercased()
            #expect(try await RawHTTP.getJSON(port: server.port, "/resumes/\(bareID)").text
                        == #"{"application_id":"\#(bareID)","job_id":"\#(bareID)","job_post_id":"\#(jobPostID.uuidString.lowercased())","#
                        + #""candidate_name":"B","candidate_email":"b@example.com","seniority_level":"JUNIOR","status":"PENDING","#
                        + #""original_filename":null,"content_type":null,"file_size":null,"file_sha256":null,"match_score":null,"#
                        + #""error_message":null,"attempts":0,"created_at":\#(Self.stamp(bareRow.createdAt)),"#
                        + #""updated_at":\#(Self.stamp(bareRow.updatedAt)),"processed_at":null,"text_length":null,"text_preview":null}"#)
        }
    }

    @Test(arguments: [QueueMode.native, .rq])
    func uploadAndJobInspection(_ mode: QueueMode) async throws {
        try await APITestServer.with(mode: mode) { server in
            let jobPostID = try await server.makeJobPost()
            let post = jobPostID.uuidString.lowercased()
            let response = try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.pdf))
            let id = try #require(response.json?["application_id"] as? String)
            #expect(response.status == 202)
            #expect(response.text == #"{"application_id":"\#(id)","job_id":"\#(id)","status":"PENDING","message":"Résumé received; processing has been queued."}"#)
            let job = try await RawHTTP.getJSON(port: server.port, "/jobs/\(id)")
            let function = "app.workers.async_resume_processor.process_resume_async"
            switch mode {
            case .native:
                let stored = try #require(try await NativeQueueClient(redis: server.redis).job(id))
                #expect(job.text == #"{"job_id":"\#(id)","mode":"native","status":"queued","function":"\#(function)","args":["\#(id)", "\#(post)"],"#
                            + #""attempts":0,"max_attempts":3,"created_at":\#(Self.stamp(stored.createdAt)),"started_at":null,"ended_at":null,"#
                            + #""worker":null,"error":null,"result":null}"#)
            case .rq:
                let stored = try #require(try await RQStore(redis: server.redis).fetchJob(id))
                #expect(job.text == #"{"job_id":"\#(id)","mode":"rq","status":"queued","function":"\#(function)","args":["\#(id)", "\#(post)"],"#
                            + #""origin":"resume_processing","created_at":\#(Self.stamp(stored.createdAt)),"enqueued_at":\#(Self.stamp(stored.enqueuedAt)),"#
                            + #""started_at":null,"ended_at":null,"worker":null,"retries_left":3,"latest_result":null}"#)
            }
            await server.cleanUpJob(id)
        }
    }
}
