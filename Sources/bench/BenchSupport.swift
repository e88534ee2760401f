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

/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ValidationError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard ok else { throw ValidationError("cannot bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
