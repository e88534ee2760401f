import ApplicationStore
import Foundation
import Hummingbird

/// `GET /resumes/{application_id}`: one application with its status, results and a preview of
/// its extracted text.
struct ResumeController: APIController {
    let repository: ApplicationRepository

    func addRoutes(to routes: inout APIRoutes) {
        routes.on(.get, "/resumes/{application_id}") { _, context in try await resume(context) }
    }

    func resume(_ context: BasicRequestContext) async throws -> Response {
        let id = try PathParameter.uuid(context, "application_id")
        guard let application = try await repository.application(id: id) else {
            throw APIError.notFound("application \(id.uuidString.lowercased()) does not exist")
        }
        return try JSONResponse.make(ApplicationDetailResponse(application))
    }
}
