import AWS
import Foundation
import Logging
import Providers
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Throwaway credentials for the moto server without signature checks (it accepts any).
let motoCredentials = AWSCredentials(
    accessKeyID: "AKIDMOTOTEST", secretAccessKey: "moto-secret-\(UUID().uuidString)", sessionToken: nil)

/// A bucket name no other test uses (S3 rules: lowercase, digits, hyphens, 3–63 characters).
func uniqueBucket(_ prefix: String = "t") -> String {
    "\(prefix)-\(UUID().uuidString.lowercased())"
}

/// A key in the application's format.
func uniqueStorageKey(_ kind: DocumentKind = .pdf) -> String {
    StorageKey.make(for: UUID(), kind: kind)
}

/// A storage on the plain moto server, its bucket created.
func makeMotoStorage(
    bucket: String = uniqueBucket(), credentials: AWSCredentials = motoCredentials, url: URL? = nil,
    transport: any HTTPTransport = URLSessionTransport(), timeout: Duration = .seconds(10), signPayload: Bool = true
) async throws -> S3Storage {
    let configuration = S3Configuration(
        bucket: bucket, endpoint: try url ?? TestEnvironment.motoURL, credentials: credentials, timeout: timeout,
        signPayload: signPayload)
    let storage = S3Storage(configuration: configuration, transport: transport, logger: TestEnvironment.logger)
    try await storage.createBucketIfMissing()
    return storage
}

/// Passes requests to a real transport and records what went through (the servers stay real).
actor RecordingTransport: HTTPTransport {
    struct Exchange: Sendable {
        var target: String
        var requestBody: Data
        var status: Int
        var responseBody: Data
    }

    private let inner: any HTTPTransport
    private(set) var exchanges: [Exchange] = []
    /// Textract jobs started and not yet read to their last page, and the most seen at once.
    private var openJobs: Set<String> = []
    private(set) var mostOpenJobs = 0

    init(_ inner: any HTTPTransport = URLSessionTransport()) { self.inner = inner }

    nonisolated func send(_ request: HTTPRequest) async throws(ProviderError) -> HTTPResponse {
        let response = try await inner.send(request)
        await record(request, response)
        return response
    }

    private func record(_ request: HTTPRequest, _ response: HTTPResponse) {
        let target = request.headers.first { $0.name.lowercased() == "x-amz-target" }?.value ?? request.method
        exchanges.append(Exchange(target: target, requestBody: request.body ?? Data(), status: response.status, responseBody: response.body))
        let json = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        if target.hasSuffix("StartDocumentTextDetection"), let job = json?["JobId"] as? String {
            openJobs.insert(job)
            mostOpenJobs = max(mostOpenJobs, openJobs.count)
        }
        if target.hasSuffix("GetDocumentTextDetection"), let json, json["NextToken"] == nil,
            ["SUCCEEDED", "FAILED", "PARTIAL_SUCCESS"].contains(json["JobStatus"] as? String ?? ""),
            let request = (try? JSONSerialization.jsonObject(with: request.body ?? Data())) as? [String: Any],
            let job = request["JobId"] as? String
        {
            openJobs.remove(job)
        }
    }

    /// The `JobStatus` of every GetDocumentTextDetection answer, in order.
    func statuses() -> [String] {
        exchanges.filter { $0.target.hasSuffix("GetDocumentTextDetection") }.map {
            ((try? JSONSerialization.jsonObject(with: $0.responseBody)) as? [String: Any])?["JobStatus"] as? String ?? "error \($0.status)"
        }
    }

    /// How many GetDocumentTextDetection requests carried a NextToken.
    func pageRequests() -> Int {
        exchanges.filter { $0.target.hasSuffix("GetDocumentTextDetection") }.count {
            (((try? JSONSerialization.jsonObject(with: $0.requestBody)) as? [String: Any])?["NextToken"]) != nil
        }
    }
}

/// A loopback TCP port that accepts connections (the kernel completes the handshake) but never
/// answers: requests to it can only time out. Closed on deinit.
final class SilentServer: @unchecked Sendable {
    // `@unchecked`: `fd` is written once in init and closed once in deinit.
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSetupError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw TestSetupError("bind/listen failed")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }

    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }
}

/// A storage that is not S3, for the Textract configuration check.
struct NotS3Storage: ResumeStorage {
    var name: String { "local" }
    func put(key: String, data: Data, contentType: String) async throws(ProviderError) {}
    func get(key: String) async throws(ProviderError) -> Data { Data() }
    func head(key: String) async throws(ProviderError) -> StoredObjectInfo? { nil }
    func delete(key: String) async throws(ProviderError) {}
}

/// Runs `body` and returns the ``ProviderError`` it throws (fails the caller when none).
func providerError(_ body: () async throws(ProviderError) -> Void) async -> ProviderError? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}
