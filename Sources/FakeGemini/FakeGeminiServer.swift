import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A local stand-in for the Gemini embeddings API (no mock of it exists offline), shared by the
/// Gemini tests and `bench pipeline`: a minimal HTTP/1.1 server on 127.0.0.1 over POSIX sockets,
/// one thread per connection; `Connection: close` after every answer, or keep-alive
/// (``init(apiKey:model:keepAlive:)``) for the bench's many requests.
///
/// It checks every request as the real API documents it: `POST /v1beta/models/{model}:embedContent`
/// or `:batchEmbedContents`; `x-goog-api-key` equal to ``apiKey`` and no `key=` in the URL;
/// `Content-Type: application/json`; `model == "models/{model}"` in every request; at most 100
/// requests per batch; non-empty `content.parts[].text`; `taskType` from the enum;
/// `outputDimensionality` in 128…3072 (echoed as the vector length). A violation is answered as
/// Google does (400 `INVALID_ARGUMENT`, 404 `NOT_FOUND`) and recorded in ``violations``.
/// Vectors are deterministic (seeded by the text) and deliberately not unit length, as Gemini's
/// are below 3072 dimensions. Scripted answers (``script(_:)``) come first, one per request.
public final class FakeGeminiServer: @unchecked Sendable {
    // `@unchecked`: all mutable state is behind `lock`.

    /// What to do with the next request instead of answering normally.
    public enum Action: Sendable {
        /// Answer with this status, extra headers and body.
        case respond(status: Int, headers: [String: String], body: String)
        /// Wait, then answer normally.
        case delay(Duration)
        /// Close the connection without answering.
        case close
        /// Send a 200 whose body stops halfway, then close the connection.
        case truncate
    }

    /// One request as received.
    public struct Recorded: Sendable {
        /// The method.
        public var method: String
        /// The request target.
        public var target: String
        /// Headers, names lowercased.
        public var headers: [String: String]
        /// The body.
        public var body: Data
        /// The body as a JSON object.
        public var json: [String: any Sendable]? {
            (try? JSONSerialization.jsonObject(with: body)) as? [String: any Sendable]
        }
    }

    /// The key requests must carry in `x-goog-api-key`.
    public let apiKey: String
    /// The model requests must name.
    public let model: String
    /// The loopback port.
    public private(set) var port: Int = 0
    private let keepAlive: Bool
    /// Answers by request line and body (formatting 768 floats is not what a bench measures).
    private var answers: [String: String] = [:]
    private var connections = 0
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var scripted: [Action] = []
    private var recorded: [Recorded] = []
    private var problems: [String] = []
    private var inFlight = 0
    private var peakInFlight = 0
    private var slowEveryRequest: Duration?

