import ResumeJobs
import AppConfig
import ApplicationStore
import Crypto
import Foundation
import HTTPAPI
import NativeQueue
import Postgres
import Pickle
import Redis
import RQ
import TestSupport
import Testing

@Suite("HTTP API uploads", .serialized)
struct UploadTests {
    /// The seed's curl commands, run with the real `curl`.
    @Test func seedCurlCommandsWorkAsWritten() async throws {
        try await APITestServer.with { server in
            let base = "http://localhost:\(server.port)"
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let resume = folder.appendingPathComponent("resume.pdf")
            try Data(Documents.pdf).write(to: resume)

            let created = try await offload {
                try ChildProcess.run("curl", [
                    "-sS", "-X", "POST", "\(base)/job-posts", "-H", "Content-Type: application/json",
                    "-d", #"{"title": "Senior Swift engineer", "description": "Server-side Swift and PostgreSQL", "seniority_level": "SENIOR"}"#,
                ])
            }
            #expect(created.status == 0)
            let post = try #require(try JSONSerialization.jsonObject(with: Data(created.output.utf8)) as? [String: Any])
            let jobPostID = try #require(post["id"] as? String)

            // Exactly the seed's command, from the folder holding resume.pdf.
            let upload = try await offload {
                try ChildProcess.run("/bin/sh", [
                    "-c",
                    """
                    cd '\(folder.path)' && curl -sS -X POST \(base)/resumes/upload -F "file=@resume.pdf" -F "candidate_name=Jane Doe" \
                    -F "candidate_email=jane@example.com" -F "job_post_id=\(jobPostID)" -F "seniority_level=SENIOR" -w '\\n%{http_code}'
                    """,
                ])
            }
            let lines = upload.output.split(separator: "\n")
            #expect(lines.last == "202")
            let accepted = try #require(try JSONSerialization.jsonObject(with: Data(lines.first!.utf8)) as? [String: Any])
            #expect(accepted["status"] as? String == "PENDING")
            let applicationID = try #require(accepted["application_id"] as? String)
            #expect(accepted["job_id"] as? String == applicationID)

            let fetched = try await offload { try ChildProcess.run("curl", ["-sS", "\(base)/resumes/\(applicationID)"]) }
            let detail = try #require(try JSONSerialization.jsonObject(with: Data(fetched.output.utf8)) as? [String: Any])
            #expect(detail["candidate_name"] as? String == "Jane Doe")
            #expect(detail["candidate_email"] as? String == "jane@example.com")
            #expect(detail["seniority_level"] as? String == "SENIOR")
            #expect(detail["original_filename"] as? String == "resume.pdf")
            #expect(detail["status"] as? String == "PENDING")
            await server.cleanUpJob(applicationID)
        }
    }

