internal import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// TLS over a connected socket, through OpenSSL. The handshake runs in ``init(over:context:serverName:timeout:)``
/// on the caller's (the connection's own) thread, bounded by the socket timeout, so it cannot hang.
public final class TLSStream: ByteStream {
    private let socket: PlainStream
    private var session: OpaquePointer?

    /// The socket descriptor, or -1 once closed.
    public var descriptor: Int32 { socket.descriptor }

    /// Runs the client handshake over `socket`: sends `serverName` as SNI (host names only) and,
    /// when the context verifies peers and checks names, requires the certificate to match it.
    ///
    /// - Throws: ``TransportError`` saying what failed: `certificateRejected` (unknown CA, name
    ///   mismatch, expired), `clientCertificateRequired`, `notTLS` (a plain port), `timedOut`, or
    ///   `closed`.
    public init(over socket: PlainStream, context: TLSClientContext, serverName: String, timeout: Duration) throws(TransportError) {
        self.socket = socket
        _ = Self.ignoreBrokenPipes
        TLSErrors.clear()
        guard let session = SSL_new(context.context) else {
            throw TransportError(.tlsConfiguration, "OpenSSL could not make a session: \(TLSErrors.drain())")
        }
        self.session = session
        SSL_set_fd(session, socket.descriptor)
        let isAddress = Self.isIPAddress(serverName)
        if !isAddress { _ = cssl_set_server_name(session, serverName) }
        if context.configuration.verifiesPeer && context.configuration.checkHostname {
            if isAddress {
                _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session), serverName)
            } else {
                _ = SSL_set1_host(session, serverName)
            }
        }
        socket.setTimeout(timeout)
        while true {
            TLSErrors.clear()
            let result = SSL_connect(session)
            if result == 1 { break }
            let failure = SSL_get_error(session, result)
            let code = errno
            if failure == SSL_ERROR_SYSCALL && code == EINTR { continue }
            let error = Self.handshakeError(session, failure: failure, errno: code, serverName: serverName, timeout: timeout)
            close()
            throw error
        }
    }

    deinit { close() }

    /// OpenSSL writes with `write(2)`, which raises `SIGPIPE` on a socket the peer closed; it is
    /// ignored process-wide so that such a write is an ordinary error.
    private static let ignoreBrokenPipes: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Writes all of `bytes` as TLS records.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            guard let session else { throw TransportError(.closed, "the connection is closed") }
            TLSErrors.clear()
            let chunk = Int32(clamping: bytes.count - offset)
            let written = SSL_write(session, bytes.baseAddress!.advanced(by: offset), chunk)
            if written > 0 {
                offset += Int(written)
                continue
            }
            let failure = SSL_get_error(session, written)
            let code = errno
            if failure == SSL_ERROR_SYSCALL && code == EINTR { continue }
            throw Self.ioError(failure: failure, errno: code, reading: false)
        }
    }

    /// Reads decrypted bytes (at least one).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int {
        while true {
            guard let session else { throw TransportError(.closed, "the connection is closed") }
            TLSErrors.clear()
            let count = SSL_read(session, buffer.baseAddress, Int32(clamping: buffer.count))
            if count > 0 { return Int(count) }
            let failure = SSL_get_error(session, count)
            let code = errno
            if failure == SSL_ERROR_SYSCALL && code == EINTR { continue }
            throw Self.ioError(failure: failure, errno: code, reading: true)
        }
    }

    /// Sets the socket's read and write timeouts (OpenSSL's reads and writes then honour them).
    public func setTimeout(_ timeout: Duration?) {
        socket.setTimeout(timeout)
    }

    /// An idle TLS socket may be readable for records that carry no data (TLS 1.3 session
    /// tickets); those are consumed with a non-blocking peek. Data or an end means closed.
    public func idleStreamLooksClosed() -> Bool {
        guard let session else { return true }
        if SSL_pending(session) > 0 { return true }
        guard SocketOptions.pollsReadable(socket.descriptor) else { return false }
        let flags = fcntl(socket.descriptor, F_GETFL, 0)
        _ = fcntl(socket.descriptor, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(socket.descriptor, F_SETFL, flags) }
        var byte: UInt8 = 0
        TLSErrors.clear()
        let count = SSL_peek(session, &byte, 1)
        if count > 0 { return true }
        let failure = SSL_get_error(session, count)
        TLSErrors.clear()
        return failure != SSL_ERROR_WANT_READ
    }

    /// Sends `close_notify` (best effort), frees the session and closes the socket.
    public func close() {
        if let session {
            if socket.descriptor >= 0 { _ = SSL_shutdown(session) }
            SSL_free(session)
            self.session = nil
            TLSErrors.clear()
        }
        socket.close()
    }

    // MARK: Errors

    private static func handshakeError(
        _ session: OpaquePointer, failure: Int32, errno code: Int32, serverName: String, timeout: Duration
    ) -> TransportError {
        let verification = SSL_get_verify_result(session)
        if verification != X509_V_OK {
            return certificateError(verification, serverName: serverName)
        }
        switch failure {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return TransportError(.timedOut, "no TLS handshake answer within \(timeout) (a plain, non-TLS port?)")
        case SSL_ERROR_SYSCALL:
            if SocketOptions.isTimeout(code) {
                return TransportError(.timedOut, "no TLS handshake answer within \(timeout) (a plain, non-TLS port?)")
            }
            let reasons = TLSErrors.drain()
            return TransportError(.closed, "the server closed the connection during the TLS handshake (\(code == 0 ? reasons : SocketOptions.errnoText(code)))")
        default:
            return protocolError(TLSErrors.drain(), handshake: true)
        }
    }

    private static func ioError(failure: Int32, errno code: Int32, reading: Bool) -> TransportError {
        switch failure {
        case SSL_ERROR_ZERO_RETURN:
            return TransportError(.closed, "connection closed by the server (TLS close_notify)")
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return TransportError(.timedOut, reading ? "no reply from the server" : "the server did not take the request in time")
        case SSL_ERROR_SYSCALL:
            TLSErrors.clear()
            if SocketOptions.isTimeout(code) {
                return TransportError(.timedOut, reading ? "no reply from the server" : "the server did not take the request in time")
            }
            return TransportError(.closed, code == 0 ? "connection closed by the server" : "\(reading ? "read" : "write") failed: \(SocketOptions.errnoText(code))")
        default:
            return protocolError(TLSErrors.drain(), handshake: false)
        }
    }

    /// Names the common TLS protocol failures from OpenSSL's reason text.
    private static func protocolError(_ reasons: String, handshake: Bool) -> TransportError {
        let lowered = reasons.lowercased()
        if lowered.contains("certificate required") || lowered.contains("alert bad certificate") || lowered.contains("alert unknown ca") {
            return TransportError(
                .clientCertificateRequired,
                "the server requires a client certificate it accepts (set ssl_certfile and ssl_keyfile): \(reasons)")
        }
        if lowered.contains("wrong version number") || lowered.contains("packet length too long")
            || lowered.contains("unknown protocol") || lowered.contains("record layer failure") || lowered.contains("http request") {
            return TransportError(.notTLS, "the server did not answer in TLS (a plain, non-TLS port? then use redis://): \(reasons)")
        }
        return TransportError(handshake ? .tlsHandshake : .closed, "TLS \(handshake ? "handshake" : "connection") failed: \(reasons)")
    }

    private static func certificateError(_ verification: Int, serverName: String) -> TransportError {
        let text = String(cString: X509_verify_cert_error_string(verification))
        let explanation: String
        switch Int32(verification) {
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            explanation = "the server's certificate does not name '\(serverName)' (connect with the name in the certificate, or ssl_check_hostname=false)"
        case X509_V_ERR_CERT_HAS_EXPIRED:
            explanation = "the server's certificate has expired"
        case X509_V_ERR_CERT_NOT_YET_VALID:
            explanation = "the server's certificate is not valid yet (check the clocks)"
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
             X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            explanation = "the server's certificate is signed by an unknown CA (set ssl_ca_certs to the CA bundle that signed it)"
        default:
            explanation = "the server's certificate was refused"
        }
        return TransportError(.certificateRejected, "\(explanation): \(text)")
    }

    private static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}
