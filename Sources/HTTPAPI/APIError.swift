import HTTPTypes
import Hummingbird
import NIOCore

/// An error answered to the client as `{"error": {"code", "message", "fields"?}}`.
///
/// ``message`` is written for API users and never contains secrets, SQL or server internals;
/// unexpected errors become a generic 500 (details go to the log at `error` level in the app).
public struct APIError: Error, HTTPResponseError, Sendable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A stable machine-readable code, e.g. `validation_failed`, `payload_too_large`.
    public var code: String
    /// A readable explanation.
    public var message: String
    /// Per-field reasons (422 only), e.g. `["candidate_email": "not a valid e-mail address"]`.
    public var fields: [String: String]?
    /// Whether the connection is closed after the answer (used when the request body was not read).
    public var closeConnection: Bool
    /// Further response headers (e.g. `Allow` on a 405).
    public var headers: HTTPFields

    /// Creates an error.
    public init(
        _ status: HTTPResponse.Status, code: String, message: String, fields: [String: String]? = nil, closeConnection: Bool = false,
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.closeConnection = closeConnection
        self.headers = headers
    }

    /// The JSON body, `fields` in key order.
    var body: ErrorEnvelope {
        ErrorEnvelope(code: code, message: message, fields: fields)
    }

    /// The response Hummingbird sends.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONResponse.make(status: status, body, headers: headers)
        if closeConnection { response.headers[.connection] = "close" }
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        if code == "busy" { response.headers[.retryAfter] = "1" }
        return response
    }

    // MARK: Common errors

    /// 404 `not_found`.
    public static func notFound(_ message: String) -> APIError { APIError(.notFound, code: "not_found", message: message) }
    /// 422 `validation_failed` with per-field reasons.
    public static func validation(_ fields: [String: String], message: String = "the request has invalid fields") -> APIError {
        APIError(.unprocessableContent, code: "validation_failed", message: message, fields: fields)
    }
    /// 400 `bad_request`.
    public static func badRequest(_ message: String, closeConnection: Bool = false) -> APIError {
        APIError(.badRequest, code: "bad_request", message: message, closeConnection: closeConnection)
    }
    /// 503 `service_unavailable`.
    public static func unavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, code: "service_unavailable", message: message)
    }
}
