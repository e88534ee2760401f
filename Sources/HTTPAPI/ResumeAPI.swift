import ResumeJobs
import AppConfig
import ApplicationStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Postgres
import Providers
import Redis
import Synchronization

/// The handlers of the résumé API, over injected clients. Built by ``HTTPAPIServer``.
public struct ResumeAPI: Sendable {
    /// The API settings.
    public let configuration: HTTPAPIConfiguration
    /// SQL over `job_posts`/`applications`.
    public let repository: ApplicationRepository
    /// Where uploaded files go.
    public let storage: any ResumeStorage
    /// The queue.
    public let enqueuer: any JobEnqueuer
    /// Counters and histograms.
    public let metrics: APIMetrics
    /// Clients used by `/ready` (short timeouts).
    let readiness: ReadinessProbe
    let logger: Logger
    let uploadsInFlight = UploadGate()
    let knownJobPosts: KnownJobPosts

    /// Creates the handlers.
    public init(
        configuration: HTTPAPIConfiguration, repository: ApplicationRepository, storage: any ResumeStorage,
        enqueuer: any JobEnqueuer, metrics: APIMetrics, readiness: ReadinessProbe, logger: Logger
    ) {
        self.configuration = configuration
        self.repository = repository
        self.storage = storage
        self.enqueuer = enqueuer
        self.metrics = metrics
        self.readiness = readiness
        self.logger = logger
        self.knownJobPosts = KnownJobPosts(timeToLive: configuration.jobPostCacheTTL)
    }

    // MARK: POST /resumes/upload

    /// Validated fields of an upload.
    struct Upload {
        var candidateName: String
        var email: String
        var jobPostID: UUID
        var seniority: SeniorityLevel
        var file: [UInt8]
        var filename: String?
    }

    func upload(_ request: Request) async throws -> Response {
        do {
            guard uploadsInFlight.enter(limit: configuration.maxConcurrentUploads) else {
                throw APIError(.serviceUnavailable, code: "busy", message: "too many uploads in progress; retry shortly", closeConnection: true)
            }
            defer { uploadsInFlight.leave() }
            return try await performUpload(request)
        } catch let error as APIError {
            metrics.uploadRejected(reason: error.code)
            throw error
        }
    }

    private func performUpload(_ request: Request) async throws -> Response {
        let boundary: String
        switch MultipartContentType.parse(request.headers[.contentType]) {
        case .notMultipart:
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "send multipart/form-data")
        case .badBoundary:
            throw APIError.badRequest("the multipart boundary is missing or invalid")
        case .boundary(let value):
            boundary = value
        }
        let limits = configuration.limits
        if let declared = request.headers[.contentLength] {
            guard let length = Int(declared), length >= 0 else { throw APIError.badRequest("invalid Content-Length") }
            if length > limits.maxBodyBytes { throw payloadTooLarge(limits) }
        }

