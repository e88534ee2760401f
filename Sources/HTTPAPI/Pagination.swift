import ApplicationStore
import Foundation
import Hummingbird

/// `limit` and `cursor` of a listing's query: a page of 1 to 100 items (the configured default
/// when absent) after the position a cursor of the same listing encodes.
struct Pagination: Sendable {
    /// Items on the page.
    var limit: Int
    /// Where the page starts, or `nil` for the first page.
    var cursor: ListingPosition?

    /// A page of `limit` items after `cursor`.
    init(limit: Int, cursor: ListingPosition?) {
        self.limit = limit
        self.cursor = cursor
    }

    /// Reads `limit` and `cursor` of `query` for `listing`; problems are 422 `validation_failed`.
    init(_ query: QueryParameters, listing: Cursor.Listing, defaultLimit: Int) throws(APIError) {
        var problems: [String: String] = [:]
        limit = defaultLimit
        if let text = query.values["limit"] {
            if let value = Int(text), (1...100).contains(value) { limit = value } else { problems["limit"] = "must be a whole number from 1 to 100" }
        }
        if let text = query.values["cursor"] {
            cursor = Cursor.decode(text, listing: listing)
            if cursor == nil { problems["cursor"] = "not a cursor returned by this listing" }
        }
        guard problems.isEmpty else { throw APIError.validation(problems) }
    }
}

/// Captures of a route's path.
enum PathParameter {
    /// The capture `name` as a UUID, or 422 naming it.
    static func uuid(_ context: BasicRequestContext, _ name: String) throws(APIError) -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(uuidString: text) else {
            throw APIError.validation([name: "not a valid UUID"])
        }
        return id
    }
}
