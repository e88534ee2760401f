import Foundation
import Providers

/// The code and message of an AWS error response, parsed leniently from either protocol:
/// rest-xml (`<Error><Code>…</Code><Message>…</Message></Error>`, also moto's `<ErrorResponse>`)
/// or JSON 1.1 (`{"__type": "ns#Code:…", "message": "…"}` and `X-Amzn-ErrorType`).
struct AWSServiceError: Sendable, Hashable {
    /// E.g. `NoSuchKey`, `ThrottlingException`; empty when the body names none.
    var code: String
    /// The service's message; empty when none.
    var message: String

    /// Parses `response`; never fails (an unparsable body gives empty fields).
    init(_ response: HTTPResponse) {
        var code = "", message = ""
        let body = response.body.prefix(64 * 1024)
        let first = body.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        if first == UInt8(ascii: "{"),
            let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        {
            code = Self.stripJSONType(object["__type"] as? String ?? object["code"] as? String ?? "")
            message = object["message"] as? String ?? object["Message"] as? String ?? ""
        } else if first == UInt8(ascii: "<") {
            let text = String(decoding: body, as: UTF8.self)
            code = Self.element("Code", in: text) ?? ""
            message = Self.element("Message", in: text) ?? ""
        }
        if code.isEmpty, let header = response.headers["x-amzn-errortype"] {
            code = Self.stripJSONType(header)
        }
        self.code = code
        self.message = message
    }

    /// `aws.protocoltests#Code:http://…` → `Code` (botocore's `_do_error_parse`).
    static func stripJSONType(_ type: String) -> String {
        var value = Substring(type)
        if let colon = value.firstIndex(of: ":") { value = value[..<colon] }
        if let hash = value.lastIndex(of: "#") { value = value[value.index(after: hash)...] }
        return String(value)
    }

    /// The text of the first `<name>…</name>` element, entities decoded.
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"),
            let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex)
        else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// `HTTP 404 NoSuchKey: The specified key does not exist.`, secrets redacted, at most ~300 characters.
    func summary(status: Int, credentials: AWSCredentials) -> String {
        var text = "HTTP \(status)"
        if !code.isEmpty { text += " \(code)" }
        if !message.isEmpty {
            let cleaned = message.split(whereSeparator: { $0.isNewline }).joined(separator: " ")
            text += ": " + (cleaned.count > 300 ? String(cleaned.prefix(300)) + "…" : cleaned)
        }
        return credentials.redacting(text)
    }
}
