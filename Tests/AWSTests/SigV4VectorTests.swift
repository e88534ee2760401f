import AWS
import Foundation
import Providers
import Testing

/// One case of `Fixtures/sigv4/vectors.json`, written by botocore (`compat/aws/sigv4_vectors.py`).
struct SigV4Vector: Decodable, Sendable, CustomStringConvertible {
    var name: String
    var method: String
    var url: String
    var query: [[String]]?
    var s3Key: String?
    var headers: [[String]]
    var bodyBase64: String
    var service: String
    var region: String
    var accessKey: String
    var secretKey: String
    var sessionToken: String?
    var unsignedPayload: Bool
    var amzDate: String
    var canonicalRequest: String
    var stringToSign: String
    var signature: String
    var authorization: String
    var addedHeaders: [[String]]

    var description: String { name }

    enum CodingKeys: String, CodingKey {
        case name, method, url, query, headers, service, region, signature, authorization
        case s3Key = "s3_key", bodyBase64 = "body_base64", accessKey = "access_key", secretKey = "secret_key"
        case sessionToken = "session_token", unsignedPayload = "unsigned_payload", amzDate = "amz_date"
        case canonicalRequest = "canonical_request", stringToSign = "string_to_sign", addedHeaders = "added_headers"
    }

    private struct File: Decodable { var botocore: String; var cases: [SigV4Vector] }

    static let file = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sigv4/vectors.json")

    /// Every case (loaded once; empty when the file is missing, which a test reports).
    static let all: [SigV4Vector] = {
        guard let data = try? Data(contentsOf: file) else { return [] }
        return (try? JSONDecoder().decode(File.self, from: data).cases) ?? []
    }()

    static func named(_ name: String) -> SigV4Vector {
        guard let vector = all.first(where: { $0.name == name }) else { fatalError("no vector \(name)") }
        return vector
    }

    /// `20260102T030405Z` as a `Date`.
    var date: Date {
        var components = DateComponents()
        let digits = Array(amzDate.filter(\.isNumber))
        func number(_ range: Range<Int>) -> Int { Int(String(digits[range]))! }
        components.year = number(0..<4)
        components.month = number(4..<6)
        components.day = number(6..<8)
        components.hour = number(8..<10)
        components.minute = number(10..<12)
        components.second = number(12..<14)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components)!
    }

    var credentials: AWSCredentials {
        AWSCredentials(accessKeyID: accessKey, secretAccessKey: secretKey, sessionToken: sessionToken)
    }

    func sign() -> SigV4Signer.Signature {
        let signer = SigV4Signer(credentials: credentials, region: region, service: service)
        return signer.sign(
            method: method, url: URL(string: url)!, headers: headers.map { ($0[0], $0[1]) },
            payload: unsignedPayload ? .unsigned : .bytes(Data(base64Encoded: bodyBase64)!), date: date)
    }
}

@Suite("SigV4 signatures match botocore byte for byte")
struct SigV4VectorTests {
    @Test("the fixture file is there and covers every kind of case")
    func fixtureLoaded() {
        let names = SigV4Vector.all.map(\.name)
        #expect(names.count >= 25, "Fixtures/sigv4/vectors.json missing or short: \(SigV4Vector.file.path)")
        for required in [
            "suite/get-vanilla", "s3doc/get-object-range", "s3/put-unicode-key", "s3/list-query",
            "s3/put-unsigned-payload", "s3/get-session-token", "textract/start-document-text-detection",
            "service/normalized-path", "s3/get-explicit-default-port",
        ] {
            #expect(names.contains(required), "vector \(required)")
        }
    }

    @Test("canonical request, string to sign, signature and headers", arguments: SigV4Vector.all)
    func vector(_ vector: SigV4Vector) {
        let result = vector.sign()
        #expect(result.canonicalRequest == vector.canonicalRequest)
        #expect(result.stringToSign == vector.stringToSign)
        #expect(result.signature == vector.signature)
        #expect(result.authorization == vector.authorization)
        #expect(result.headers.map { [$0.name, $0.value] } == vector.addedHeaders)
    }

    @Test("query strings are built as they are signed", arguments: SigV4Vector.all.filter { $0.query != nil })
    func queryBuilding(_ vector: SigV4Vector) throws {
        let pairs = try #require(vector.query).map { (name: $0[0], value: $0[1]) }
        let query = try #require(vector.url.split(separator: "?", maxSplits: 1).last)
        #expect(SigV4Signer.queryString(pairs) == String(query))
    }

    @Test("S3 keys are encoded as botocore's serializer encodes them", arguments: SigV4Vector.all.filter { $0.s3Key != nil })
    func keyEncoding(_ vector: SigV4Vector) throws {
        let key = try #require(vector.s3Key)
        let path = try #require(URLComponents(string: vector.url)?.percentEncodedPath)
        #expect(path.hasSuffix("/" + SigV4Signer.encodeS3Key(key)), "\(path)")
    }

