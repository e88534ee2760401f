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
            let (data, response): (Data, URLResponse)
            if let body = request.body {
                (data, response) = try await session.upload(for: urlRequest, from: body)
            } else {
                (data, response) = try await session.data(for: urlRequest)
            }
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
