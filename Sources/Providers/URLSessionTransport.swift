import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// ``HTTPTransport`` over Foundation's `URLSession` (libcurl on Linux).
///
/// One ephemeral session per transport: no cookies, no cache, no credential storage. Redirects are
/// not followed (signed requests must not be replayed elsewhere). `Host` is left to URLSession, which
/// sends `host:port` for non-default ports; signers sign that same value.
public final class URLSessionTransport: HTTPTransport, @unchecked Sendable {
    // URLSession is thread-safe; the delegate holds no state.
    private let session: URLSession

    /// Creates a transport allowing `maximumConnectionsPerHost` connections to each host. Default: 64.
    public init(maximumConnectionsPerHost: Int = 64) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maximumConnectionsPerHost
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Sends `request`. Transport failures map to ``ProviderError/Code/timeout`` or
    /// ``ProviderError/Code/unavailable``, naming the host but never headers or bodies.
    public func send(_ request: HTTPRequest) async throws(ProviderError) -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = max(0.001, request.timeout.secondsValue)
        for header in request.headers { urlRequest.addValue(header.value, forHTTPHeaderField: header.name) }
        let host = request.url.host ?? "?"
        do {
            let (data, response) = try await perform(urlRequest, body: request.body)
            guard let http = response as? HTTPURLResponse else {
                throw ProviderError(.badResponse, "\(request.method) \(host): not an HTTP response")
            }
            var headers: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
            }
            return HTTPResponse(status: http.statusCode, headers: headers, body: data)
        } catch let error as ProviderError {
            throw error
        } catch let error as URLError where error.code == .timedOut {
            throw ProviderError(.timeout, "\(request.method) \(host): no response within \(request.timeout)")
        } catch is CancellationError {
            throw ProviderError(.timeout, "\(request.method) \(host): cancelled")
        } catch let error as URLError where error.code == .cancelled {
            throw ProviderError(.timeout, "\(request.method) \(host): cancelled")
        } catch let error as URLError {
            throw ProviderError(.unavailable, "\(request.method) \(host): connection failed (URLError \(error.code.rawValue))")
        } catch {
            throw ProviderError(.unavailable, "\(request.method) \(host): connection failed")
        }
    }
}

extension URLSessionTransport {
    /// One request through a completion-handler task. Not `session.data(for:)`: in
    /// swift-corelibs-foundation its cancellation handler calls into the session's queue while
    /// holding the Swift task's status lock, and the session's queue, completing the same request,
    /// waits for that lock to resume the continuation — a deadlock seen in the test suite (a
    /// cancelled task group around a request). Here the cancel goes to another thread.
    private func perform(_ request: URLRequest, body: Data?) async throws -> (Data, URLResponse) {
        let pending = PendingRequest()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Data, URLResponse), any Error>) in
                let completion: @Sendable (Data?, URLResponse?, (any Error)?) -> Void = { data, response, error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else if let response {
                        continuation.resume(returning: (data ?? Data(), response))
                    } else {
                        continuation.resume(throwing: URLError(.badServerResponse))
                    }
                }
                let task = body.map { session.uploadTask(with: request, from: $0, completionHandler: completion) }
                    ?? session.dataTask(with: request, completionHandler: completion)
                task.resume()
                if pending.start(task) { task.cancel() }
            }
        } onCancel: {
            DispatchQueue.global().async { pending.cancel() }
        }
    }
}

/// The task of one request and whether it was cancelled before it existed.
private final class PendingRequest: @unchecked Sendable {
    // `@unchecked`: both fields are guarded by `lock`.
    private let lock = NSLock()
    private var task: URLSessionTask?
    private var cancelled = false

    /// Records `task`; returns whether it must be cancelled at once.
    func start(_ task: URLSessionTask) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        self.task = task
        return cancelled
    }

    /// Cancels the task, or marks the request cancelled before it starts.
    func cancel() {
        lock.lock()
        cancelled = true
        let task = self.task
        lock.unlock()
        task?.cancel()
    }
}

/// Refuses redirects so the 3xx response itself is returned.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
