import Crypto
import Foundation
import Logging
import Providers

/// How ``TextractExtractor`` reaches Textract and how long it waits.
public struct TextractConfiguration: Sendable {
    /// The signing region (`AWS_DEFAULT_REGION`). Default: `us-east-1`.
    public var region: String
    /// A custom endpoint such as `http://127.0.0.1:5055` (`AWS_ENDPOINT_URL`,
    /// `AWS_ENDPOINT_URL_TEXTRACT`). Default: `nil`, `https://textract.{region}.amazonaws.com`.
    public var endpoint: URL?
    /// The credentials.
    public var credentials: AWSCredentials
    /// The bucket Textract reads documents from. Default: `nil`, the bucket of the document's
    /// ``S3Storage`` (a document in any other storage is then a configuration error).
    public var bucket: String?
    /// The deadline of each Textract request. Default: 30 s.
    public var requestTimeout: Duration
    /// The deadline of one Textract job once it has a slot of the limiter: starting it, polling and
    /// reading every page. Passing it is ``ProviderError/Code/timeout`` (transient). Default: 5 minutes.
    public var jobTimeout: Duration
    /// The first wait before polling a started job. Default: 1 s.
    public var initialPollInterval: Duration
    /// The longest wait between polls; each wait doubles until it reaches this. Default: 5 s.
    public var maximumPollInterval: Duration
    /// How many Textract jobs this extractor runs at once (its ``ConcurrencyLimiter``). Default: 5.
    public var maximumConcurrentJobs: Int
    /// `MaxResults` of each `GetDocumentTextDetection` page, 1–1000. Default: 1000.
    public var blocksPerPage: Int

    /// Creates a configuration; see each property for its default.
    public init(
        region: String = "us-east-1", endpoint: URL? = nil, credentials: AWSCredentials, bucket: String? = nil,
        requestTimeout: Duration = .seconds(30), jobTimeout: Duration = .seconds(300),
        initialPollInterval: Duration = .seconds(1), maximumPollInterval: Duration = .seconds(5),
        maximumConcurrentJobs: Int = 5, blocksPerPage: Int = 1000
    ) {
        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
        self.bucket = bucket
        self.requestTimeout = requestTimeout
        self.jobTimeout = jobTimeout
        self.initialPollInterval = initialPollInterval
        self.maximumPollInterval = maximumPollInterval
        self.maximumConcurrentJobs = maximumConcurrentJobs
        self.blocksPerPage = blocksPerPage
    }

    /// The service URL (`POST /`).
    var serviceURL: URL {
        if let endpoint { return endpoint }
        return URL(string: "https://textract.\(region).amazonaws.com/")!
    }
}

/// ``TextExtractor`` on Amazon Textract's text detection, for PDFs and images stored in S3.
///
/// PNG and JPEG images (one page) go through the synchronous `DetectDocumentText`. PDFs and TIFFs
/// (which may have several pages) go through the asynchronous API: `StartDocumentTextDetection` on the S3 object (with a `ClientRequestToken` derived from bucket and
/// key, so a retried start finds the same job), then `GetDocumentTextDetection` with capped
/// exponential backoff until `SUCCEEDED`, `PARTIAL_SUCCESS` or `FAILED`, following `NextToken` over
/// every page of blocks. The text is the `LINE` blocks grouped by `Page`, in the order Textract gives
/// them, joined with `\n`.
///
/// Errors: throttling, `LimitExceededException`, 5xx and lost connections are transient (polls retry
/// them until the job deadline); `InvalidS3ObjectException`, `UnsupportedDocumentException`,
/// `BadDocumentException`, `DocumentTooLargeException` and a `FAILED` job are
/// ``ProviderError/Code/unreadableDocument``; other 4xx are ``ProviderError/Code/rejected``; no
/// lines is ``ProviderError/Code/noText``; the job deadline is ``ProviderError/Code/timeout``.
/// DOCX and TXT are not Textract formats: route them to a local extractor.
public struct TextractExtractor: TextExtractor {
    /// The configuration.
    public let configuration: TextractConfiguration
    /// Bounds the concurrent jobs of this extractor (``TextractConfiguration/maximumConcurrentJobs``).
    public let limiter: ConcurrencyLimiter
    private let client: SignedClient
    private let logger: Logger

    /// `textract`.
    public var name: String { "textract" }

    /// Creates the extractor; no request is made until the first extraction.
    public init(configuration: TextractConfiguration, transport: any HTTPTransport = URLSessionTransport(), logger: Logger) {
        self.configuration = configuration
        self.limiter = ConcurrencyLimiter(limit: configuration.maximumConcurrentJobs)
        self.client = SignedClient(
            signer: SigV4Signer(credentials: configuration.credentials, region: configuration.region, service: "textract"),
            transport: transport, timeout: configuration.requestTimeout
        )
        self.logger = logger
    }

