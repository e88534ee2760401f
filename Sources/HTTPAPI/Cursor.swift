import ApplicationStore
import Foundation

/// Opaque pagination cursors: base64url (no padding) of `v1|<listing>|<micros>|<score>|<uuid>`.
///
/// Clients must treat them as opaque. A cursor names the listing it came from, so a cursor of one
/// listing is refused by another; anything that does not decode exactly is a 422 `cursor` error.
enum Cursor {
    /// Which listing a cursor belongs to.
    enum Listing: String {
        case jobPosts = "jp", candidates = "c", applications = "a"
    }

    static func encode(_ position: ListingPosition, listing: Listing) -> String {
        let score = position.score.map { String($0.bitPattern, radix: 16) } ?? "-"
        let text = "v1|\(listing.rawValue)|\(position.createdAtMicros)|\(score)|\(position.id.uuidString.lowercased())"
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes `text`, or returns `nil` when it is not a cursor of `listing`.
    static func decode(_ text: String, listing: Listing) -> ListingPosition? {
        guard !text.isEmpty, text.utf8.count <= 200,
              text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 })
        else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else { return nil }
        let parts = decoded.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "v1", parts[1] == listing.rawValue,
              let micros = Int64(parts[2]), let id = UUID(uuidString: String(parts[4])) else { return nil }
        var score: Double?
        if parts[3] != "-" {
            guard let bits = UInt64(parts[3], radix: 16) else { return nil }
            score = Double(bitPattern: bits)
            guard score!.isFinite else { return nil }
        }
        if listing == .candidates, score == nil { return nil }
        let position = ListingPosition(createdAtMicros: micros, score: score, id: id)
        // Only canonical encodings are accepted (one cursor, one spelling).
        guard encode(position, listing: listing) == text else { return nil }
        return position
    }
}
