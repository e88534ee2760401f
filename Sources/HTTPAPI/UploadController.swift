import ApplicationStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Postgres
import Providers
import ResumeJobs

/// `POST /resumes/upload`: reads the multipart form under its caps, validates the fields, checks
/// the job post, then stores the file, inserts the `PENDING` row and enqueues the job.
struct UploadController: APIController {
    let configuration: HTTPAPIConfiguration
    let repository: ApplicationRepository
    let storage: any ResumeStorage
    let enqueuer: any JobEnqueuer
    let metrics: APIMetrics
    let logger: Logger
    /// Uploads in progress, against `configuration.maxConcurrentUploads`.
    let uploadsInFlight = UploadGate()
    /// Job posts seen recently, so the next upload for one skips the lookup.
    let knownJobPosts: KnownJobPosts

    init(
        configuration: HTTPAPIConfiguration, repository: ApplicationRepository, storage: any ResumeStorage, enqueuer: any JobEnqueuer,
        metrics: APIMetrics, logger: Logger
    ) {
        self.configuration = configuration
        self.repository = repository
        self.storage = storage
        self.enqueuer = enqueuer
        self.metrics = metrics
        self.logger = logger
        self.knownJobPosts = KnownJobPosts(timeToLive: configuration.jobPostCacheTTL)
    }

    func addRoutes(to routes: inout APIRoutes) {
        routes.on(.post, "/resumes/upload") { request, _ in try await upload(request) }
    }

    /// One upload; a refusal is counted by its error code.
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

    /// An image is refused before it is stored when its header declares more pixels than
    /// ``UploadLimits/maxImagePixels`` (422 `image_too_large`) or cannot be read (422 `unreadable_image`).
    private func checkImageHeader(_ bytes: [UInt8]) throws(APIError) {
        do {
            _ = try ImageHeader.read(bytes, maximumPixels: configuration.limits.maxImagePixels)
        } catch {
            switch error.code {
            case .tooManyPixels: throw APIError(.unprocessableContent, code: "image_too_large", message: error.message)
            case .notAnImage, .truncated, .malformed: throw APIError(.unprocessableContent, code: "unreadable_image", message: error.message)
            }
        }
    }

    private func performUpload(_ request: Request) async throws -> Response {
        let parts = try await readForm(request)
        let upload = try UploadForm(parts: parts)
        guard let kind = DocumentKind.detect(prefix: upload.file.prefix(8192)) else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type", message: "the file is not a PDF, DOCX or plain-text document, nor a PNG, JPEG or TIFF image")
        }
        if kind.isImage { try checkImageHeader(upload.file) }
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
        let application = Application(
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
        return try JSONResponse.make(status: .accepted, UploadAcceptedResponse(
            applicationID: applicationID, jobID: jobID, status: .pending, message: "Résumé received; processing has been queued."))
    }

    /// The form's parts: the body streamed through ``MultipartFormReader``, stopping at the first
    /// byte over a cap or past the upload timeout.
    private func readForm(_ request: Request) async throws -> [FormPart] {
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
        do {
            return try reader.finish()
        } catch {
            throw apiError(error, limits: limits)
        }
    }

    private func jobPostNotFound(_ id: UUID) -> APIError {
        APIError.notFound("job post \(id.uuidString.lowercased()) does not exist")
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
}
