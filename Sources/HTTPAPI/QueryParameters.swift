import Foundation
import Hummingbird

/// Query parameters, percent-decoded strictly; unknown or repeated names are refused (422).
struct QueryParameters {
    var values: [String: String] = [:]

    init(_ request: Request, allowed: Set<String>) throws(APIError) {
        guard let query = request.uri.query, !query.isEmpty else { return }
        var problems: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let rawName = String(pieces[0]).replacingOccurrences(of: "+", with: " ")
            let rawValue = pieces.count > 1 ? String(pieces[1]).replacingOccurrences(of: "+", with: " ") : ""
            guard let name = rawName.removingPercentEncoding, let value = rawValue.removingPercentEncoding else {
                problems[String(rawName.prefix(40))] = "invalid percent-encoding"
                continue
            }
            guard allowed.contains(name) else {
                problems[String(name.prefix(40))] = "unknown parameter"
                continue
            }
            if value.unicodeScalars.contains(where: { $0.value == 0 }) {
                problems[name] = "contains NUL characters"
                continue
            }
            if values[name] != nil {
                problems[name] = "given more than once"
                continue
            }
            values[name] = value
        }
        guard problems.isEmpty else { throw APIError.validation(problems, message: "the query string has invalid parameters") }
    }
}
