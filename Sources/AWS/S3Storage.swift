import Foundation
import Logging
import Providers

/// Where and how ``S3Storage`` reaches its bucket.
public struct S3Configuration: Sendable {
    /// The bucket (`AWS_S3_BUCKET_NAME`).
    public var bucket: String
    /// The signing region (`AWS_DEFAULT_REGION`). Default: `us-east-1`.
    public var region: String
    /// A custom endpoint such as `http://127.0.0.1:5055` for moto or MinIO (`AWS_ENDPOINT_URL`,
    /// `AWS_ENDPOINT_URL_S3`); a path prefix is kept. Default: `nil`, AWS itself
    /// (`https://s3.{region}.amazonaws.com`).
    public var endpoint: URL?
    /// The credentials.
    public var credentials: AWSCredentials
    /// The deadline of each request, connection included. Default: 30 s.
    public var timeout: Duration
    /// Path-style URLs (`{endpoint}/{bucket}/{key}`) instead of virtual-hosted ones
    /// (`{bucket}.{host}/{key}`). Default: `true` when an ``endpoint`` is set (moto and MinIO need
    /// it), `false` for AWS. Bucket names containing `.` always use path style (their virtual host
    /// would not match the TLS certificate).
    public var usePathStyle: Bool
    /// Sign the body's SHA-256 (`true`) or send `UNSIGNED-PAYLOAD` (`false`; only sensible over
    /// HTTPS). Default: `true`.
    public var signPayload: Bool

    /// Creates a configuration; see each property for its default.
    public init(
        bucket: String, region: String = "us-east-1", endpoint: URL? = nil, credentials: AWSCredentials,
        timeout: Duration = .seconds(30), usePathStyle: Bool? = nil, signPayload: Bool = true
    ) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
        self.timeout = timeout
        self.usePathStyle = usePathStyle ?? (endpoint != nil)
        self.signPayload = signPayload
    }

    /// The URL of `key` (any string; each byte but `A–Z a–z 0–9 - _ . ~ /` is percent-encoded), in
    /// the configured addressing style.
    public func objectURL(for key: String) -> URL {
        url(path: "/" + SigV4Signer.encodeS3Key(key))
    }

    /// The URL of the bucket itself (`…/{bucket}` path-style, `https://{bucket}.{host}/` virtual-hosted).
    public func bucketURL() -> URL {
        url(path: pathStyle ? "" : "/")
    }

    private var pathStyle: Bool { usePathStyle || bucket.contains(".") }

    /// Builds the URL from an encoded object path (`/` for the bucket itself).
    private func url(path objectPath: String) -> URL {
        var components = URLComponents()
        var basePath = ""
        var host: String
        if let endpoint, let parts = URLComponents(url: endpoint, resolvingAgainstBaseURL: false) {
            components.scheme = parts.scheme ?? "https"
            components.port = parts.port
            host = parts.host ?? "localhost"
            basePath = parts.percentEncodedPath
            while basePath.hasSuffix("/") { basePath.removeLast() }
        } else {
            components.scheme = "https"
            host = "s3.\(region).amazonaws.com"
        }
        if pathStyle {
            components.percentEncodedPath = basePath + "/" + SigV4Signer.encodeS3Key(bucket) + objectPath
        } else {
            host = "\(bucket).\(host)"
            components.percentEncodedPath = basePath + objectPath
        }
        components.host = host
        guard let url = components.url else {
            preconditionFailure("S3 URL from validated parts could not be built")
        }
        return url
    }
}

/// ``ResumeStorage`` on Amazon S3 (or moto/MinIO): PutObject, GetObject, HeadObject, DeleteObject,
/// signed with SigV4.
///
/// Keys must pass `StorageKey.isValid` (generated keys only). Outcomes: a missing key is
/// ``ProviderError/Code/notFound`` (GET) or `nil` (HEAD); 403 is ``ProviderError/Code/rejected``;
/// a missing bucket or a wrong region is ``ProviderError/Code/configuration``; 429/`SlowDown` is
/// ``ProviderError/Code/rateLimited`` and 5xx ``ProviderError/Code/unavailable`` (both transient).
/// Error texts name the operation, `s3://bucket/key`, the status and S3's code and message, never
/// credentials or signatures.
public struct S3Storage: ResumeStorage {
    /// The configuration.
    public let configuration: S3Configuration
    private let client: SignedClient
    private let logger: Logger

    /// `s3`.
    public var name: String { "s3" }

    /// Creates the storage; no request is made until the first call.
    public init(configuration: S3Configuration, transport: any HTTPTransport = URLSessionTransport(), logger: Logger) {
        self.configuration = configuration
        self.client = SignedClient(
            signer: SigV4Signer(credentials: configuration.credentials, region: configuration.region, service: "s3"),
            transport: transport, timeout: configuration.timeout
        )
        self.logger = logger
    }

    /// Stores `data` under `key` with `contentType`.
    public func put(key: String, data: Data, contentType: String) async throws(ProviderError) {
        let url = try objectURL(key, "PutObject")
        let request = HTTPRequest(method: "PUT", url: url, headers: [("Content-Type", contentType)], body: data)
        let response = try await send(request, "PutObject", key)
        guard (200..<300).contains(response.status) else { throw failure("PutObject", key, response) }
    }

