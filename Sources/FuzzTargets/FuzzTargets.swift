import AWS
import Foundation
import FuzzSupport

/// Well-formed upload bodies the multipart fuzzer mutates: the seed's form with a PDF, a DOCX-like
/// and a text file, plus variants with quoted names, extra headers and preamble.
public enum MultipartSeeds {
    /// The seed bodies with their content types.
    public static func bodies() -> [(contentType: String, body: [UInt8])] {
        let boundary = "----fuzzBoundary7MA4YWxkTrZu0gW"
        func form(_ parts: [(name: String, filename: String?, headers: String, data: [UInt8])], preamble: String = "") -> [UInt8] {
            var body = Array(preamble.utf8)
            for part in parts {
                var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
                if let filename = part.filename { head += "; filename=\"\(filename)\"" }
                head += "\r\n" + part.headers + "\r\n"
                body += Array(head.utf8) + part.data + Array("\r\n".utf8)
            }
            return body + Array("--\(boundary)--\r\n".utf8)
        }
        let fields: [(String, String?, String, [UInt8])] = [
            ("candidate_name", nil, "", Array("Ada Lovelace".utf8)),
            ("candidate_email", nil, "", Array("ada@example.com".utf8)),
            ("job_post_id", nil, "", Array("0b6f9c1e-7d1a-4c57-9a8e-2f0d4b1c3e5a".utf8)),
            ("seniority_level", nil, "", Array("senior".utf8)),
        ]
        let pdf = Array("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".utf8)
        let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 26) + Array("word/document.xml".utf8)
        let type = "multipart/form-data; boundary=\(boundary)"
        return [
            (type, form(fields.map { ($0.0, $0.1, $0.2, $0.3) } + [("file", "cv.pdf", "Content-Type: application/pdf\r\n", pdf)])),
            (type, form([("file", "cv.docx", "Content-Type: application/octet-stream\r\n", zip)] + fields.map { ($0.0, $0.1, $0.2, $0.3) })),
            (type, form(fields.map { ($0.0, $0.1, $0.2, $0.3) } + [("file", "r\\\"é\u{0}.txt", "", Array("Senior engineer, Swift".utf8))],
                        preamble: "ignored preamble\r\n")),
            ("multipart/form-data; boundary=\"\(boundary)\"; charset=utf-8", form([("file", "a.txt", "X-Extra: 1\r\n", Array("x".utf8))])),
        ]
    }
}

/// The SigV4 fuzz target: random methods, keys (any Unicode), query pairs, header names, values with
/// odd whitespace and payloads. Signing must not crash, must be deterministic, and must produce a
/// well-formed `Authorization` (64 hex digits, sorted signed headers).
public enum SigV4Fuzz {
    /// Signs one random request twice; `false` when the two differ or the result is malformed.
    public static func check(_ random: inout SplitMix64) -> Bool {
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", "/", " ", "~", "-", "_", ".", "%", "+", "=", "&", "?", "#", "é", "ü", "中", "😀", "\t", "\u{7F}", ":"]
        func text(_ maximum: Int) -> String {
            var result = String.UnicodeScalarView()
            for _ in 0..<Int(random.next() % UInt64(maximum + 1)) {
                if random.next() % 5 == 0, let scalar = Unicode.Scalar(UInt32(random.next() % 0xD7FF)) {
                    result.append(scalar)
                } else {
                    result.append(alphabet[Int(random.next() % UInt64(alphabet.count))])
                }
            }
            return String(result)
        }
        let service = random.next() % 2 == 0 ? "s3" : "textract"
        let credentials = AWSCredentials(
            accessKeyID: "AKIDFUZZ", secretAccessKey: text(40),
            sessionToken: random.next() % 3 == 0 ? text(20) : nil)
        let signer = SigV4Signer(credentials: credentials, region: random.next() % 2 == 0 ? "us-east-1" : "eu-west-3", service: service)
        let key = SigV4Signer.encodeS3Key(text(30))
        let pairs = (0..<Int(random.next() % 4)).map { _ in (name: text(8), value: text(12)) }
        let query = pairs.isEmpty ? "" : "?" + SigV4Signer.queryString(pairs)
        guard let url = URL(string: "http://127.0.0.1:5000/bucket/\(key)\(query)") else { return true }
        let headers = (0..<Int(random.next() % 4)).map { _ in (name: "x-amz-meta-" + (random.next() % 2 == 0 ? "a" : "B"), value: "  " + text(10) + " \t ") }
        let payload: SigV4Signer.Payload = random.next() % 3 == 0 ? .unsigned : .bytes(Data(text(50).utf8))
        let date = Date(timeIntervalSince1970: Double(random.next() % 4_000_000_000))
        let methods = ["GET", "put", "HEAD", "DELETE", "POST"]
        let method = methods[Int(random.next() % UInt64(methods.count))]
        let first = signer.sign(method: method, url: url, headers: headers, payload: payload, date: date)
        let second = signer.sign(method: method, url: url, headers: headers, payload: payload, date: date)
        let names = first.signedHeaders.split(separator: ";").map(String.init)
        return first.authorization == second.authorization
            && first.signature.utf8.count == 64 && first.signature.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
            && names == names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            && names.contains("host") && names.contains("x-amz-date")
    }
}