    /// Starts a server; with `keepAlive`, connections serve request after request.
    public init(apiKey: String = "test-key-\(UUID().uuidString)", model: String = "gemini-embedding-001", keepAlive: Bool = false) throws {
        self.apiKey = apiKey
        self.model = model
        self.keepAlive = keepAlive
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw FakeServerError("socket failed") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 256) == 0 else { throw FakeServerError("bind/listen failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let fd = listener
        Thread.detachNewThread { [self] in acceptLoop(fd) }
    }

    /// The base URL to configure the embedder with.
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Stops accepting connections. Only `shutdown` here: the accept thread closes the socket when
    /// it leaves, so the descriptor number cannot be reused by another server while that thread
    /// might still call `accept` on it.
    public func stop() {
        lock.lock()
        let fd = listener
        listener = -1
        lock.unlock()
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    deinit { stop() }

    /// Queues answers for the next requests, in order.
    public func script(_ actions: Action...) {
        lock.withLock { scripted.append(contentsOf: actions) }
    }

    /// Delays every normal answer by `delay` (nil: answer at once).
    public func setSlow(_ delay: Duration?) {
        lock.withLock { slowEveryRequest = delay }
    }

    /// Every request so far.
    public var requests: [Recorded] { lock.withLock { recorded } }
    /// Protocol violations seen (empty when the client behaves).
    public var violations: [String] { lock.withLock { problems } }
    /// The most requests handled at the same time.
    public var peakConcurrency: Int {
        lock.withLock { peakInFlight }
    }
    /// Connections accepted so far.
    public var connectionCount: Int { lock.withLock { connections } }
    /// Requests answered so far.
    public var requestCount: Int { lock.withLock { recorded.count } }

    /// The vector this server returns for `text` at `dimensions`: seeded by FNV-1a of the text,
    /// values in [-2, 2], not normalised.
    public static func vector(for text: String, dimensions: Int) -> [Float] {
        var state: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return (0..<dimensions).map { _ in
            // SplitMix64.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(Double(z >> 11) / Double(1 << 53) * 4 - 2)
        }
    }

    // MARK: Serving

    private func acceptLoop(_ fd: Int32) {
        defer { close(fd) }
        while true {
            let connection = accept(fd, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return  // closed by stop()
            }
            lock.withLock { connections += 1 }
            Thread.detachNewThread { [self] in serve(connection) }
        }
    }

    /// One connection: one request, or (keep-alive) requests until the client closes or idles 10 s.
    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var time = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var pending: [UInt8] = []
        repeat {
            guard let request = readRequest(connection, &pending), handle(connection, request) else { return }
        } while keepAlive
    }

    /// Answers one request; false when the connection must close.
    private func handle(_ connection: Int32, _ request: Recorded) -> Bool {
        lock.lock()
        recorded.append(request)
        inFlight += 1
        peakInFlight = max(peakInFlight, inFlight)
        let action = scripted.isEmpty ? nil : scripted.removeFirst()
        let slow = slowEveryRequest
        lock.unlock()
        defer { lock.withLock { inFlight -= 1 } }

        switch action {
        case .respond(let status, let headers, let body):
            write(connection, status: status, headers: headers, body: body)
        case .close:
            return false
        case .truncate:
            send(connection, Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"embedding\": {\"val".utf8))
            return false
        case .delay(let delay):
            pause(delay)
            answer(connection, request)
        case nil:
            if let slow { pause(slow) }
            answer(connection, request)
        }
        return true
    }

    private func pause(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
    }

    private func violation(_ connection: Int32, _ status: Int, _ googleStatus: String, _ message: String) {
        lock.withLock { problems.append(message) }
        write(connection, status: status, headers: [:], body: Self.errorBody(status, googleStatus, message))
    }

    /// Google's error envelope.
    public static func errorBody(_ code: Int, _ status: String, _ message: String, details: String = "") -> String {
        let escaped = message.replacingOccurrences(of: "\"", with: "\\\"")
        return #"{"error": {"code": \#(code), "message": "\#(escaped)", "status": "\#(status)"\#(details.isEmpty ? "" : ", \"details\": \(details)")}}"#
    }

    private static let taskTypes: Set<String> = [
        "TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY", "CLASSIFICATION",
        "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY",
    ]