    /// The document's text; see the type's documentation for the steps and errors.
    public func extractText(from document: StoredDocument) async throws(ProviderError) -> String {
        guard document.kind == .pdf || document.kind.isImage else {
            throw ProviderError(
                .unreadableDocument, "Textract does not read \(document.kind.rawValue.uppercased()) files; extract them locally")
        }
        guard let bucket = configuration.bucket ?? (document.storage as? S3Storage)?.configuration.bucket else {
            throw ProviderError(
                .configuration, "Textract reads documents from S3, but \(document.key) is in \(document.storage.name) storage and no bucket is configured")
        }
        let limit = configuration.jobTimeout
        return try await limiter.run { () async throws(ProviderError) -> String in
            // The deadline starts with the slot: waiting for one is bounded by the jobs ahead, each
            // holding its slot for at most `jobTimeout` (the limiter's wait ignores cancellation).
            let job = Job(extractor: self, bucket: bucket, key: document.key, deadline: ContinuousClock.now.advanced(by: limit))
            let synchronous = document.kind == .png || document.kind == .jpeg
            return try await withDeadline(limit, "Textract job for s3://\(bucket)/\(document.key) did not finish within \(limit)") {
                () async throws(ProviderError) -> String in
                synchronous ? try await job.detect() : try await job.run()
            }
        }
    }

    // MARK: - One job

    private struct Job: Sendable {
        let extractor: TextractExtractor
        let bucket: String
        let key: String
        let deadline: ContinuousClock.Instant

        var location: String { "s3://\(bucket)/\(key)" }
        var configuration: TextractConfiguration { extractor.configuration }

        func run() async throws(ProviderError) -> String {
            let jobID = try await start()
            extractor.logger.debug("textract job started", metadata: ["textract.job": "\(jobID)", "s3.key": "\(key)"])
            var interval = configuration.initialPollInterval
            var response: TextractGetResponse
            while true {
                try await pause(interval, jobID: jobID)
                interval = min(interval * 2, configuration.maximumPollInterval)
                guard let polled = try await poll(jobID: jobID, nextToken: nil) else { continue }
                response = polled
                let status = response.jobStatus ?? ""
                if status == "IN_PROGRESS" { continue }
                if status == "SUCCEEDED" || status == "PARTIAL_SUCCESS" { break }
                if status == "FAILED" {
                    let reason = response.statusMessage.map { extractor.configuration.credentials.redacting($0) } ?? "no reason given"
                    throw ProviderError(.unreadableDocument, "Textract job \(jobID) for \(location) failed: \(reason)")
                }
                throw ProviderError(.badResponse, "Textract job \(jobID) for \(location): unknown status \"\(status.prefix(40))\"")
            }
            if response.jobStatus == "PARTIAL_SUCCESS" {
                extractor.logger.debug(
                    "textract job partly succeeded",
                    metadata: ["textract.job": "\(jobID)", "warnings": "\(response.warnings?.compactMap(\.errorCode) ?? [])"])
            }
            var lines: [(page: Int, order: Int, text: String)] = []
            var seenTokens: Set<String> = []
            while true {
                for block in response.blocks ?? [] where block.blockType == "LINE" {
                    if let text = block.text { lines.append((block.page ?? 1, lines.count, text)) }
                }
                guard let token = response.nextToken, !token.isEmpty else { break }
                guard seenTokens.insert(token).inserted else {
                    throw ProviderError(.badResponse, "Textract job \(jobID): NextToken repeated")
                }
                var next: TextractGetResponse?
                while next == nil {
                    next = try await poll(jobID: jobID, nextToken: token)
                    if next == nil { try await pause(configuration.initialPollInterval, jobID: jobID) }
                }
                response = next!
            }
            extractor.logger.debug(
                "textract job done", metadata: ["textract.job": "\(jobID)", "lines": "\(lines.count)", "s3.key": "\(key)"])
            return try text(of: lines)
        }

        /// One `DetectDocumentText` on the S3 object (a PNG or JPEG image); a transient failure is
        /// retried with the poll backoff until the deadline.
        func detect() async throws(ProviderError) -> String {
            let request = TextractDetectRequest(document: .init(s3Object: .init(bucket: bucket, name: key)))
            var interval = configuration.initialPollInterval
            while true {
                do {
                    let response: TextractDetectResponse = try await extractor.call("DetectDocumentText", request, location: location)
                    var lines: [(page: Int, order: Int, text: String)] = []
                    for block in response.blocks ?? [] where block.blockType == "LINE" {
                        if let text = block.text { lines.append((block.page ?? 1, lines.count, text)) }
                    }
                    return try text(of: lines)
                } catch where error.isTransient {
                    extractor.logger.debug("textract detect failed, retrying", metadata: ["s3.key": "\(key)", "error": "\(error)"])
                    let remaining = deadline - ContinuousClock.now
                    guard remaining > interval else { throw error }
                    do {
                        try await Task.sleep(for: interval)
                    } catch {
                        throw ProviderError(.timeout, "Textract DetectDocumentText for \(location): cancelled")
                    }
                    interval = min(interval * 2, configuration.maximumPollInterval)
                }
            }
        }

