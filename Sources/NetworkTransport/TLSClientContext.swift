internal import COpenSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An OpenSSL client context (`SSL_CTX`) built from a ``TLSConfiguration``: trust store, client
/// certificate and key, verification mode. Built once per configuration and shared by every
/// connection that uses it (an `SSL_CTX` may make sessions on many threads once set up), so the
/// CA bundle is read once, not per connection.
public final class TLSClientContext: @unchecked Sendable {
    // `@unchecked`: `context` is configured in `init` and only read afterwards (SSL_new), which
    // OpenSSL allows from any thread.
    let context: OpaquePointer
    /// The configuration this context was made from.
    public let configuration: TLSConfiguration
    private let passwordCopy: UnsafeMutablePointer<CChar>?

    private static let cache = Mutex<[TLSConfiguration: TLSClientContext]>([:])

    /// The shared context for `configuration`, built on first use.
    public static func shared(for configuration: TLSConfiguration) throws(TransportError) -> TLSClientContext {
        if let context = cache.withLock({ $0[configuration] }) { return context }
        let made = try TLSClientContext(configuration: configuration)
        return cache.withLock { entries in
            if let existing = entries[configuration] { return existing }
            entries[configuration] = made
            return made
        }
    }

    /// Builds a context; throws ``TransportError/Code/tlsConfiguration`` naming the file or
    /// setting that could not be used.
    public init(configuration: TLSConfiguration) throws(TransportError) {
        self.configuration = configuration
        TLSErrors.clear()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TransportError(.tlsConfiguration, "OpenSSL could not make a client context: \(TLSErrors.drain())")
        }
        self.context = context
        self.passwordCopy = configuration.keyPassword.map { strdup($0) }
        if let minimum = configuration.minimumVersion {
            let version: Int32
            switch minimum {
            case 771: version = cssl_tls1_2_version()
            case 772: version = cssl_tls1_3_version()
            default: throw TransportError(.tlsConfiguration, "ssl_min_version \(minimum) is not 771 (TLS 1.2) or 772 (TLS 1.3)")
            }
            _ = cssl_ctx_set_min_version(context, version)
        }
        if let ciphers = configuration.ciphers, SSL_CTX_set_cipher_list(context, ciphers) != 1 {
            throw TransportError(.tlsConfiguration, "ssl_ciphers '\(ciphers)' names no usable cipher")
        }
        SSL_CTX_set_verify(context, configuration.verifiesPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        if configuration.verifiesPeer {
            if configuration.caFile != nil || configuration.caDirectory != nil {
                if SSL_CTX_load_verify_locations(context, configuration.caFile, configuration.caDirectory) != 1 {
                    let what = [configuration.caFile, configuration.caDirectory].compactMap { $0 }.joined(separator: ", ")
                    throw TransportError(.tlsConfiguration, "cannot read the CA certificates in \(what): \(TLSErrors.drain())")
                }
            } else if SSL_CTX_set_default_verify_paths(context) != 1 {
                throw TransportError(.tlsConfiguration, "cannot load the system's trust store: \(TLSErrors.drain())")
            }
        }
        if let certificate = configuration.certificateFile {
            if let passwordCopy { SSL_CTX_set_default_passwd_cb_userdata(context, passwordCopy) }
            let key = configuration.keyFile ?? certificate
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                throw TransportError(.tlsConfiguration, "cannot read the client certificate \(certificate): \(TLSErrors.drain())")
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                throw TransportError(.tlsConfiguration, "cannot read the client key \(key) (wrong ssl_password?): \(TLSErrors.drain())")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw TransportError(.tlsConfiguration, "the client key \(key) does not match the certificate \(certificate)")
            }
        } else if configuration.keyFile != nil {
            throw TransportError(.tlsConfiguration, "ssl_keyfile needs ssl_certfile")
        }
    }

    deinit {
        SSL_CTX_free(context)
        if let passwordCopy {
            memset(passwordCopy, 0, strlen(passwordCopy))
            free(passwordCopy)
        }
    }
}
