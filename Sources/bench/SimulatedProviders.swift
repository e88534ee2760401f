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

/// A ``TextExtractor`` standing in for a remote extraction service such as Textract: it reads the
/// stored file (as the service would fetch it), waits `delay` (the service's latency) and answers
/// the text the service would send back, prepared beforehand. No extraction runs on this machine;
/// a file with no prepared answer is an error.
struct SimulatedRemoteExtractor: TextExtractor {
    let answers: [Data: String]
    let delay: Duration

    var name: String { "simulated-remote" }

    func extractText(from document: StoredDocument) async throws(ProviderError) -> String {
        let bytes = try await document.storage.get(key: document.key)
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw ProviderError(.timeout, "cancelled")
        }
        guard let text = answers[bytes] else { throw ProviderError(.unreadableDocument, "no prepared answer for \(document.key)") }
        return text
    }
}

/// A minimal HTTP/1.1 server on a loopback port answering Gemini's `:embedContent` and
/// `:batchEmbedContents` with deterministic unit vectors after `delay`; one thread per connection.
final class FakeGeminiServer: Sendable {
    let port: Int
    private let listener: Int32
    private let counter = Mutex(0)
    let connectionCount = Mutex(0)
    /// Answers by request text: the fixtures repeat, and formatting 768 floats is not what is measured.
    private let cache = Mutex<[String: String]>([:])

    /// Requests answered so far.
    var requests: Int { counter.withLock { $0 } }

    init(delay: Duration, dimensions: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket() failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 256) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw ValidationError("the fake Gemini server cannot listen")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let microseconds = useconds_t(delay.components.seconds * 1_000_000 + delay.components.attoseconds / 1_000_000_000_000)
        Thread { [self] in
            while true {
                let connection = accept(fd, nil, nil)
                guard connection >= 0 else { return }
                self.connectionCount.withLock { $0 += 1 }
                Thread { self.serve(connection, delay: microseconds, dimensions: dimensions) }.start()
            }
        }.start()
    }

    /// Stops accepting; open connections end when their clients close them (or after 10 s idle).
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve(_ fd: Int32, delay: useconds_t, dimensions: Int) {
        defer { close(fd) }
        var time = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var data: [UInt8] = []
        while true {
            // One request: head, then Content-Length bytes of body.
            var request: (head: String, body: [UInt8])?
            while request == nil {
                if let end = LoadGenerator.find(data, [13, 10, 13, 10]) {
                    let head = String(decoding: data[0..<end], as: UTF8.self)
                    let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if data.count >= end + 4 + length {
                        request = (head, Array(data[(end + 4)..<(end + 4 + length)]))
                        data.removeFirst(end + 4 + length)
                        continue
                    }
                }
                let count = recv(fd, &buffer, buffer.count, 0)
                guard count > 0 else { return }
                data += buffer[0..<count]
            }
            guard let (head, body) = request else { return }
            usleep(delay)
            counter.withLock { $0 += 1 }
            let json: String
            let key = String(head.prefix(while: { $0 != "\r" })) + String(decoding: body, as: UTF8.self)
            if let cached = cache.withLock({ $0[key] }) {
                json = cached
            } else if head.hasPrefix("POST ") && head.contains(":batchEmbedContents") {
                let texts = Self.texts(body, batch: true)
                json = "{\"embeddings\":[" + texts.map { "{\"values\":\(Self.vector($0, dimensions: dimensions))}" }.joined(separator: ",") + "]}"
            } else if head.hasPrefix("POST ") && head.contains(":embedContent") {
                json = "{\"embedding\":{\"values\":\(Self.vector(Self.texts(body, batch: false).first ?? "", dimensions: dimensions))}}"
            } else {
                json = "{\"error\":{\"code\":404,\"message\":\"not found\",\"status\":\"NOT_FOUND\"}}"
            }
            cache.withLock { $0[key] = json }
            let status = json.hasPrefix("{\"error\"") ? "404 Not Found" : "200 OK"
            let answer = Array("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)".utf8)
            var offset = 0
            while offset < answer.count {
                let sent = answer[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { return }
                offset += sent
            }
        }
    }

    /// The texts of an `embedContent` body or of each request of a batch.
    static func texts(_ body: [UInt8], batch: Bool) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return [] }
        let requests = batch ? (object["requests"] as? [[String: Any]] ?? []) : [object]
        return requests.map { request in
            let parts = (request["content"] as? [String: Any])?["parts"] as? [[String: Any]] ?? []
            return parts.compactMap { $0["text"] as? String }.joined()
        }
    }

    /// A unit vector derived from the text's FNV-1a hash (SplitMix64 stream), as a JSON array.
    static func vector(_ text: String, dimensions: Int) -> String {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var values: [Double] = []
        values.reserveCapacity(dimensions)
        for _ in 0..<dimensions {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            z ^= z >> 31
            values.append(Double(z >> 11) / Double(1 << 53) * 2 - 1)
        }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        // Printed as Gemini prints them (a Float's shortest digits, up to 9 significant).
        return "[" + values.map { "\(Float($0 / norm))" }.joined(separator: ",") + "]"
    }
}
