import ApplicationStore
import Foundation

/// The body of `POST /job-posts`. Each member is read as the field rules see it, so a missing,
/// `null` or non-string member is reported by ``FieldValidator`` like a form field would be.
struct JobPostRequest: Decodable, Sendable {
    var title: JSONFieldValue?
    var description: JSONFieldValue?
    var seniorityLevel: JSONFieldValue?

    enum CodingKeys: String, CodingKey {
        case title, description, seniorityLevel = "seniority_level"
    }
}

/// A JSON member that should be a string: `null`, a string, or any other JSON value.
enum JSONFieldValue: Decodable, Sendable, Equatable {
    case null
    case string(String)
    case notAString

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else {
            self = .notAString
        }
    }

    /// The member as the field rules see it.
    static func input(_ value: JSONFieldValue?) -> FieldInput {
        switch value {
        case nil, .null?: .missing
        case .string(let text)?: .text(text)
        case .notAString?: .refused("must be a string")
        }
    }
}

/// A job post as the API shows it (`POST /job-posts`, `GET /job-posts[/{id}]`).
struct JobPostResponse: Encodable, Sendable {
    var id: UUID
    var title: String
    var description: String
    var seniorityLevel: SeniorityLevel
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, title, description, seniorityLevel = "seniority_level", createdAt = "created_at", updatedAt = "updated_at"
    }

    init(_ post: JobPost) {
        id = post.id
        title = post.title
        description = post.description
        seniorityLevel = post.seniorityLevel
        createdAt = post.createdAt
        updatedAt = post.updatedAt
    }
}

/// A page of a listing: `{"items": […], "next_cursor": …}`.
struct PageResponse<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items, nextCursor = "next_cursor"
    }
}
