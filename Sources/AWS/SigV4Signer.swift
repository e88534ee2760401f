import Crypto
import Foundation
import Providers

/// AWS Signature Version 4, header form, byte for byte as botocore signs.
///
/// - `s3` (``service`` equal to `"s3"`): the canonical URI is the path exactly as sent (already
///   percent-encoded once, not normalised), and `X-Amz-Content-SHA256` is added and signed.
/// - Every other service: dot segments and `//` are removed from the path, which is then
///   percent-encoded a second time; no `X-Amz-Content-SHA256` header.
/// - The query is split at `&` and `=`, each name and value percent-decoded and re-encoded with the
///   RFC 3986 unreserved set (`/` → `%2F`, space → `%20`, `+` kept as a literal `+` → `%2B`), then
///   sorted by encoded name and value. Build URLs with ``queryString(_:)`` so what is sent and what
///   is signed agree.
/// - Every header given is signed except the hop-by-hop ones botocore leaves out (`user-agent`,
///   `expect`, `connection`, …). `host` is taken from the URL, with `:port` for a non-default port,
///   as URLSession sends it. Do not pass headers the HTTP client may rewrite (`content-length`).
/// - Temporary credentials add a signed `X-Amz-Security-Token`.
public struct SigV4Signer: Sendable {
    /// What to put in the canonical request's last line (and S3's `X-Amz-Content-SHA256`).
    public enum Payload: Sendable, Hashable {
        /// The body: its SHA-256 is signed.
        case bytes(Data)
        /// `UNSIGNED-PAYLOAD` (S3 only): the body is not hashed.
        case unsigned
    }

    /// The signing result: headers to add and the intermediate strings (for tests).
    ///
    /// The canonical request contains the session token, so none of these strings belongs in logs;
    /// `description` shows the signed header names only.
    public struct Signature: Sendable, CustomStringConvertible {
        /// Headers to add to the request, in botocore's order: `X-Amz-Date`,
        /// `X-Amz-Security-Token` (temporary credentials), `X-Amz-Content-SHA256` (S3), `Authorization`.
        public var headers: [(name: String, value: String)]
        /// The canonical request (step 1).
        public var canonicalRequest: String
        /// The string to sign (step 2).
        public var stringToSign: String
        /// The lowercase hex signature (step 4).
        public var signature: String
        /// `host;x-amz-date;…`.
        public var signedHeaders: String
        /// The `Authorization` header value.
        public var authorization: String

        /// `SigV4(SignedHeaders=…)`, without the signature.
        public var description: String { "SigV4(SignedHeaders=\(signedHeaders))" }
    }

