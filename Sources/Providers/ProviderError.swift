/// A provider (storage, extraction, embedding, HTTP) could not do its work.
///
/// ``isTransient`` decides the retry policy: timeouts, HTTP 429/5xx and lost connections are
/// transient and retried by the queue; unreadable files, missing objects and bad configuration are
/// permanent. ``message`` never contains credentials, signatures or API keys.
public struct ProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public enum Code: String, Sendable, Hashable {
        /// The stored object or row does not exist.
        case notFound = "not_found"
        /// The document cannot be read (corrupt, wrong format, encrypted).
        case unreadableDocument = "unreadable_document"
        /// The document has no extractable text (empty, or image-only without OCR).
        case noText = "no_text"
        /// The service answered something this client does not understand.
        case badResponse = "bad_response"
        /// The service refused the request (4xx other than 404/429): credentials, permissions, input.
        case rejected = "rejected"
        /// The service asked us to slow down (HTTP 429 or a throttling error).
        case rateLimited = "rate_limited"
        /// The service failed (HTTP 5xx) or the connection was lost.
        case unavailable = "unavailable"
        /// A deadline passed.
        case timeout = "timeout"
        /// The provider is configured wrongly.
        case configuration = "configuration"
    }

    /// The code.
    public var code: Code
    /// A readable reason, safe to store in `error_message` and logs.
    public var message: String
    /// Whether retrying later may succeed.
    public var isTransient: Bool

    /// Creates an error; ``isTransient`` defaults from the code.
    public init(_ code: Code, _ message: String, isTransient: Bool? = nil) {
        self.code = code
        self.message = message
        self.isTransient = isTransient ?? [.rateLimited, .unavailable, .timeout].contains(code)
    }

    /// `"<code>: <message>"`.
    public var description: String { "\(code.rawValue): \(message)" }
}
