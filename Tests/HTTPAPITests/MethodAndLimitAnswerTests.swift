import Foundation
import HTTPAPI
import TestSupport
import Testing

/// Hummingbird's own refusals in the API's envelope: a known route asked with another method is a
/// 405 naming the methods it answers (not a 404), and a JSON body over 64 KiB is a 413
/// `payload_too_large` (it was `http_error`), chunked or not.
@Suite("HTTP API method and size answers", .serialized)
struct MethodAndLimitAnswerTests {
    @Test func otherMethodsOnKnownRoutesAre405() async throws {
        try await APITestServer.with { server in
            let trace = try await RawHTTP.send(port: server.port, "TRACE", "/health")
            #expect(trace.status == 405)
            #expect(trace.errorCode == "method_not_allowed")
            #expect(trace.header("Allow") == "GET")
            let delete = try await RawHTTP.send(port: server.port, "DELETE", "/job-posts/\(UUID().uuidString)")
            #expect(delete.status == 405)
            #expect(delete.header("Allow") == "GET")
            let put = try await RawHTTP.send(port: server.port, "PUT", "/job-posts")
            #expect(put.header("Allow") == "GET, POST")
            let unknown = try await RawHTTP.send(port: server.port, "DELETE", "/no-such-route")
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "not_found")
        }
    }

    @Test func jsonBodiesOver64KiBArePayloadTooLarge() async throws {
        try await APITestServer.with { server in
            let body = Array("{\"title\": \"\(String(repeating: "a", count: 70_000))\"}".utf8)
            let plain = try await RawHTTP.send(port: server.port, "POST", "/job-posts", headers: [("Content-Type", "application/json")], body: body)
            #expect(plain.status == 413)
            #expect(plain.errorCode == "payload_too_large", "\(plain.text)")
            let chunk = Array(String(body.count, radix: 16).utf8) + Array("\r\n".utf8) + body + Array("\r\n0\r\n\r\n".utf8)
            let chunked = try await RawHTTP.send(
                port: server.port, "POST", "/job-posts", headers: [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")], body: chunk)
            #expect(chunked.status == 413)
            #expect(chunked.errorCode == "payload_too_large", "\(chunked.text)")
        }
    }
}
