import HTTPTypes
import Hummingbird
import NIOCore

/// Responses with a body of known bytes: a typed value as JSON (``OrderedJSONEncoder``) or text.
enum JSONResponse {
    /// `value` as `application/json`, with `Content-Length`.
    static func make(status: HTTPResponse.Status = .ok, _ value: some Encodable, headers: HTTPFields = [:]) throws -> Response {
        let bytes = try OrderedJSONEncoder().encode(value)
        var fields = headers
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(bytes.count)
        return Response(status: status, headers: fields, body: body(bytes))
    }

    /// `bytes` as `contentType`, with `Content-Length`.
    static func text(status: HTTPResponse.Status = .ok, _ bytes: [UInt8], contentType: String) -> Response {
        Response(status: status, headers: [.contentType: contentType, .contentLength: String(bytes.count)], body: body(bytes))
    }

    private static func body(_ bytes: [UInt8]) -> ResponseBody {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return ResponseBody(byteBuffer: buffer)
    }
}
