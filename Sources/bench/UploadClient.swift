import AppConfig
import ApplicationStore
import ArgumentParser
import Foundation
import Gemini
import HTTPAPI
import LocalProviders
import Logging
import Postgres
import Providers
import Redis
import ResumePipeline
import ServiceLifecycle
import Synchronization
import JobProcessing
import WorkerRuntime

#if canImport(Glibc)
import Glibc
#endif

/// A valid résumé fixture (expected outcome `text`).
struct Fixture: Sendable {
    var name: String
    var contentType: String
    var bytes: [UInt8]

    static func validSet(in directory: URL) throws -> [Fixture] {
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("expected.json")))
        guard let files = (expected as? [String: Any])?["files"] as? [String: Any] else {
            throw ValidationError("Fixtures/resumes/expected.json has no files")
        }
        return try files.keys.sorted().compactMap { name in
            guard let entry = files[name] as? [String: Any], entry["outcome"] as? String == "text" else { return nil }
            let type = switch entry["kind"] as? String {
            case "pdf": "application/pdf"
            case "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            default: "text/plain"
            }
            return Fixture(name: name, contentType: type, bytes: Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }
}

/// Posts résumés to `POST /resumes/upload` over raw HTTP/1.1 keep-alive sockets, one thread per
/// connection, and records when each upload started (seconds since 1970, bench clock).
final class UploadClient: Sendable {
    let port: Int
    let uploaders: Int
    private let ids = Mutex<[UUID]>([])

    init(port: Int, uploaders: Int) {
        self.port = port
        self.uploaders = uploaders
    }

    /// Hands out request indices to the connections.
    final class Counter: Sendable {
        private let value = Mutex(0)

        func next() -> Int {
            value.withLock { value in
                defer { value += 1 }
                return value
            }
        }
    }

    /// Uploads every fixture of `batch`; returns application id → upload start.
    func uploadAll(_ batch: [Fixture], jobPostID: UUID) async throws -> [UUID: Double] {
        let requests = batch.enumerated().map { index, fixture in Self.request(fixture, index: index, jobPostID: jobPostID) }
        let next = Counter()
        let port = port
        let results = try await withThrowingTaskGroup(of: [UUID: Double].self) { group in
            for _ in 0..<min(uploaders, requests.count) {
                group.addTask {
                    try await withCheckedThrowingContinuation { continuation in
                        Thread {
                            continuation.resume(with: Result { try Self.loop(port: port, requests: requests, next: next) })
                        }.start()
                    }
                }
            }
            var all: [UUID: Double] = [:]
            for try await part in group { all.merge(part) { first, _ in first } }
            return all
        }
        guard results.count == batch.count else { throw ValidationError("\(batch.count - results.count) uploads got no application id") }
        ids.withLock { $0 += results.keys }
        return results
    }

    /// The application ids uploaded so far (for cleaning Redis).
    var uploadedIDs: [UUID] { ids.withLock { $0 } }

    static func request(_ fixture: Fixture, index: Int, jobPostID: UUID) -> [UInt8] {
        uploadRequest(fileName: fixture.name, bytes: fixture.bytes, contentType: fixture.contentType, candidate: "Candidate \(index)",
                      email: "candidate\(index)@example.com", jobPostID: jobPostID)
    }

    /// One connection: takes the next request until none is left (blocking; runs on its own thread).
    static func loop(port: Int, requests: [[UInt8]], next: Counter) throws -> [UUID: Double] {
        var started: [UUID: Double] = [:]
        var fd: Int32 = -1
        defer { if fd >= 0 { close(fd) } }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let index = next.next()
            guard index < requests.count else { return started }
            if fd < 0 {
                fd = LoadGenerator.connectSocket(port: port)
                guard fd >= 0 else { throw ValidationError("cannot connect to the API on port \(port)") }
            }
            let start = Date().timeIntervalSince1970
            let request = requests[index]
            var offset = 0
            while offset < request.count {
                let sent = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { throw ValidationError("upload send failed") }
                offset += sent
            }
            var data: [UInt8] = []
            var keepAlive = true
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                guard count > 0 else { throw ValidationError("upload: connection closed before the answer") }
                data += buffer[0..<count]
                guard let end = LoadGenerator.find(data, [13, 10, 13, 10]) else { continue }
                let head = String(decoding: data[0..<end], as: UTF8.self).lowercased()
                var length = 0
                for line in head.split(separator: "\r\n") {
                    if line.hasPrefix("content-length:") { length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0 }
                    if line.hasPrefix("connection:") && line.contains("close") { keepAlive = false }
                }
                guard data.count >= end + 4 + length else { continue }
                let body = Data(data[(end + 4)..<(end + 4 + length)])
                guard head.hasPrefix("http/1.1 202"),
                      let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
                      let text = object["application_id"] as? String, let id = UUID(uuidString: text)
                else {
                    throw ValidationError("upload answered \(head.prefix(20)): \(String(decoding: body.prefix(300), as: UTF8.self))")
                }
                started[id] = start
                break
            }
            if !keepAlive {
                close(fd)
                fd = -1
            }
        }
    }
}
