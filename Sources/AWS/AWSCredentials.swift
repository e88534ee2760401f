import Foundation

/// An AWS access key pair, optionally with a session token (temporary credentials).
///
/// `description`, `debugDescription` and the mirror used by `dump` show the access key ID masked to
/// its first four characters (as the application's configuration does); the secret access key and
/// the session token never appear in any rendering.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The access key ID (`AWS_ACCESS_KEY_ID`), e.g. `AKIA…`; descriptions show its first four characters.
    public var accessKeyID: String
    /// The secret access key (`AWS_SECRET_ACCESS_KEY`). Never rendered.
    public var secretAccessKey: String
    /// The session token of temporary credentials (`AWS_SESSION_TOKEN`), sent as
    /// `X-Amz-Security-Token`. Never rendered. Default: none.
    public var sessionToken: String?

    /// Creates credentials.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `AWSCredentials(accessKeyID: AKID***, secretAccessKey: <redacted>[, sessionToken: <redacted>])`.
    public var description: String {
        let token = sessionToken == nil ? "" : ", sessionToken: <redacted>"
        return "AWSCredentials(accessKeyID: \(maskedAccessKeyID), secretAccessKey: <redacted>\(token))"
    }

    /// The first four characters of the access key ID and `***`.
    var maskedAccessKeyID: String {
        accessKeyID.count <= 4 ? "***" : "\(accessKeyID.prefix(4))***"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }

    /// A mirror without the secret parts, so `dump` and string interpolation of containers stay safe.
    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": maskedAccessKeyID, "secretAccessKey": "<redacted>",
                                "sessionToken": sessionToken == nil ? "nil" : "<redacted>"])
    }

    /// Replaces any occurrence of the secret key or session token in `text` by `<redacted>`, for
    /// texts that came from elsewhere (server messages) before they go into errors or logs.
    func redacting(_ text: String) -> String {
        var result = text
        for secret in [secretAccessKey, sessionToken ?? ""] where secret.count >= 4 {
            result = result.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return result
    }
}
