import AWS
import Foundation
import Logging
import Testing

@Suite("AWS credentials never show their secrets")
struct CredentialsTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let token = "FQoGZXIvYXdzEXAMPLETOKENSECRET"

    @Test("description, debugDescription, interpolation, dump and containers")
    func renderings() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret, sessionToken: Self.token)
        var dumped = ""
        dump(credentials, to: &dumped)
        let renderings = [
            credentials.description, credentials.debugDescription, "\(credentials)", String(reflecting: credentials),
            dumped, "\([credentials])", "\(Optional(credentials) as Any)",
        ]
        for text in renderings {
            #expect(!text.contains(Self.secret), "\(text)")
            #expect(!text.contains(Self.token), "\(text)")
            #expect(!text.contains("AKIDEXAMPLE"), "\(text)")
        }
        #expect(credentials.description == "AWSCredentials(accessKeyID: AKID***, secretAccessKey: <redacted>, sessionToken: <redacted>)")
        let permanent = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret)
        #expect(permanent.description == "AWSCredentials(accessKeyID: AKID***, secretAccessKey: <redacted>)")
    }

    @Test("configurations, storages and extractors that hold credentials render without secrets")
    func holders() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret, sessionToken: Self.token)
        let s3 = S3Configuration(bucket: "b", endpoint: URL(string: "http://127.0.0.1:9")!, credentials: credentials)
        let textract = TextractConfiguration(credentials: credentials)
        let logger = Logger(label: "test")
        let storage = S3Storage(configuration: s3, logger: logger)
        let extractor = TextractExtractor(configuration: textract, logger: logger)
        var dumped = ""
        dump(storage, to: &dumped)
        dump(extractor, to: &dumped)
        for text in ["\(s3)", "\(textract)", "\(storage)", "\(extractor)", String(reflecting: storage), dumped] {
            #expect(!text.contains(Self.secret), "\(text)")
            #expect(!text.contains(Self.token), "\(text)")
        }
    }
}
