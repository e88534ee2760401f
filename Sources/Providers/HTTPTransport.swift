import Foundation

/// An outgoing HTTP request: method, absolute URL, headers in order, optional body, timeout.
public struct HTTPRequest: Sendable {
    /// `GET`, `PUT`, `POST`, `HEAD`, `DELETE`, …
    public var method: String
    /// The absolute URL.
    public var url: URL
    /// Header fields in order; names as given.
    public var headers: [(name: String, value: String)]
    /// The body, if any.
    public var body: Data?
    /// The whole request's deadline. Default: 30 s.
    public var timeout: Duration

    /// Creates a request.
    public init(method: String, url: URL, headers: [(name: String, value: String)] = [], body: Data? = nil, timeout: Duration = .seconds(30)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// An HTTP response: status, headers (names lowercased), body.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields keyed by lowercased name.
    public var headers: [String: String]
    /// The body.
    public var body: Data

    /// Creates a response.
    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Sends HTTP requests. The production implementation is ``URLSessionTransport``; tests talk to
/// local servers through the same type.
public protocol HTTPTransport: Sendable {
    /// Sends `request`; throws ``ProviderError`` with ``ProviderError/Code/timeout`` or
    /// ``ProviderError/Code/unavailable`` when no response arrives. Any status is a response.
    func send(_ request: HTTPRequest) async throws(ProviderError) -> HTTPResponse
}

/// Bounds how many operations run at once (per provider), waiting in FIFO order.
public actor ConcurrencyLimiter {
    private let limit: Int
    private var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// A limiter admitting `limit` (≥ 1) operations at once.
    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs `operation` once a slot is free.
    public func run<T: Sendable, E: Error>(_ operation: @Sendable () async throws(E) -> T) async throws(E) -> T {
        await acquire()
        defer { release() }
        return try await operation()
    }

    private func acquire() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            running -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
