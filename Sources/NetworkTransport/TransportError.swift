/// An error from a transport: connecting, the TLS handshake, or moving bytes. Match on ``code``;
/// the ``message`` is safe to log (no key material, no password, no payload bytes).
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case connectFailed, timedOut, closed, tlsConfiguration, tlsHandshake, certificateRejected
            case clientCertificateRequired, notTLS
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No connection could be made (refused, unreachable, name not resolved, connect timeout).
        public static let connectFailed = Code(.connectFailed)
        /// A read or write did not complete within its timeout.
        public static let timedOut = Code(.timedOut)
        /// The peer closed the connection, or it broke.
        public static let closed = Code(.closed)
        /// The TLS settings could not be applied (a CA or key file that cannot be read, a key that
        /// does not match its certificate, an unknown option value).
        public static let tlsConfiguration = Code(.tlsConfiguration)
        /// The TLS handshake failed for a reason other than the ones below.
        public static let tlsHandshake = Code(.tlsHandshake)
        /// The server's certificate was refused: unknown CA, name mismatch, expired, not yet valid.
        public static let certificateRejected = Code(.certificateRejected)
        /// The server asked for a client certificate and none (or an unacceptable one) was sent.
        public static let clientCertificateRequired = Code(.clientCertificateRequired)
        /// The server did not answer TLS at all (a plain port).
        public static let notTLS = Code(.notTLS)

        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation, free of secrets.
    public var message: String

    /// Whether trying again later may succeed: refused or broken connections and timeouts do; a
    /// refused certificate or a bad TLS setting does not.
    public var isRetryable: Bool {
        code == .connectFailed || code == .timedOut || code == .closed
    }

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `"<code>: <message>"`.
    public var description: String { "\(code): \(message)" }
}
