import AppConfig
import ApplicationStore
import ArgumentParser
import Foundation
import ProcessSupport
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

/// `q`-quantile (nearest rank) of `values`; 0 when empty.
func percentile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
}

/// A service group running in a task until ``stop()``.
struct RunningGroup: Sendable {
    let group: ServiceGroup
    let task: Task<Void, any Error>

    init(services: [any Service], logger: Logger) {
        let group = ServiceGroup(services: services, logger: logger)
        self.group = group
        // Unstructured on purpose: the bench drives uploads while the API and worker run, and
        // `stop()` awaits this task after a graceful shutdown, so it never outlives the bench.
        task = Task { try await group.run() }
    }

    /// Graceful shutdown, then waits for the group.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// A free TCP port on 127.0.0.1.
func freeLoopbackPort() throws -> Int { try LoopbackPort.free() }

/// A `POST /resumes/upload` request as raw HTTP/1.1 bytes: the file part and the four form fields.
func uploadRequest(fileName: String, bytes: [UInt8], contentType: String, candidate: String, email: String, jobPostID: UUID) -> [UInt8] {
    let boundary = "----bench-boundary-7d1f0c"
    var body: [UInt8] = []
    func part(_ disposition: String, _ value: [UInt8], contentType: String? = nil) {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; \(disposition)\r\n".utf8)
        if let contentType { body += Array("Content-Type: \(contentType)\r\n".utf8) }
        body += Array("\r\n".utf8) + value + Array("\r\n".utf8)
    }
    part("name=\"file\"; filename=\"\(fileName)\"", bytes, contentType: contentType)
    part("name=\"candidate_name\"", Array(candidate.utf8))
    part("name=\"candidate_email\"", Array(email.utf8))
    part("name=\"job_post_id\"", Array(jobPostID.uuidString.lowercased().utf8))
    part("name=\"seniority_level\"", Array("SENIOR".utf8))
    body += Array("--\(boundary)--\r\n".utf8)
    let head = "POST /resumes/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=\(boundary)\r\nContent-Length: \(body.count)\r\n\r\n"
    return Array(head.utf8) + body
}