    @Test(arguments: [
        ("resume.pdf", Documents.pdf, "application/pdf", "pdf"),
        ("resume.docx", Documents.docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        ("resume.txt", Documents.txt, "text/plain; charset=utf-8", "txt"),
    ])
    func uploadsEachKindInNativeMode(_ filename: String, _ data: [UInt8], _ contentType: String, _ ext: String) async throws {
        try await APITestServer.with(mode: .native) { server in
            let jobPostID = try await server.makeJobPost()
            // The client's name and type are ignored: the kind comes from the bytes.
            let response = try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: data, filename: "../../etc/\(filename)"))
            #expect(response.status == 202, "\(response.text)")
            let idText = try #require(response.json?["application_id"] as? String)
            let id = try #require(UUID(uuidString: idText))
            #expect(response.json?["job_id"] as? String == resumeJobID(for: id))
            #expect(response.json?["status"] as? String == "PENDING")

            let row = try #require(try await server.repository.application(id: id))
            #expect(row.status == .pending)
            #expect(row.jobPostID == jobPostID)
            #expect(row.contentType == contentType)
            #expect(row.fileSize == data.count)
            #expect(row.originalFilename == filename)  // display name only: the path is stripped
            #expect(row.fileSHA256 == SHA256.hash(data: Data(data)).map { String(format: "%02x", $0) }.joined())
            let key = try #require(row.storageKey)
            #expect(key.hasPrefix("resumes/") && key.hasSuffix("/\(id.uuidString.lowercased()).\(ext)"))
            #expect(server.storedFiles() == [key])
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(server.storageRoot)/\(key)")) == Data(data))

            let job = try #require(try await NativeQueueClient(redis: server.redis).job(resumeJobID(for: id)))
            #expect(job.function == "app.workers.async_resume_processor.process_resume_async")
            #expect(job.args == [.string(id.uuidString.lowercased()), .string(jobPostID.uuidString.lowercased())])
            #expect(job.status == .queued)
            #expect(job.maxAttempts == 3)
            let queued = try await server.redis.send("LRANGE", "resume_processing_queue", "0", "-1").array?.compactMap(\.string) ?? []
            #expect(queued.contains(resumeJobID(for: id)))

            let status = try await RawHTTP.getJSON(port: server.port, "/jobs/\(resumeJobID(for: id))")
            #expect(status.status == 200)
            #expect(status.json?["mode"] as? String == "native")
            #expect(status.json?["status"] as? String == "queued")
            await server.cleanUpJob(resumeJobID(for: id))
        }
    }

    @Test func uploadInRQModeWritesAnRQJobWithRetry() async throws {
        try await APITestServer.with(mode: .rq) { server in
            let jobPostID = try await server.makeJobPost()
            let response = try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.pdf))
            #expect(response.status == 202, "\(response.text)")
            let applicationID = try #require(response.json?["application_id"] as? String)
            let jobID = try #require(response.json?["job_id"] as? String)
            #expect(jobID == applicationID)

            let job = try #require(try await RQStore(redis: server.redis).fetchJob(jobID))
            #expect(job.call.functionName == "app.workers.async_resume_processor.process_resume_async")
            #expect(job.call.args == [.string(applicationID), .string(jobPostID.uuidString.lowercased())])
            #expect(job.status == .queued)
            #expect(job.origin == "resume_processing")
            #expect(job.retriesLeft == 3)
            #expect(job.retryIntervals == [10, 30, 60])
            #expect(job.timeout == 180)
            let queued = try await RQStore(redis: server.redis).queue("resume_processing").jobIDs()
            #expect(queued.contains(jobID))
            // Raw hash fields as Python RQ reads them.
            let fields = try await server.redis.send("HGETALL", RedisArgument("rq:job:\(jobID)")).fieldMap
            #expect(fields["retries_left"].map { String(decoding: $0, as: UTF8.self) } == "3")
            #expect(fields["retry_intervals"].map { String(decoding: $0, as: UTF8.self) } == "[10, 30, 60]")

            let status = try await RawHTTP.getJSON(port: server.port, "/jobs/\(jobID)")
            #expect(status.status == 200)
            #expect(status.json?["mode"] as? String == "rq")
            #expect(status.json?["status"] as? String == "queued")
            #expect(status.json?["retries_left"] as? Int == 3)
            #expect(try await RawHTTP.getJSON(port: server.port, "/jobs/\(UUID().uuidString.lowercased())").status == 404)
            await server.cleanUpJob(jobID)
        }
    }

    @Test func unknownJobPostIs404AndWritesNothing() async throws {
        try await APITestServer.with { server in
            let response = try await server.upload(MultipartBody.upload(jobPostID: UUID().uuidString, data: Documents.pdf))
            #expect(response.status == 404)
            #expect(response.errorCode == "not_found")
            #expect(try await server.repository.countApplications() == 0)
            #expect(server.storedFiles().isEmpty)
        }
    }

    @Test func jobPostDeletedWhileRememberedIs404AndKeepsNothing() async throws {
        try await APITestServer.with { server in
            let jobPostID = try await server.makeJobPost()
            let first = try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.txt, filename: "cv.txt"))
            #expect(first.status == 202, "\(first.text)")
            let firstFiles = server.storedFiles()
            #expect(firstFiles.count == 1)
            // The API now remembers the post; deleting it behind the API's back must still give 404.
            _ = try await server.repository.client.query("DELETE FROM job_posts WHERE id = $1", [jobPostID])
            let second = try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.txt, filename: "cv.txt"))
            #expect(second.status == 404, "\(second.text)")
            #expect(second.errorCode == "not_found")
            #expect(try await server.repository.countApplications() == 0)  // the first one went with its post (CASCADE)
            #expect(server.storedFiles() == firstFiles)  // the second upload's file was removed
            // Forgotten after the refusal: the next upload asks PostgreSQL again and is still 404.
            #expect(try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.txt)).status == 404)
            if let id = first.json?["job_id"] as? String { await server.cleanUpJob(id) }
        }
    }

    @Test func redisDownGives503AndLeavesThePendingRow() async throws {
        let closedPort = try freeLoopbackPort()
        try await APITestServer.with(redisURL: "redis://127.0.0.1:\(closedPort)/0") { server in
            let jobPostID = try await server.makeJobPost()
            let response = try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.txt, filename: "cv.txt"))
            #expect(response.status == 503, "\(response.text)")
            #expect(response.errorCode == "queue_unavailable")
            let rows = try await server.repository.listApplications(ApplicationFilter(), limit: 10, after: nil).items
            #expect(rows.count == 1)
            #expect(rows.first?.status == .pending)
            #expect(response.text.contains(rows.first!.id.uuidString.lowercased()))
            #expect(server.storedFiles().count == 1)
        }
    }

    @Test func rejectedUploadsAreCountedInMetrics() async throws {
        try await APITestServer.with { server in
            let jobPostID = try await server.makeJobPost()
            _ = try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.gif, filename: "x.gif"))
            _ = try await server.upload(MultipartBody.upload(jobPostID: "nope", data: Documents.pdf))
            let ok = try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.pdf))
            #expect(ok.status == 202)
            if let id = ok.json?["job_id"] as? String { await server.cleanUpJob(id) }
            let metrics = try await RawHTTP.getJSON(port: server.port, "/metrics")
            let samples = try PrometheusText.parse(metrics.text)
            #expect(samples.value("resume_upload_rejections_total", ["reason": "unsupported_media_type"]) == 1)
            #expect(samples.value("resume_upload_rejections_total", ["reason": "validation_failed"]) == 1)
            #expect(samples.value("resume_uploads_total", ["kind": "pdf"]) == 1)
            #expect(samples.value("http_requests_total", ["method": "POST", "route": "/resumes/upload", "status": "202"]) == 1)
            #expect(samples.value("http_requests_total", ["method": "POST", "route": "/resumes/upload", "status": "415"]) == 1)
        }
    }

    /// PNG, JPEG and TIFF scans are accepted (judged by their bytes, stored with their type); an
    /// image whose header declares more than `MAX_IMAGE_PIXELS` is refused before it is stored.
    @Test func imagesAreAcceptedWithinThePixelCap() async throws {
        try await APITestServer.with(configure: { $0.limits.maxImagePixels = 4_000_000 }) { server in
            let jobPostID = try await server.makeJobPost()
            for format in ScanFactory.Format.allCases {
                let scan = try ScanFactory.scan(format, dpi: 150)  // 1275 × 1650 = 2.1 MP
                let response = try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: scan, filename: "photo.bin"))
                #expect(response.status == 202, "\(format): \(response.text)")
                let idText = response.json?["application_id"] as? String ?? ""
                let id = try #require(UUID(uuidString: idText))
                if let job = response.json?["job_id"] as? String { await server.cleanUpJob(job) }
                let row = try #require(try await server.repository.application(id: id))
                #expect(row.contentType == "image/\(format.rawValue)")
                #expect(row.storageKey?.hasSuffix(".\(format.rawValue)") == true)
            }
            let stored = server.storedFiles().count
            let huge = try await server.upload(MultipartBody.upload(
                jobPostID: jobPostID.uuidString, data: ScanFactory.pngHeader(width: 20_000, height: 20_000), filename: "huge.png"))
            #expect(huge.status == 422)
            #expect(huge.errorCode == "image_too_large")
            #expect(huge.text.contains("20000 × 20000"), "\(huge.text)")
            let large = try await server.upload(MultipartBody.upload(
                jobPostID: jobPostID.uuidString, data: try ScanFactory.scan(.png, dpi: 200), filename: "large.png"))  // 3.7 MP
            #expect(large.status == 202)
            if let job = large.json?["job_id"] as? String { await server.cleanUpJob(job) }
            let over = try await server.upload(MultipartBody.upload(
                jobPostID: jobPostID.uuidString, data: try ScanFactory.scan(.jpeg, dpi: 250), filename: "over.jpg"))  // 5.8 MP
            #expect(over.status == 422 && over.errorCode == "image_too_large", "\(over.text)")
            #expect(server.storedFiles().count == stored + 1)
        }
    }

    /// `Expect: 100-continue` (curl's header for bodies over 1 MB) gets `100 Continue` at once when
    /// the declared size fits, and only the final 413 when it does not.
    @Test func expectContinueIsAnswered() async throws {
        try await APITestServer.with(configure: { $0.limits.maxFileBytes = 1_000_000 }) { server in
            let jobPostID = try await server.makeJobPost()
            let form = MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.pdf(size: 500_000))
            let bytes = form.bytes
            let connection = try await RawConnection(port: server.port)
            try await connection.send(Array(
                "POST /resumes/upload HTTP/1.1\r\nHost: x\r\nContent-Type: \(form.contentType)\r\nContent-Length: \(bytes.count)\r\nExpect: 100-continue\r\n\r\n".utf8))
            let interim = try await withTimeout(.seconds(5), "100 Continue") { try await connection.head() }
            #expect(interim.hasPrefix("HTTP/1.1 100 Continue"))
            try await connection.send(bytes)
            let response = try await connection.response()
            #expect(response.status == 202, "\(response.text)")
            if let id = response.json?["job_id"] as? String { await server.cleanUpJob(id) }

            let tooBig = try await RawConnection(port: server.port)
            try await tooBig.send(Array(
                "POST /resumes/upload HTTP/1.1\r\nHost: x\r\nContent-Type: \(form.contentType)\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n".utf8))
            let refused = try await tooBig.response()
            #expect(refused.status == 413)
        }
    }

    /// Uploads beyond `maxConcurrentUploads` are refused with 503 `busy` while the others go on.
    @Test func concurrentUploadsAreBounded() async throws {
        try await APITestServer.with(configure: { $0.maxConcurrentUploads = 1 }) { server in
            let jobPostID = try await server.makeJobPost()
            let form = MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.pdf)
            let bytes = form.bytes
            let first = try await RawConnection(port: server.port)
            try await first.send(Array(
                "POST /resumes/upload HTTP/1.1\r\nHost: x\r\nContent-Type: \(form.contentType)\r\nContent-Length: \(bytes.count)\r\n\r\n".utf8) + bytes.prefix(50))
            // Wait until the first upload holds the slot (the scrape itself is the other request in flight).
            try await waitUntil(.seconds(10), "first upload in flight") {
                let metrics = try await RawHTTP.getJSON(port: server.port, "/metrics")
                return (try PrometheusText.parse(metrics.text).value("http_requests_in_flight") ?? 0) >= 2
            }
            let second = try await server.upload(form)
            #expect(second.status == 503)
            #expect(second.errorCode == "busy")
            #expect(second.header("Retry-After") == "1")
            try await first.send(Array(bytes.dropFirst(50)))
            let done = try await first.response()
            #expect(done.status == 202)
            if let id = done.json?["job_id"] as? String { await server.cleanUpJob(id) }
            #expect(try await server.repository.countApplications() == 1)
            let third = try await server.upload(form)
            #expect(third.status == 202)
            if let id = third.json?["job_id"] as? String { await server.cleanUpJob(id) }
        }
    }
}