    /// The bytes under `key`; ``ProviderError/Code/notFound`` when there are none.
    public func get(key: String) async throws(ProviderError) -> Data {
        let url = try objectURL(key, "GetObject")
        let response = try await send(HTTPRequest(method: "GET", url: url), "GetObject", key)
        guard response.status == 200 else { throw failure("GetObject", key, response) }
        return response.body
    }

    /// Size and content type of `key`, or `nil` when it does not exist.
    public func head(key: String) async throws(ProviderError) -> StoredObjectInfo? {
        let url = try objectURL(key, "HeadObject")
        let response = try await send(HTTPRequest(method: "HEAD", url: url), "HeadObject", key)
        if response.status == 404 { return nil }  // HEAD has no body: the status is all there is
        guard response.status == 200 else { throw failure("HeadObject", key, response) }
        guard let length = response.headers["content-length"].flatMap({ Int($0) }) else {
            throw ProviderError(.badResponse, "S3 HeadObject \(location(key)): no Content-Length")
        }
        return StoredObjectInfo(size: length, contentType: response.headers["content-type"])
    }

    /// Removes `key`; a missing key is not an error (S3 answers 204 either way).
    public func delete(key: String) async throws(ProviderError) {
        let url = try objectURL(key, "DeleteObject")
        let response = try await send(HTTPRequest(method: "DELETE", url: url), "DeleteObject", key)
        guard (200..<300).contains(response.status) else { throw failure("DeleteObject", key, response) }
    }

    /// Creates the bucket unless it exists (for tests and local runs against moto or MinIO).
    /// Returns whether it was created. Outside `us-east-1` the region goes in a
    /// `CreateBucketConfiguration` body, as S3 requires.
    @discardableResult
    public func createBucketIfMissing() async throws(ProviderError) -> Bool {
        let url = configuration.bucketURL()
        let head = try await send(HTTPRequest(method: "HEAD", url: url), "HeadBucket", nil)
        if head.status == 200 { return false }
        if head.status != 404 { throw failure("HeadBucket", nil, head) }
        var body: Data?
        var headers: [(name: String, value: String)] = []
        if configuration.region != "us-east-1" {
            headers = [("Content-Type", "application/xml")]
            body = Data(
                """
                <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
                <LocationConstraint>\(configuration.region)</LocationConstraint></CreateBucketConfiguration>
                """.utf8)
        }
        let response = try await send(HTTPRequest(method: "PUT", url: url, headers: headers, body: body), "CreateBucket", nil)
        if (200..<300).contains(response.status) { return true }
        if AWSServiceError(response).code == "BucketAlreadyOwnedByYou" { return false }
        throw failure("CreateBucket", nil, response)
    }

    // MARK: - Internals

    private func objectURL(_ key: String, _ operation: String) throws(ProviderError) -> URL {
        guard StorageKey.isValid(key) else {
            throw ProviderError(.rejected, "S3 \(operation): \"\(key.prefix(200))\" is not a valid storage key")
        }
        return configuration.objectURL(for: key)
    }

    private func location(_ key: String?) -> String {
        "s3://\(configuration.bucket)" + (key.map { "/" + $0 } ?? "")
    }

    private func send(_ request: HTTPRequest, _ operation: String, _ key: String?) async throws(ProviderError) -> HTTPResponse {
        let started = ContinuousClock.now
        let payload: SigV4Signer.Payload? = configuration.signPayload ? nil : .unsigned
        do {
            let response = try await client.send(request, payload: payload)
            logger.debug(
                "s3 request",
                metadata: [
                    "s3.operation": "\(operation)", "s3.key": "\(key ?? "")", "http.status": "\(response.status)",
                    "duration": "\(ContinuousClock.now - started)",
                ])
            return response
        } catch {
            logger.debug("s3 request failed", metadata: ["s3.operation": "\(operation)", "error": "\(error)"])
            throw ProviderError(error.code, "S3 \(operation) \(location(key)): \(error.message)", isTransient: error.isTransient)
        }
    }

    /// Maps a non-success response to a ``ProviderError``.
    func failure(_ operation: String, _ key: String?, _ response: HTTPResponse) -> ProviderError {
        let error = AWSServiceError(response)
        let prefix = "S3 \(operation) \(location(key)): "
        let summary = error.summary(status: response.status, credentials: configuration.credentials)
        let regionHint = response.headers["x-amz-bucket-region"].map { " (the bucket is in \($0))" } ?? ""
        switch (response.status, error.code) {
        case (_, "NoSuchBucket"):
            return ProviderError(.configuration, prefix + summary + " — the bucket does not exist")
        case (404, _):
            return ProviderError(.notFound, prefix + (key == nil ? summary : "no such object (\(summary))"))
        case (_, "SlowDown"), (429, _):
            return ProviderError(.rateLimited, prefix + summary)
        case (_, "RequestTimeout"), (500..., _):
            return ProviderError(.unavailable, prefix + summary)
        case (301, _), (307, _), (_, "AuthorizationHeaderMalformed"), (_, "PermanentRedirect"),
            (_, "IllegalLocationConstraintException"):
            return ProviderError(
                .configuration,
                prefix + summary + " — wrong region \(configuration.region) or endpoint" + regionHint)
        case (_, "RequestTimeTooSkewed"):
            return ProviderError(.rejected, prefix + summary + " — check the system clock")
        case (403, _):
            return ProviderError(.rejected, prefix + summary + " — check the credentials and the bucket policy")
        default:
            return ProviderError(.rejected, prefix + summary)
        }
    }
}
