import ApplicationStore
import Foundation

/// `202` of `POST /resumes/upload`.
struct UploadAcceptedResponse: Encodable, Sendable {
    var applicationID: UUID
    var jobID: String
    var status: ApplicationStatus
    var message: String

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id", jobID = "job_id", status, message
    }
}