        // Stream the body through the parser; stop at the first byte over the cap.
        let reader = MultipartFormReader(boundary: boundary, limits: limits)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: configuration.uploadTimeout)
        do {
            for try await chunk in request.body {
                try reader.feed(chunk)
                if clock.now > deadline {
                    throw APIError(.requestTimeout, code: "request_timeout", message: "the upload took too long", closeConnection: true)
                }
            }
        } catch let error as FormReadError {
            throw apiError(error, limits: limits)
        }
        let parts: [FormPart]
        do {
            parts = try reader.finish()
        } catch {
            throw apiError(error, limits: limits)
        }

        let upload = try validate(parts)
        guard let kind = DocumentKind.detect(prefix: upload.file.prefix(8192)) else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "the file is not a PDF, DOCX or plain-text document")
        }
        if !knownJobPosts.contains(upload.jobPostID) {
            guard try await repository.jobPostExists(id: upload.jobPostID) else { throw jobPostNotFound(upload.jobPostID) }
            knownJobPosts.insert(upload.jobPostID)
        }

        // Store, then insert PENDING, then enqueue: a crash between steps leaves at worst an
        // orphan file or a PENDING row that the worker's sweeper re-enqueues.
        let applicationID = UUID()
        let key = StorageKey.make(for: applicationID, kind: kind)
        let data = Data(upload.file)
        let digest = Self.hex(SHA256.hash(data: data))
        do {
            try await storage.put(key: key, data: data, contentType: kind.contentType)
        } catch {
            logger.error("storing an upload failed", metadata: ["storage": "\(storage.name)", "error": "\(error)"])
            throw APIError.unavailable("the file store is unavailable; try again later")
        }
        let application = ApplicationStore.Application(
            id: applicationID, jobPostID: upload.jobPostID, candidateName: upload.candidateName, email: upload.email,
            seniorityLevel: upload.seniority, status: .pending, originalFilename: upload.filename, contentType: kind.contentType,
            fileSize: data.count, fileSHA256: digest, storageKey: key)
        do {
            try await repository.insert(application)
        } catch let error as PostgresError where error.sqlState == "23503" {
            // The post was deleted after the check (or while it was remembered): nothing is kept.
            knownJobPosts.remove(upload.jobPostID)
            try? await storage.delete(key: key)
            throw jobPostNotFound(upload.jobPostID)
        } catch {
            logger.error("inserting an application failed", metadata: ["error": "\(error)"])
            try? await storage.delete(key: key)
            throw APIError.unavailable("the database is unavailable; try again later")
        }
        let jobID: String
        do {
            jobID = try await enqueuer.enqueue(applicationID: applicationID, jobPostID: upload.jobPostID)
        } catch {
            logger.warning(
                "enqueueing failed; the application stays PENDING for the sweeper",
                metadata: ["application.id": "\(applicationID)", "error": "\(error)"])
            throw APIError(
                .serviceUnavailable, code: "queue_unavailable",
                message: "the résumé was stored as application \(applicationID.uuidString.lowercased()) (PENDING) but the queue is unavailable; it will be queued automatically when the queue is back")
        }
        metrics.uploadAccepted(kind: kind)
        logger.debug("upload accepted", metadata: ["application.id": "\(applicationID)", "job.id": "\(jobID)", "size": "\(data.count)"])
        return JSONResponse.make(status: .accepted, .object([
            ("application_id", .string(applicationID.uuidString.lowercased())),
            ("job_id", .string(jobID)),
            ("status", .string(ApplicationStatus.pending.rawValue)),
            ("message", .string("Résumé received; processing has been queued.")),
        ]))
    }

    private func jobPostNotFound(_ id: UUID) -> APIError {
        APIError.notFound("job post \(id.uuidString.lowercased()) does not exist")
    }

    /// Lowercase hex of `bytes`.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func payloadTooLarge(_ limits: UploadLimits) -> APIError {
        APIError(.contentTooLarge, code: "payload_too_large", message: "the file may be at most \(limits.maxFileBytes) bytes", closeConnection: true)
    }

    private func apiError(_ error: FormReadError, limits: UploadLimits) -> APIError {
        switch error {
        case .tooLarge: payloadTooLarge(limits)
        case .tooManyParts: APIError.badRequest("the form has more than \(limits.maxParts) parts", closeConnection: true)
        case .malformed(let reason): APIError.badRequest(reason, closeConnection: true)
        case .inconsistent: APIError.badRequest("the multipart body could not be read consistently", closeConnection: true)
        }
    }

    /// The field names of the upload form and their maximum lengths (in characters).
    static let uploadFields: [(name: String, maxLength: Int)] = [
        ("candidate_name", 200), ("candidate_email", 254), ("job_post_id", 36), ("seniority_level", 16),
    ]

    /// Field-by-field validation; every problem is reported at once (422).
    func validate(_ parts: [FormPart]) throws(APIError) -> Upload {
        var problems: [String: String] = [:]
        var byName: [String: [FormPart]] = [:]
        for part in parts { byName[part.name, default: []].append(part) }
        var texts: [String: String] = [:]
        for (name, maxLength) in Self.uploadFields {
            guard let values = byName[name], !values.isEmpty else {
                problems[name] = "missing"
                continue
            }
            guard values.count == 1 else {
                problems[name] = "given more than once"
                continue
            }
            let part = values[0]
            if part.filename != nil {
                problems[name] = "must be a text field, not a file"
                continue
            }
            if part.truncated {
                problems[name] = "too long (at most \(maxLength) characters)"
                continue
            }
            guard let text = String(validating: part.data, as: UTF8.self) else {
                problems[name] = "not valid UTF-8"
                continue
            }
            if text.unicodeScalars.contains(where: { $0.value == 0 }) {
                problems[name] = "contains NUL characters"
                continue
            }
            let trimmed = FieldText.trimming(text, FieldText.isSpaceOrNewline)
            if trimmed.isEmpty {
                problems[name] = "empty"
                continue
            }
            if trimmed.count > maxLength {
                problems[name] = "too long (at most \(maxLength) characters)"
                continue
            }
            if trimmed.unicodeScalars.contains(where: FieldText.isControl) {
                problems[name] = "contains control characters"
                continue
            }
            texts[name] = trimmed
        }
        if let email = texts["candidate_email"], !Self.isPlausibleEmail(email) {
            problems["candidate_email"] = "not a valid e-mail address"
        }
        var jobPostID: UUID?
        if let text = texts["job_post_id"] {
            jobPostID = UUID(uuidString: text)
            if jobPostID == nil { problems["job_post_id"] = "not a valid UUID" }
        }
        var seniority: SeniorityLevel?
        if let text = texts["seniority_level"] {
            seniority = SeniorityLevel(caseInsensitive: text)
            if seniority == nil {
                problems["seniority_level"] = "must be one of \(SeniorityLevel.allCases.map(\.rawValue).joined(separator: ", "))"
            }
        }
        var file: FormPart?
        if let values = byName["file"], !values.isEmpty {
            if values.count > 1 {
                problems["file"] = "given more than once"
            } else if values[0].filename == nil {
                problems["file"] = "must be a file upload (Content-Disposition filename)"
            } else if values[0].data.isEmpty {
                problems["file"] = "empty"
            } else {
                file = values[0]
            }
        } else {
            problems["file"] = "missing"
        }
        guard problems.isEmpty, let file, let jobPostID, let seniority, let name = texts["candidate_name"],
              let email = texts["candidate_email"]
        else {
            throw APIError.validation(problems)
        }
        return Upload(
            candidateName: name, email: email, jobPostID: jobPostID, seniority: seniority, file: file.data,
            filename: Self.displayFilename(file.filename))
    }

    /// A conservative e-mail check: one `@`, a non-empty local part without spaces, and a dotted
    /// domain of letters, digits and hyphens.
    static func isPlausibleEmail(_ text: String) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64, !parts[1].isEmpty else { return false }
        let localSymbols = Array("!#$%&'*+-/=?^_`{|}~.".utf8)
        let local = parts[0], dot = UInt8(ascii: ".")
        guard local.allSatisfy({ FieldText.isASCIIAlphanumeric($0) || localSymbols.contains($0) }),
              local.first != dot, local.last != dot, !zip(local, local.dropFirst()).contains(where: { $0 == dot && $1 == dot })
        else { return false }
        let labels = parts[1].split(separator: dot, omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        let hyphen = UInt8(ascii: "-")
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != hyphen && label.last != hyphen
                && label.allSatisfy { FieldText.isASCIIAlphanumeric($0) || $0 == hyphen }
        } && labels.last!.count >= 2
    }

    /// The most UTF-8 bytes (and so at most as many scalars) kept of a client's file name.
    static let maxFilenameBytes = 255

    /// The client's file name reduced to something safe to display: last path component, no
    /// control or bidirectional-override characters (an RTLO can make `cv\u{202E}fdp.exe` look
    /// like `cvexe.pdf`), at most ``maxFilenameBytes`` UTF-8 bytes cut at a scalar boundary (one
    /// grapheme of a million combining accents is one character but megabytes); `nil` when nothing
    /// is left. Never used as a path.
    static func displayFilename(_ name: String?) -> String? {
        guard let name else { return nil }
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let visible = String(String.UnicodeScalarView(last.unicodeScalars.filter { !FieldText.isControl($0) && !FieldText.isBidiControl($0) }))
        var kept = String.UnicodeScalarView()
        var bytes = 0
        for scalar in FieldText.trimming(visible).unicodeScalars {
            bytes += UTF8.width(scalar)
            guard bytes <= maxFilenameBytes else { break }
            kept.append(scalar)
        }
        let cleaned = FieldText.trimming(String(kept))
        guard !cleaned.isEmpty, cleaned != ".", cleaned != ".." else { return nil }
        return cleaned
    }

    // MARK: GET /resumes/{application_id}

    func resume(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try Self.uuidParameter(context, "application_id")
        guard let application = try await repository.application(id: id) else {
            throw APIError.notFound("application \(id.uuidString.lowercased()) does not exist")
        }
        var members = Self.applicationJSON(application)
        let text = application.extractedText
        members.append(("text_length", text.map { .int($0.count) } ?? .null))
        members.append(("text_preview", text.map { .string(String($0.prefix(300))) } ?? .null))
        return JSONResponse.make(.object(members))
    }

    static func applicationJSON(_ application: ApplicationStore.Application) -> [(String, JSONValue)] {
        [
            ("application_id", .string(application.id.uuidString.lowercased())),
            ("job_id", .string(resumeJobID(for: application.id))),
            ("job_post_id", .string(application.jobPostID.uuidString.lowercased())),
            ("candidate_name", .string(application.candidateName)),
            ("candidate_email", .string(application.email)),
            ("seniority_level", .string(application.seniorityLevel.rawValue)),
            ("status", .string(application.status.rawValue)),
            ("original_filename", .optional(application.originalFilename)),
            ("content_type", .optional(application.contentType)),
            ("file_size", application.fileSize.map(JSONValue.int) ?? .null),
            ("file_sha256", .optional(application.fileSHA256)),
            ("match_score", application.matchScore.map(JSONValue.double) ?? .null),
            ("error_message", .optional(application.errorMessage)),
            ("attempts", .int(application.attempts)),
            ("created_at", Timestamp.value(application.createdAt)),
            ("updated_at", Timestamp.value(application.updatedAt)),
            ("processed_at", Timestamp.value(application.processedAt)),
        ]
    }

    // MARK: Job posts

    func createJobPost(_ request: Request) async throws -> Response {
        guard let contentType = request.headers[.contentType],
              HeaderParameters.parse(contentType).value.lowercased() == "application/json"
        else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "send application/json")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: 64 * 1024)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, code: "payload_too_large", message: "the body may be at most 65536 bytes", closeConnection: true)
        }
        let bytes = Array(body.readableBytesView)
        guard String(validating: bytes, as: UTF8.self) != nil,
              let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
        else {
            throw APIError.badRequest("the body is not a JSON object")
        }
        var problems: [String: String] = [:]
        func text(_ name: String, max: Int) -> String? {
            guard let raw = object[name], !(raw is NSNull) else {
                problems[name] = "missing"
                return nil
            }
            guard let value = raw as? String else {
                problems[name] = "must be a string"
                return nil
            }
            if value.unicodeScalars.contains(where: { $0.value == 0 }) {
                problems[name] = "contains NUL characters"
                return nil
            }
            let trimmed = FieldText.trimming(value, FieldText.isSpaceOrNewline)
            if trimmed.isEmpty {
                problems[name] = "empty"
                return nil
            }
            if trimmed.count > max {
                problems[name] = "too long (at most \(max) characters)"
                return nil
            }
            return trimmed
        }
        let title = text("title", max: 200)
        let description = text("description", max: 20_000)
        var seniority: SeniorityLevel?
        if let level = text("seniority_level", max: 16) {
            seniority = SeniorityLevel(caseInsensitive: level)
            if seniority == nil {
                problems["seniority_level"] = "must be one of \(SeniorityLevel.allCases.map(\.rawValue).joined(separator: ", "))"
            }
        }
        guard problems.isEmpty, let title, let description, let seniority else { throw APIError.validation(problems) }
        let post = JobPost(id: UUID(), title: title, description: description, seniorityLevel: seniority)
        try await repository.insert(post)
        return JSONResponse.make(status: .created, Self.jobPostJSON(post))
    }

    static func jobPostJSON(_ post: JobPost) -> JSONValue {
        .object([
            ("id", .string(post.id.uuidString.lowercased())), ("title", .string(post.title)),
            ("description", .string(post.description)), ("seniority_level", .string(post.seniorityLevel.rawValue)),
            ("created_at", Timestamp.value(post.createdAt)), ("updated_at", Timestamp.value(post.updatedAt)),
        ])
    }

    func jobPost(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try Self.uuidParameter(context, "id")
        guard let post = try await repository.jobPost(id: id) else {
            throw APIError.notFound("job post \(id.uuidString.lowercased()) does not exist")
        }
        return JSONResponse.make(Self.jobPostJSON(post))
    }

    func jobPosts(_ request: Request) async throws -> Response {
        let query = try QueryParameters(request, allowed: ["limit", "cursor"])
        let (limit, cursor) = try pagination(query, listing: .jobPosts)
        let page = try await repository.listJobPosts(limit: limit, after: cursor)
        return JSONResponse.make(.object([
            ("items", .array(page.items.map(Self.jobPostJSON))),
            ("next_cursor", .optional(page.next.map { Cursor.encode($0, listing: .jobPosts) })),
        ]))
    }

    func candidates(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try Self.uuidParameter(context, "id")
        let query = try QueryParameters(request, allowed: ["limit", "cursor"])
        let (limit, cursor) = try pagination(query, listing: .candidates)
        guard try await repository.jobPost(id: id) != nil else {
            throw APIError.notFound("job post \(id.uuidString.lowercased()) does not exist")
        }
        let page = try await repository.candidates(jobPostID: id, limit: limit, after: cursor)
        return JSONResponse.make(.object([
            ("job_post_id", .string(id.uuidString.lowercased())),
            ("items", .array(page.items.map { application in
                .object([
                    ("application_id", .string(application.id.uuidString.lowercased())),
                    ("candidate_name", .string(application.candidateName)),
                    ("candidate_email", .string(application.email)),
                    ("seniority_level", .string(application.seniorityLevel.rawValue)),
                    ("match_score", application.matchScore.map(JSONValue.double) ?? .null),
                    ("processed_at", Timestamp.value(application.processedAt)),
                ])
            })),
            ("next_cursor", .optional(page.next.map { Cursor.encode($0, listing: .candidates) })),
        ]))
    }

    // MARK: GET /applications

    func applications(_ request: Request) async throws -> Response {
        let query = try QueryParameters(request, allowed: ["status", "job_post_id", "email", "created_after", "limit", "cursor"])
        var problems: [String: String] = [:]
        var filter = ApplicationFilter()
        if let status = query.values["status"] {
            filter.status = ApplicationStatus(caseInsensitive: status)
            if filter.status == nil {
                problems["status"] = "must be one of \(ApplicationStatus.allCases.map(\.rawValue).joined(separator: ", "))"
            }
        }
        if let text = query.values["job_post_id"] {
            filter.jobPostID = UUID(uuidString: text)
            if filter.jobPostID == nil { problems["job_post_id"] = "not a valid UUID" }
        }
        if let email = query.values["email"] {
            if email.isEmpty || email.count > 254 { problems["email"] = "must be 1 to 254 characters" } else { filter.email = email }
        }
        if let text = query.values["created_after"] {
            filter.createdAfter = Timestamp.parse(text)
            if filter.createdAfter == nil { problems["created_after"] = "not an ISO 8601 timestamp (e.g. 2026-01-31T12:00:00Z)" }
        }
        var limit = configuration.defaultPageSize
        var cursor: ListingPosition?
        do {
            (limit, cursor) = try pagination(query, listing: .applications)
        } catch {
            problems.merge(error.fields ?? [:]) { first, _ in first }
        }
        guard problems.isEmpty else { throw APIError.validation(problems) }
        let page = try await repository.listApplications(filter, limit: limit, after: cursor)
        return JSONResponse.make(.object([
            ("items", .array(page.items.map { .object(Self.applicationJSON($0)) })),
            ("next_cursor", .optional(page.next.map { Cursor.encode($0, listing: .applications) })),
        ]))
    }

    // MARK: GET /jobs/{job_id}

    func job(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = context.parameters.get("job_id") ?? ""
        guard (1...128).contains(id.utf8.count),
              id.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 })
        else {
            throw APIError.validation(["job_id": "must match [A-Za-z0-9_-]{1,128}"])
        }
        let report: JobStatusReport?
        do {
            report = try await enqueuer.status(jobID: id)
        } catch {
            logger.warning("reading a job failed", metadata: ["error": "\(error)"])
            throw APIError.unavailable("the queue is unavailable")
        }
        guard let report else { throw APIError.notFound("job \(id) does not exist") }
        return JSONResponse.make(.object(
            [("job_id", .string(report.id)), ("mode", .string(report.mode.rawValue)), ("status", .string(report.status))] + report.details))
    }

    // MARK: Health

    func health() -> Response {
        JSONResponse.make(.object([("status", .string("ok"))]))
    }

    func ready() async throws -> Response {
        let failures = await readiness.check(timeout: configuration.readinessTimeout)
        guard failures.isEmpty else {
            throw APIError(.serviceUnavailable, code: "not_ready", message: "a dependency is unavailable", fields: failures)
        }
        return JSONResponse.make(.object([
            ("status", .string("ready")), ("checks", .object([("redis", .string("ok")), ("postgres", .string("ok"))])),
        ]))
    }

    func metricsText() async -> Response {
        do {
            try await metrics.sampleQueues(enqueuer)
        } catch {
            logger.debug("sampling queue sizes failed", metadata: ["error": "\(error)"])
            metrics.queueSampleFailed()
        }
        return JSONResponse.text(metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
    }

    // MARK: Helpers

    static func uuidParameter(_ context: BasicRequestContext, _ name: String) throws(APIError) -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(uuidString: text) else {
            throw APIError.validation([name: "not a valid UUID"])
        }
        return id
    }

    func pagination(_ query: QueryParameters, listing: Cursor.Listing) throws(APIError) -> (Int, ListingPosition?) {
        var problems: [String: String] = [:]
        var limit = configuration.defaultPageSize
        if let text = query.values["limit"] {
            if let value = Int(text), (1...100).contains(value) { limit = value } else { problems["limit"] = "must be a whole number from 1 to 100" }
        }
        var cursor: ListingPosition?
        if let text = query.values["cursor"] {
            cursor = Cursor.decode(text, listing: listing)
            if cursor == nil { problems["cursor"] = "not a cursor returned by this listing" }
        }
        guard problems.isEmpty else { throw APIError.validation(problems) }
        return (limit, cursor)
    }
}
