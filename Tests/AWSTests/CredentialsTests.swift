import AWS
import Foundation
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
            #expect(text.contains("AKIDEXAMPLE") || text.contains("accessKeyID"))
        }
        #expect(credentials.description.contains("<redacted>"))
    }
}