    @Test("S3Configuration builds the URLs the vectors were signed for")
    func s3URLs() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")
        let key = "resumes/2026/01/02/0f8fad5b-d9cb-469f-a165-70867728950e.pdf"
        let virtual = S3Configuration(bucket: "resumes", region: "eu-west-1", credentials: credentials)
        #expect(virtual.objectURL(for: key).absoluteString == SigV4Vector.named("s3/put-virtual-hosted").url)
        #expect(virtual.bucketURL().absoluteString == "https://resumes.s3.eu-west-1.amazonaws.com/")
        let moto = S3Configuration(bucket: "resumes", endpoint: URL(string: "http://127.0.0.1:5055")!, credentials: credentials)
        #expect(moto.usePathStyle)
        #expect(moto.objectURL(for: key).absoluteString == SigV4Vector.named("s3/put-path-style").url)
        #expect(moto.bucketURL().absoluteString == SigV4Vector.named("s3/create-bucket").url)
        let unicode = "uploads/a b+c/résumé (2).pdf"
        #expect(moto.objectURL(for: unicode).absoluteString == SigV4Vector.named("s3/put-unicode-key").url)
        // Path style on AWS itself, a path prefix on an endpoint, and dotted buckets.
        let pathStyle = S3Configuration(bucket: "resumes", region: "eu-west-1", credentials: credentials, usePathStyle: true)
        #expect(pathStyle.objectURL(for: "a/b.pdf").absoluteString == "https://s3.eu-west-1.amazonaws.com/resumes/a/b.pdf")
        let prefixed = S3Configuration(bucket: "b", endpoint: URL(string: "https://gw.example.com:8443/s3/")!, credentials: credentials)
        #expect(prefixed.objectURL(for: "k.pdf").absoluteString == "https://gw.example.com:8443/s3/b/k.pdf")
        let dotted = S3Configuration(bucket: "my.bucket", credentials: credentials)
        #expect(dotted.objectURL(for: "k.pdf").absoluteString == "https://s3.us-east-1.amazonaws.com/my.bucket/k.pdf")
        let virtualEndpoint = S3Configuration(
            bucket: "b", endpoint: URL(string: "http://minio.local:9000")!, credentials: credentials, usePathStyle: false)
        #expect(virtualEndpoint.objectURL(for: "k.pdf").absoluteString == "http://b.minio.local:9000/k.pdf")
    }

    @Test("X-Amz-Date is UTC and locale-free across leap days, year ends and before 1970")
    func dates() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"), region: "us-east-1", service: "s3")
        let cases: [(Double, String)] = [
            (0, "19700101T000000Z"), (951_782_400, "20000229T000000Z"), (1_767_225_599.999, "20251231T235959Z"),
            (4_107_542_399, "21000228T235959Z"), (-1, "19691231T235959Z"), (-86_400 * 365, "19690101T000000Z"),
        ]
        for (seconds, expected) in cases {
            let result = signer.sign(
                method: "GET", url: URL(string: "https://s3.amazonaws.com/b/k")!, headers: [], payload: .bytes(Data()),
                date: Date(timeIntervalSince1970: seconds))
            #expect(result.headers.first?.value == expected, "\(seconds)")
            #expect(result.authorization.contains("/\(expected.prefix(8))/us-east-1/s3/aws4_request"))
        }
    }

    @Test("signed(_:) adds the headers to an HTTPRequest and replaces stale ones")
    func signedRequest() throws {
        let vector = SigV4Vector.named("s3/put-path-style")
        let signer = SigV4Signer(credentials: vector.credentials, region: vector.region, service: vector.service)
        let request = HTTPRequest(
            method: "PUT", url: URL(string: vector.url)!,
            headers: [("Content-Type", "application/pdf"), ("Authorization", "stale"), ("X-Amz-Date", "19990101T000000Z")],
            body: Data(base64Encoded: vector.bodyBase64))
        let signed = signer.signed(request, date: vector.date)
        #expect(signed.headers.filter { $0.name == "Authorization" }.map(\.value) == [vector.authorization])
        #expect(signed.headers.filter { $0.name.lowercased() == "x-amz-date" }.map(\.value) == [vector.amzDate])
    }

    @Test("the signature's description shows signed header names only")
    func signatureDescription() throws {
        let vector = SigV4Vector.named("s3/get-session-token")
        let result = vector.sign()
        let text = "\(result)"
        let token = try #require(vector.sessionToken)
        #expect(!text.contains(vector.signature))
        #expect(!text.contains(token))
        #expect(text.contains("x-amz-security-token"))
    }
}
