import Foundation
import Providers

/// Signs and sends requests for one service, with a deadline on each request.
struct SignedClient: Sendable {
    let signer: SigV4Signer
    let transport: any HTTPTransport
    let timeout: Duration

    /// Signs `request` now and sends it; the whole exchange must finish within `timeout` (or the
    /// request's own, shorter, timeout). Transport failures come back as ProviderError
    /// `.timeout`/`.unavailable`; every HTTP status is a response.
    func send(_ request: HTTPRequest, payload: SigV4Signer.Payload? = nil, timeout: Duration? = nil) async throws(ProviderError) -> HTTPResponse {
        var request = request
        let limit = min(timeout ?? self.timeout, self.timeout)
        // URLSession on Linux (libcurl) fires sub-second timeouts early (0.3 s gave up after ~50 ms),
        // so the transport gets at least 1 s and `withDeadline` enforces the real limit.
        request.timeout = max(limit, .seconds(1))
        let signed = signer.signed(request, payload: payload, date: Date())
        let transport = self.transport
        let what = "\(request.method) \(request.url.host ?? "?")"
        return try await withDeadline(limit, "\(what): no response within \(limit)") { () async throws(ProviderError) -> HTTPResponse in
            try await transport.send(signed)
        }
    }
}

/// Runs `operation`, failing with ``ProviderError/Code/timeout`` and `timeoutMessage` when it takes
/// longer than `limit` (the operation is cancelled then).
func withDeadline<T: Sendable>(
    _ limit: Duration, _ timeoutMessage: String, _ operation: @escaping @Sendable () async throws(ProviderError) -> T
) async throws(ProviderError) -> T {
    let outcome: Result<T, ProviderError>? = await withTaskGroup(of: Result<T, ProviderError>?.self) { group in
        group.addTask {
            do throws(ProviderError) {
                return .success(try await operation())
            } catch {
                return .failure(error)
            }
        }
        group.addTask {
            do {
                try await Task.sleep(for: limit)
            } catch {
                return nil  // cancelled: the operation finished first, or the caller was cancelled
            }
            return .failure(ProviderError(.timeout, timeoutMessage))
        }
        var first: Result<T, ProviderError>?
        while let next = await group.next() {
            if let next {
                first = next
                break
            }
        }
        group.cancelAll()
        return first
    }
    guard let outcome else { throw ProviderError(.timeout, "cancelled") }
    return try outcome.get()
}
