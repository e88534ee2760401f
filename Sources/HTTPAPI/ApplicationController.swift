import ApplicationStore
import Foundation
import Timestamps
import Hummingbird

/// The listings of applications: `GET /applications` (filtered) and
/// `GET /job-posts/{id}/candidates` (one post's candidates, best match first).
struct ApplicationController: APIController {
    let repository: ApplicationRepository
    /// Page size when `limit` is absent.
    let defaultPageSize: Int

    func addRoutes(to routes: inout APIRoutes) {
        routes.on(.get, "/job-posts/{id}/candidates") { request, context in try await candidates(request, context: context) }
        routes.on(.get, "/applications") { request, _ in try await applications(request) }
    }

    func candidates(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try PathParameter.uuid(context, "id")
        let query = try QueryParameters(request, allowed: ["limit", "cursor"])
        let page = try Pagination(query, listing: .candidates, defaultLimit: defaultPageSize)
        guard try await repository.jobPost(id: id) != nil else {
            throw APIError.notFound("job post \(id.uuidString.lowercased()) does not exist")
        }
        let found = try await repository.candidates(jobPostID: id, limit: page.limit, after: page.cursor)
        return try JSONResponse.make(CandidatesPageResponse(
            jobPostID: id, items: found.items.map(CandidateResponse.init),
            nextCursor: found.next.map { Cursor.encode($0, listing: .candidates) }))
    }

    func applications(_ request: Request) async throws -> Response {
        let query = try QueryParameters(request, allowed: ["status", "job_post_id", "email", "created_after", "limit", "cursor"])
        var problems: [String: String] = [:]
        var filter = ApplicationFilter()
        if let status = query.values["status"] {
            filter.status = ApplicationStatus(caseInsensitive: status)
            if filter.status == nil { problems["status"] = FieldValidator.oneOf(ApplicationStatus.self) }
        }
        if let text = query.values["job_post_id"] {
            filter.jobPostID = UUID(uuidString: text)
            if filter.jobPostID == nil { problems["job_post_id"] = "not a valid UUID" }
        }
        if let email = query.values["email"] {
            if email.isEmpty || email.count > 254 { problems["email"] = "must be 1 to 254 characters" } else { filter.email = email }
        }
        if let text = query.values["created_after"] {
            filter.createdAfter = ISOTimestamp.parse(text)
            if filter.createdAfter == nil { problems["created_after"] = "not an ISO 8601 timestamp (e.g. 2026-01-31T12:00:00Z)" }
        }
        var page = Pagination(limit: defaultPageSize, cursor: nil)
        do {
            page = try Pagination(query, listing: .applications, defaultLimit: defaultPageSize)
        } catch {
            problems.merge(error.fields ?? [:]) { first, _ in first }
        }
        guard problems.isEmpty else { throw APIError.validation(problems) }
        let found = try await repository.listApplications(filter, limit: page.limit, after: page.cursor)
        return try JSONResponse.make(PageResponse(
            items: found.items.map(ApplicationResponse.init), nextCursor: found.next.map { Cursor.encode($0, listing: .applications) }))
    }
}
