/// How a client speaks TLS: what it checks of the server and what it shows of itself. The names
/// follow redis-py's `ssl_*` connection options, so one `rediss://` URL serves both.
public struct TLSConfiguration: Sendable, Hashable {
    /// Whether the server's certificate chain is verified (redis-py's `ssl_cert_reqs`).
    public enum CertificateRequirement: String, Sendable, Hashable {
        /// No verification at all (testing only): any certificate, any name.
        case none
        /// As `required`: a client always receives the server's certificate, so Python's
        /// `CERT_OPTIONAL` verifies it just the same.
        case optional
        /// The chain must lead to a trusted CA (the default).
        case required
    }

    /// Chain verification. Default: `.required`.
    public var certificateRequirement: CertificateRequirement
    /// PEM file of trusted CAs (`ssl_ca_certs`); `nil` uses the system's trust store. Default: `nil`.
    public var caFile: String?
    /// Folder of hashed CA certificates (`ssl_ca_path`). Default: `nil`.
    public var caDirectory: String?
    /// The client's certificate chain, PEM (`ssl_certfile`), for mutual TLS. Default: `nil`.
    public var certificateFile: String?
    /// The client's private key, PEM (`ssl_keyfile`); defaults to the certificate file when only
    /// that is given (a combined PEM, as Python's `load_cert_chain` allows). Default: `nil`.
    public var keyFile: String?
    /// The pass phrase of an encrypted key (`ssl_password`). Never printed. Default: `nil`.
    public var keyPassword: String?
    /// Whether the certificate must name the host connected to (`ssl_check_hostname`); ignored
    /// when ``certificateRequirement`` is `.none`. Default: `true`.
    public var checkHostname: Bool
    /// The lowest protocol version accepted: 771 is TLS 1.2, 772 TLS 1.3 (Python's
    /// `ssl.TLSVersion` values, `ssl_min_version`). Default: `nil` (OpenSSL's default, TLS 1.2).
    public var minimumVersion: Int?
    /// OpenSSL cipher list for TLS 1.2 (`ssl_ciphers`). Default: `nil`.
    public var ciphers: String?

    /// Creates a configuration; see the properties for the defaults.
    public init(
        certificateRequirement: CertificateRequirement = .required,
        caFile: String? = nil,
        caDirectory: String? = nil,
        certificateFile: String? = nil,
        keyFile: String? = nil,
        keyPassword: String? = nil,
        checkHostname: Bool = true,
        minimumVersion: Int? = nil,
        ciphers: String? = nil
    ) {
        self.certificateRequirement = certificateRequirement
        self.caFile = caFile
        self.caDirectory = caDirectory
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.keyPassword = keyPassword
        self.checkHostname = checkHostname
        self.minimumVersion = minimumVersion
        self.ciphers = ciphers
    }

    /// Whether the server's certificate is verified at all.
    public var verifiesPeer: Bool { certificateRequirement != .none }
}

extension TLSConfiguration: CustomStringConvertible, CustomReflectable {
    /// The settings without the key pass phrase.
    public var description: String {
        var parts = ["cert_reqs=\(certificateRequirement.rawValue)", "check_hostname=\(checkHostname && verifiesPeer)"]
        if let caFile { parts.append("ca_certs=\(caFile)") }
        if let caDirectory { parts.append("ca_path=\(caDirectory)") }
        if let certificateFile { parts.append("certfile=\(certificateFile)") }
        if let keyFile { parts.append("keyfile=\(keyFile)") }
        if keyPassword != nil { parts.append("password=***") }
        return "TLS(\(parts.joined(separator: ", ")))"
    }

    /// A mirror without the pass phrase, so `dump` cannot print it.
    public var customMirror: Mirror { Mirror(self, children: ["settings": description]) }
}
