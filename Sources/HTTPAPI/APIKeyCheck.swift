import Crypto
import Foundation
import HTTPTypes

/// The API key rule, shared by the router middleware and the `100 Continue` handler: with a key
/// configured, every path but `/health` needs `Authorization: Bearer <key>` or `X-API-Key: <key>`.
/// The comparison takes the same time whatever the guess (both sides are hashed first), and neither
/// the expected nor the presented key is ever logged.
struct APIKeyCheck: Sendable {
    private let expectedDigest: [UInt8]?

    init(apiKey: String?) {
        expectedDigest = apiKey.map { Array(SHA256.hash(data: Data($0.utf8))) }
    }

    static let apiKeyHeader = HTTPField.Name("X-API-Key")!

    /// Whether a request for `path` (without its query) must present the key.
    func isRequired(path: some StringProtocol) -> Bool {
        expectedDigest != nil && path != "/health"
    }

    /// Whether `headers` present the configured key (always `true` when none is configured).
    func accepts(_ headers: HTTPFields) -> Bool {
        guard let expectedDigest else { return true }
        var presented: String?
        if let authorization = headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
            presented = FieldText.trimming(authorization.dropFirst("bearer ".count))
        } else if let key = headers[Self.apiKeyHeader] {
            presented = key
        }
        guard let presented else { return false }
        return Self.constantTimeEqual(Array(SHA256.hash(data: Data(presented.utf8))), expectedDigest)
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
