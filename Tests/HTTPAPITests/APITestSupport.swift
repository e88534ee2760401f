import AppConfig
import ApplicationStore
import Dispatch
import Foundation
import HTTPAPI
import LocalProviders
import Logging
import Postgres
import Redis
import ServiceLifecycle
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A response read off a raw socket.
struct RawResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    /// `error.code` of an error envelope.
    var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
    /// `error.fields` of an error envelope.
    var errorFields: [String: String] { ((json?["error"] as? [String: Any])?["fields"] as? [String: String]) ?? [:] }
}

/// Runs blocking work on a thread of its own, never on the cooperative pool (the server under
/// test shares that pool) nor on Dispatch's small global pool (blocked sends would starve it).
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}

struct HTTPTestError: Error, CustomStringConvertible {
    var description: String
}

/// A minimal HTTP/1.1 client over a blocking TCP socket, able to send anything (broken framing,
/// slow bodies) and to read an answer that arrives before the request is fully sent.
enum RawHTTP {
    /// One step of sending: bytes, or a pause.
    enum Piece: Sendable {
        case bytes([UInt8])
        case pause(milliseconds: Int)
    }

    /// Sends `pieces` to 127.0.0.1:`port` and reads the response (until `Content-Length` or EOF).
    static func exchange(port: Int, _ pieces: [Piece], timeout: Int = 15) async throws -> RawResponse {
        try await offload {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw HTTPTestError(description: "socket failed") }
            defer { close(fd) }
            var time = timeval(tv_sec: timeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw HTTPTestError(description: "connect to \(port) failed") }
            sending: for piece in pieces {
                switch piece {
                case .pause(let milliseconds):
                    usleep(useconds_t(milliseconds * 1000))
                case .bytes(let bytes):
                    var offset = 0
                    while offset < bytes.count {
                        let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                        if sent <= 0 { break sending }  // the server answered early and closed: read its answer
                        offset += sent
                    }
                }
            }
            return try readResponse(fd)
        }
    }

    static func readResponse(_ fd: Int32) throws -> RawResponse {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var headerEnd: Int?
        var expected: Int?
        while true {
            if let headerEnd, let expected, data.count >= headerEnd + expected { break }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data += buffer[0..<count]
            if headerEnd == nil, let range = find(data, Array("\r\n\r\n".utf8)) {
                headerEnd = range + 4
                let head = String(decoding: data[0..<range], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" {
                        expected = Int(parts[1].trimmingCharacters(in: .whitespaces))
                    }
                }
            }
        }
        guard let headerEnd else { throw HTTPTestError(description: "no HTTP response (\(data.count) bytes)") }
        let head = String(decoding: data[0..<(headerEnd - 4)], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw HTTPTestError(description: "bad status line") }
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
        }
        var body = Array(data[headerEnd...])
        if let expected, body.count > expected { body = Array(body.prefix(expected)) }
        return RawResponse(status: status, headers: headers, body: body)
    }

    static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }

    /// A complete request with `Connection: close` and a `Content-Length` (unless `headers` has one
    /// or says chunked).
    static func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []) -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        let names = Set(headers.map { $0.0.lowercased() })
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !names.contains("content-length") && !names.contains("transfer-encoding") && (method != "GET" || !body.isEmpty) {
            text += "Content-Length: \(body.count)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8) + body
    }

    static func send(port: Int, _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []) async throws -> RawResponse {
        try await exchange(port: port, [.bytes(request(method, path, headers: headers, body: body))])
    }

    static func getJSON(port: Int, _ path: String, headers: [(String, String)] = []) async throws -> RawResponse {
        try await send(port: port, "GET", path, headers: headers)
    }
}

/// A blocking client connection driven step by step (for tests that act between sends).
final class RawConnection: @unchecked Sendable {
    // `@unchecked`: one test drives it, one step at a time, each step on a thread of its own.
    let fd: Int32

    init(port: Int) async throws {
        fd = try await offload {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var time = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(fd)
                throw HTTPTestError(description: "connect to \(port) failed")
            }
            return fd
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) async throws {
        let fd = fd
        try await offload {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { throw HTTPTestError(description: "send failed") }
                offset += sent
            }
        }
    }

    /// Reads one response head only (an interim `100 Continue`), up to the blank line.
    func head() async throws -> String {
        let fd = fd
        return try await offload {
            var data: [UInt8] = []
            var byte: UInt8 = 0
            while RawHTTP.find(data, Array("\r\n\r\n".utf8)) == nil {
                guard recv(fd, &byte, 1, 0) == 1 else { throw HTTPTestError(description: "no interim response") }
                data.append(byte)
            }
            return String(decoding: data, as: UTF8.self)
        }
    }

    func response() async throws -> RawResponse {
        let fd = fd
        return try await offload { try RawHTTP.readResponse(fd) }
    }
}

/// Builds multipart bodies, well-formed or not.
struct MultipartBody {
    var boundary = "----resume-test-\(UUID().uuidString.prefix(8))"
    var parts: [[UInt8]] = []
    var closing = true

    mutating func field(_ name: String, _ value: String) { field(name, Array(value.utf8)) }

    mutating func field(_ name: String, _ value: [UInt8]) {
        parts.append(Array("Content-Disposition: form-data; name=\"\(name)\"\r\n\r\n".utf8) + value)
    }

    mutating func file(_ name: String = "file", filename: String, contentType: String = "application/octet-stream", _ data: [UInt8]) {
        parts.append(Array("Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n".utf8) + data)
    }