    /// Hop-by-hop and client-set headers botocore never signs (`SIGNED_HEADERS_BLACKLIST`).
    static let unsignedHeaderNames: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", "authorization",
    ]

    /// SHA-256 of the empty string.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The credentials.
    public var credentials: AWSCredentials
    /// The signing region, e.g. `us-east-1`.
    public var region: String
    /// The signing name of the service, e.g. `s3` or `textract`.
    public var service: String

    /// Creates a signer for one service in one region.
    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    private var isS3: Bool { service == "s3" }

    /// Signs a request to `url` sending `headers` and `payload` at `date`. The URL's path and query
    /// must be percent-encoded exactly as they will be sent.
    public func sign(
        method: String, url: URL, headers: [(name: String, value: String)], payload: Payload, date: Date
    ) -> Signature {
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let amzDate = AWSEncoding.amzDate(date)
        let payloadHash: String
        switch payload {
        case .bytes(let data): payloadHash = AWSEncoding.hex(SHA256.hash(data: data))
        case .unsigned: payloadHash = "UNSIGNED-PAYLOAD"
        }

        // The headers as botocore sees them after `_modify_request_before_signing`.
        var added: [(name: String, value: String)] = [("X-Amz-Date", amzDate)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        if isS3 || payload == .unsigned { added.append(("X-Amz-Content-SHA256", payloadHash)) }
        let replaced = Set(added.map { $0.name.lowercased() })
        var signed: [String: [String]] = [:]
        // A caller's X-Amz-Date etc. is replaced, as botocore does.
        for header in headers.filter({ !replaced.contains($0.name.lowercased()) }) + added {
            let name = header.name.lowercased()
            if Self.unsignedHeaderNames.contains(name) { continue }
            signed[name, default: []].append(Self.trimAll(header.value))
        }
        if signed["host"] == nil {
            signed["host"] = [Self.hostHeader(for: components)]
        }
        let names = signed.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var canonicalHeaders = ""
        for name in names { canonicalHeaders += name + ":" + signed[name]!.joined(separator: ",") + "\n" }
        let signedHeaders = names.joined(separator: ";")

        let canonicalRequest = [
            method.uppercased(),
            canonicalURI(components),
            Self.canonicalQuery(components?.percentEncodedQuery),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")

        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, AWSEncoding.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = AWSEncoding.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(
            headers: added + [("Authorization", authorization)], canonicalRequest: canonicalRequest,
            stringToSign: stringToSign, signature: signature, signedHeaders: signedHeaders, authorization: authorization
        )
    }

    /// Returns `request` with the signature headers added (any existing `Authorization`,
    /// `X-Amz-Date`, `X-Amz-Security-Token` or `X-Amz-Content-SHA256` replaced). `payload` defaults
    /// to the request's body.
    public func signed(_ request: HTTPRequest, payload: Payload? = nil, date: Date = Date()) -> HTTPRequest {
        let replaced: Set<String> = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"]
        var request = request
        request.headers.removeAll { replaced.contains($0.name.lowercased()) }
        let signature = sign(
            method: request.method, url: request.url, headers: request.headers,
            payload: payload ?? .bytes(request.body ?? Data()), date: date
        )
        request.headers += signature.headers
        return request
    }

    /// `name=value&…` with names and values encoded as the signer encodes them, in the order given.
    public static func queryString(_ pairs: [(name: String, value: String)]) -> String {
        pairs.map { AWSEncoding.uriEncode($0.name, keepSlash: false) + "=" + AWSEncoding.uriEncode($0.value, keepSlash: false) }
            .joined(separator: "&")
    }

    /// Percent-encodes an S3 object key for a URL path: every byte but `A–Z a–z 0–9 - _ . ~ /`.
    public static func encodeS3Key(_ key: String) -> String {
        AWSEncoding.uriEncode(key, keepSlash: true)
    }

    // MARK: - Canonical parts

    private func canonicalURI(_ components: URLComponents?) -> String {
        let path = components?.percentEncodedPath ?? ""
        if isS3 { return path.isEmpty ? "/" : path }
        return AWSEncoding.uriEncode(Self.removingDotSegments(path.isEmpty ? "/" : path), keepSlash: true)
    }

    /// RFC 3986 §5.2.4 plus collapsing `//`, as botocore's `remove_dot_segments`.
    static func removingDotSegments(_ path: String) -> String {
        guard !path.isEmpty else { return "" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
            } else {
                output.append(segment)
            }
        }
        let first = path.hasPrefix("/") ? "/" : ""
        let last = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        return first + output.joined(separator: "/") + last
    }

    static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for piece in query.split(separator: "&", omittingEmptySubsequences: false) {
            let name: Substring, value: Substring
            if let equals = piece.firstIndex(of: "=") {
                name = piece[..<equals]
                value = piece[piece.index(after: equals)...]
            } else {
                name = piece
                value = ""
            }
            pairs.append((
                AWSEncoding.uriEncode(AWSEncoding.percentDecode(name), keepSlash: false),
                AWSEncoding.uriEncode(AWSEncoding.percentDecode(value), keepSlash: false)
            ))
        }
        pairs.sort { a, b in
            a.0 != b.0 ? a.0.utf8.lexicographicallyPrecedes(b.0.utf8) : a.1.utf8.lexicographicallyPrecedes(b.1.utf8)
        }
        return pairs.map { $0.0 + "=" + $0.1 }.joined(separator: "&")
    }

    /// `host`, or `host:port` when the port is not the scheme's default; lowercase; IPv6 bracketed.
    static func hostHeader(for components: URLComponents?) -> String {
        var host = (components?.host ?? "").lowercased()
        if host.contains(":") && !host.hasPrefix("[") { host = "[\(host)]" }
        if let port = components?.port {
            let scheme = components?.scheme?.lowercased()
            let isDefault = (scheme == "http" && port == 80) || (scheme == "https" && port == 443)
            if !isDefault { host += ":\(port)" }
        }
        return host
    }

    /// Trims the value and collapses inner whitespace runs to one space (`' '.join(value.split())`).
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