        /// The lines grouped by page, in Textract's order within a page; `.noText` when there are none.
        private func text(of lines: [(page: Int, order: Int, text: String)]) throws(ProviderError) -> String {
            let sorted = lines.sorted { $0.page != $1.page ? $0.page < $1.page : $0.order < $1.order }
            let text = sorted.map(\.text).joined(separator: "\n")
            guard text.contains(where: { !$0.isWhitespace }) else {
                throw ProviderError(.noText, "Textract found no text in \(location)")
            }
            return text
        }

        /// Sleeps `interval`, or fails with `.timeout` when that would pass the deadline.
        private func pause(_ interval: Duration, jobID: String) async throws(ProviderError) {
            let remaining = deadline - ContinuousClock.now
            guard remaining > interval else {
                throw ProviderError(
                    .timeout, "Textract job \(jobID) for \(location) did not finish within \(configuration.jobTimeout)")
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                throw ProviderError(.timeout, "Textract job \(jobID) for \(location): cancelled")
            }
        }

        private func start() async throws(ProviderError) -> String {
            let token = AWSEncoding.hex(SHA256.hash(data: Data("\(bucket)/\(key)".utf8)))
            let request = TextractStartRequest(
                documentLocation: .init(s3Object: .init(bucket: bucket, name: key)),
                clientRequestToken: String(token.prefix(64)), jobTag: "resume")
            let response: TextractStartResponse = try await extractor.call("StartDocumentTextDetection", request, location: location)
            guard let jobID = response.jobId, !jobID.isEmpty else {
                throw ProviderError(.badResponse, "Textract StartDocumentTextDetection for \(location): no JobId")
            }
            return jobID
        }

        /// One `GetDocumentTextDetection`; `nil` after a transient error worth retrying (logged).
        private func poll(jobID: String, nextToken: String?) async throws(ProviderError) -> TextractGetResponse? {
            let request = TextractGetRequest(jobId: jobID, maxResults: min(1000, max(1, configuration.blocksPerPage)), nextToken: nextToken)
            do {
                return try await extractor.call("GetDocumentTextDetection", request, location: location)
            } catch where error.isTransient {
                extractor.logger.debug("textract poll failed, retrying", metadata: ["textract.job": "\(jobID)", "error": "\(error)"])
                return nil
            }
        }
    }

    // MARK: - JSON 1.1

    private func call<Request: Encodable, Response: Decodable>(
        _ operation: String, _ body: Request, location: String
    ) async throws(ProviderError) -> Response {
        let data: Data
        do {
            data = try JSONEncoder().encode(body)
        } catch {
            throw ProviderError(.badResponse, "Textract \(operation): request could not be encoded")
        }
        let request = HTTPRequest(
            method: "POST", url: configuration.serviceURL,
            headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "Textract.\(operation)")],
            body: data)
        let response: HTTPResponse
        do {
            response = try await client.send(request)
        } catch {
            throw ProviderError(error.code, "Textract \(operation) for \(location): \(error.message)", isTransient: error.isTransient)
        }
        guard response.status == 200 else { throw failure(operation, location, response) }
        do {
            return try JSONDecoder().decode(Response.self, from: response.body)
        } catch {
            throw ProviderError(.badResponse, "Textract \(operation) for \(location): undecodable response (\(response.body.count) bytes)")
        }
    }

    /// Maps an error response to a ``ProviderError``.
    func failure(_ operation: String, _ location: String, _ response: HTTPResponse) -> ProviderError {
        let error = AWSServiceError(response)
        let text = "Textract \(operation) for \(location): " + error.summary(status: response.status, credentials: configuration.credentials)
        switch error.code {
        case "ThrottlingException", "ProvisionedThroughputExceededException", "LimitExceededException",
            "Throttling", "TooManyRequestsException":
            return ProviderError(.rateLimited, text)
        case "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException":
            return ProviderError(.unavailable, text)
        case "InvalidS3ObjectException", "UnsupportedDocumentException", "BadDocumentException",
            "DocumentTooLargeException":
            return ProviderError(.unreadableDocument, text)
        default:
            break
        }
        switch response.status {
        case 429: return ProviderError(.rateLimited, text)
        case 500...: return ProviderError(.unavailable, text)
        case 403: return ProviderError(.rejected, text + " — check the credentials and permissions")
        default: return ProviderError(.rejected, text)
        }
    }
}