    private func answer(_ connection: Int32, _ request: Recorded) {
        let cacheKey = request.method + " " + request.target + " " + (request.headers["x-goog-api-key"] ?? "") + String(decoding: request.body, as: UTF8.self)
        if let cached = lock.withLock({ answers[cacheKey] }) {
            return write(connection, status: 200, headers: [:], body: cached)
        }
        guard request.method == "POST" else { return violation(connection, 405, "INVALID_ARGUMENT", "method \(request.method) is not POST") }
        guard !request.target.contains("key=") else { return violation(connection, 400, "INVALID_ARGUMENT", "the API key is in the URL") }
        guard request.headers["x-goog-api-key"] == apiKey else {
            return violation(connection, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        }
        guard request.headers["content-type"]?.hasPrefix("application/json") == true else {
            return violation(connection, 400, "INVALID_ARGUMENT", "Content-Type is not application/json")
        }
        let prefix = "/v1beta/models/"
        guard request.target.hasPrefix(prefix), let colon = request.target.lastIndex(of: ":") else {
            return violation(connection, 404, "NOT_FOUND", "unknown path \(request.target)")
        }
        let requestedModel = String(request.target[request.target.index(request.target.startIndex, offsetBy: prefix.count)..<colon])
        let method = String(request.target[request.target.index(after: colon)...])
        guard requestedModel == model else {
            return violation(connection, 404, "NOT_FOUND", "models/\(requestedModel) is not found for API version v1beta")
        }
        guard let json = request.json else { return violation(connection, 400, "INVALID_ARGUMENT", "the body is not a JSON object") }
        let items: [[String: Any]]
        switch method {
        case "embedContent":
            items = [json]
        case "batchEmbedContents":
            guard let list = json["requests"] as? [[String: Any]], !list.isEmpty else {
                return violation(connection, 400, "INVALID_ARGUMENT", "requests is missing")
            }
            guard list.count <= 100 else {
                return violation(connection, 400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch")
            }
            items = list
        default:
            return violation(connection, 404, "NOT_FOUND", "unknown method \(method)")
        }
        var vectors: [[Float]] = []
        for item in items {
            guard item["model"] as? String == "models/\(model)" else {
                return violation(connection, 400, "INVALID_ARGUMENT", "request model \(String(describing: item["model"])) differs from the URL")
            }
            guard let content = item["content"] as? [String: Any], let parts = content["parts"] as? [[String: Any]], !parts.isEmpty,
                  let texts = Optional(parts.compactMap { $0["text"] as? String }), texts.count == parts.count,
                  texts.allSatisfy({ !$0.isEmpty })
            else {
                return violation(connection, 400, "INVALID_ARGUMENT", "content.parts[].text must be non-empty text")
            }
            guard let task = item["taskType"] as? String, Self.taskTypes.contains(task) else {
                return violation(connection, 400, "INVALID_ARGUMENT", "invalid taskType \(String(describing: item["taskType"]))")
            }
            guard let dimensions = item["outputDimensionality"] as? Int, (128...3072).contains(dimensions) else {
                return violation(connection, 400, "INVALID_ARGUMENT", "outputDimensionality must be within 128 and 3072")
            }
            let unknown = Set(item.keys).subtracting(["model", "content", "taskType", "outputDimensionality", "title"])
            guard unknown.isEmpty else { return violation(connection, 400, "INVALID_ARGUMENT", "unknown fields \(unknown.sorted())") }
            vectors.append(Self.vector(for: texts.joined(), dimensions: dimensions))
        }
        let encode = { (vector: [Float]) in #"{"values": [\#(vector.map { "\($0)" }.joined(separator: ","))]}"# }
        let body = method == "embedContent"
            ? #"{"embedding": \#(encode(vectors[0]))}"#
            : #"{"embeddings": [\#(vectors.map(encode).joined(separator: ","))]}"#
        lock.withLock { answers[cacheKey] = body }
        write(connection, status: 200, headers: [:], body: body)
    }

    // MARK: HTTP/1.1

    /// One request from `connection`; `buffer` holds bytes read past it (the next request).
    private func readRequest(_ connection: Int32, _ buffer: inout [UInt8]) -> Recorded? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while true {
            if buffer.count >= 4 {
                for index in 0...(buffer.count - 4) where buffer[index..<(index + 4)].elementsEqual(separator) {
                    headerEnd = index
                    break
                }
            }
            if headerEnd != nil { break }
            let count = recv(connection, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            buffer += chunk[0..<count]
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if headers["expect"]?.lowercased() == "100-continue" {
            send(connection, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var body = Array(buffer[(headerEnd! + 4)...])
        while body.count < length {
            let count = recv(connection, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            body += chunk[0..<count]
        }
        buffer = Array(body.dropFirst(length))
        return Recorded(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: Data(body.prefix(length)))
    }

    private func write(_ connection: Int32, status: Int, headers: [String: String], body: String) {
        let payload = Array(body.utf8)
        var head = "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Error")\r\nContent-Type: application/json; charset=UTF-8\r\n"
        head += "Content-Length: \(payload.count)\r\n" + (keepAlive ? "" : "Connection: close\r\n")
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        send(connection, Array(head.utf8) + payload)
    }

    private func send(_ connection: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }
}

/// The fake server could not start.
public struct FakeServerError: Error, CustomStringConvertible {
    /// What failed.
    public var description: String
    init(_ description: String) { self.description = description }
}