    mutating func raw(_ part: [UInt8]) { parts.append(part) }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        for part in parts { out += Array("--\(boundary)\r\n".utf8) + part + Array("\r\n".utf8) }
        if closing { out += Array("--\(boundary)--\r\n".utf8) }
        return out
    }

    /// The seed's five fields with `file` holding `data`.
    static func upload(jobPostID: String, data: [UInt8], filename: String = "resume.pdf", name: String = "Jane Doe",
                       email: String = "jane@example.com", seniority: String = "SENIOR") -> MultipartBody {
        var body = MultipartBody()
        body.file(filename: filename, data)
        body.field("candidate_name", name)
        body.field("candidate_email", email)
        body.field("job_post_id", jobPostID)
        body.field("seniority_level", seniority)
        return body
    }
}

/// Small documents of each kind.
enum Documents {
    static let pdf: [UInt8] = Array("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".utf8)
    static let txt: [UInt8] = Array("Jane Doe\nSenior Swift engineer. Ten years of server-side work.\n".utf8)
    /// A ZIP local header naming `word/document.xml` (what `DocumentKind.detect` looks at).
    static let docx: [UInt8] = [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                17, 0, 0, 0] + Array("word/document.xml".utf8) + Array(repeating: 0x41, count: 64)
    /// A PNG signature without an IHDR chunk: an image upload refused as unreadable (422).
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 64)
    /// A GIF, which is not a format the pipeline reads (415).
    static let gif: [UInt8] = Array("GIF89a".utf8) + [0, 0, 1, 0, 0xFF, 0] + Array(repeating: 0, count: 64)

    /// A PDF of about `size` bytes.
    static func pdf(size: Int) -> [UInt8] {
        var bytes = Array("%PDF-1.4\n".utf8)
        var generator = SystemRandomNumberGenerator()
        while bytes.count < size { bytes.append(UInt8.random(in: 32...126, using: &generator)) }
        return bytes
    }
}

/// A running API server on a free loopback port, over a temporary database, the test Redis and a
/// temporary storage folder.
struct APITestServer: Sendable {
    let port: Int
    let postgres: PostgresClient
    let redis: RedisClient
    let storageRoot: String
    let built: HTTPAPIBuilder.Built

    var repository: ApplicationRepository { ApplicationRepository(client: postgres) }

    /// Runs `body` against a fresh server; stops it (gracefully) afterwards.
    static func with<Result: Sendable>(
        mode: QueueMode = .native,
        configure: (inout HTTPAPIConfiguration) -> Void = { _ in },
        redisURL: String? = nil,
        _ body: @Sendable (APITestServer) async throws -> Result
    ) async throws -> Result {
        try await withTemporaryDatabase(maximumConnections: 8) { postgres, _ in
            _ = try await PostgresMigrator(migrations: ResumeSchema.migrations, logger: TestEnvironment.logger).migrate(postgres)
            var redisConfiguration = try RedisConfiguration(url: redisURL ?? TestEnvironment.redisURL)
            redisConfiguration.connectTimeout = .seconds(1)
            redisConfiguration.reconnectBudget = .seconds(1)
            let redis = RedisClient(configuration: redisConfiguration, logger: TestEnvironment.logger)
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("api-test-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let port = try freeLoopbackPort()
            var settings = HTTPAPIConfiguration(host: "127.0.0.1", port: port)
            configure(&settings)
            let storage = LocalFolderStorage(configuration: LocalFolderStorageConfiguration(root: root, synchronousWrites: false))
            let built = HTTPAPIBuilder.build(
                configuration: settings, mode: mode, redis: redis, postgres: postgres, storage: storage, logger: TestEnvironment.logger)
            let server = APITestServer(port: port, postgres: postgres, redis: redis, storageRoot: root, built: built)
            // The test's own clients are closed by their owners; the group runs only the probe and the app.
            let group = ServiceGroup(
                configuration: .init(services: Array(built.services.dropFirst(2)).map { .init(service: $0) }, logger: TestEnvironment.logger))
            return try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                do {
                    try await waitUntil(.seconds(10), "API server on port \(port)") { canConnect(port: port) }
                    let result = try await body(server)
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                    await built.probe.shutdown()
                    await redis.shutdown()
                    return result
                } catch {
                    await group.triggerGracefulShutdown()
                    try? await tasks.waitForAll()
                    await built.probe.shutdown()
                    await redis.shutdown()
                    throw error
                }
            }
        }
    }

    /// Inserts a job post directly and returns its id.
    func makeJobPost(title: String = "Senior Swift engineer", seniority: SeniorityLevel = .senior) async throws -> UUID {
        let post = JobPost(id: UUID(), title: title, description: "Server-side Swift, PostgreSQL, Redis.", seniorityLevel: seniority)
        try await repository.insert(post)
        return post.id
    }

    /// Every regular file under the storage root (relative paths).
    func storedFiles() -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: storageRoot) else { return [] }
        var files: [String] = []
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(storageRoot)/\(path)", isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(path)
            }
        }
        return files.sorted()
    }

    /// Uploads with the seed's fields.
    func upload(_ body: MultipartBody, headers: [(String, String)] = []) async throws -> RawResponse {
        try await RawHTTP.send(port: port, "POST", "/resumes/upload", headers: [("Content-Type", body.contentType)] + headers, body: body.bytes)
    }

    /// Removes a job's Redis keys (both formats) so the shared test Redis stays clean.
    func cleanUpJob(_ id: String) async {
        _ = try? await redis.send("DEL", RedisArgument("job:\(id)"), RedisArgument("rq:job:\(id)"))
        _ = try? await redis.send("LREM", "resume_processing_queue", "0", RedisArgument(id))
        _ = try? await redis.send("LREM", "rq:queue:resume_processing", "0", RedisArgument(id))
    }
}
