import ApplicationStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /job-posts`, `GET /job-posts` and `GET /job-posts/{id}`.
struct JobPostController: APIController {
    let repository: ApplicationRepository
    /// Page size when `limit` is absent.
    let defaultPageSize: Int
    /// The largest JSON body read.
    static let maxBodyBytes = 64 * 1024

    func addRoutes(to routes: inout APIRoutes) {
        routes.on(.post, "/job-posts") { request, _ in try await create(request) }
        routes.on(.get, "/job-posts") { request, _ in try await list(request) }
        routes.on(.get, "/job-posts/{id}") { _, context in try await show(context) }
    }

    /// Creates a job post from a JSON body checked with the same field rules as an upload form.
    func create(_ request: Request) async throws -> Response {
        guard let contentType = request.headers[.contentType],
              HeaderParameters.parse(contentType).value.lowercased() == "application/json"
        else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "send application/json")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(
                .contentTooLarge, code: "payload_too_large", message: "the body may be at most \(Self.maxBodyBytes) bytes", closeConnection: true)
        }
        let bytes = Array(body.readableBytesView)
        guard String(validating: bytes, as: UTF8.self) != nil, let draft = JSONRequestReader.decodeObject(JobPostRequest.self, from: bytes) else {
            throw APIError.badRequest("the body is not a JSON object")
        }
        let post = try Self.validate(draft)
        try await repository.insert(post)
        return try JSONResponse.make(status: .created, JobPostResponse(post))
    }

    /// The job post that `draft` describes, with a new id; 422 naming every invalid member.
    static func validate(_ draft: JobPostRequest) throws(APIError) -> JobPost {
        var fields = FieldValidator.json()
        let title = fields.text(JSONFieldValue.input(draft.title), .title)
        let description = fields.text(JSONFieldValue.input(draft.description), .description)
        let seniority = fields.seniority(JSONFieldValue.input(draft.seniorityLevel), .seniorityLevel)
        try fields.finish()
        guard let title, let description, let seniority else { throw APIError.validation(fields.problems) }
        return JobPost(id: UUID(), title: title, description: description, seniorityLevel: seniority)
    }

    func show(_ context: BasicRequestContext) async throws -> Response {
        let id = try PathParameter.uuid(context, "id")
        guard let post = try await repository.jobPost(id: id) else {
            throw APIError.notFound("job post \(id.uuidString.lowercased()) does not exist")
        }
        return try JSONResponse.make(JobPostResponse(post))
    }

    func list(_ request: Request) async throws -> Response {
        let query = try QueryParameters(request, allowed: ["limit", "cursor"])
        let page = try Pagination(query, listing: .jobPosts, defaultLimit: defaultPageSize)
        let posts = try await repository.listJobPosts(limit: page.limit, after: page.cursor)
        return try JSONResponse.make(PageResponse(
            items: posts.items.map(JobPostResponse.init), nextCursor: posts.next.map { Cursor.encode($0, listing: .jobPosts) }))
    }
}
