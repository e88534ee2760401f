import ApplicationStore
import Foundation
import ResumeJobs

/// An application as the API shows it (`GET /applications`, and the start of `GET /resumes/{id}`).
struct ApplicationResponse: Encodable, Sendable {
    var applicationID: UUID
    var jobID: String
    var jobPostID: UUID
    var candidateName: String
    var candidateEmail: String
    var seniorityLevel: SeniorityLevel
    var status: ApplicationStatus
    var originalFilename: String?
    var contentType: String?
    var fileSize: Int?
    var fileSHA256: String?
    var matchScore: Double?
    var errorMessage: String?
    var attempts: Int
    var createdAt: Date
    var updatedAt: Date
    var processedAt: Date?

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id", jobID = "job_id", jobPostID = "job_post_id", candidateName = "candidate_name"
        case candidateEmail = "candidate_email", seniorityLevel = "seniority_level", status
        case originalFilename = "original_filename", contentType = "content_type", fileSize = "file_size", fileSHA256 = "file_sha256"
        case matchScore = "match_score", errorMessage = "error_message", attempts
        case createdAt = "created_at", updatedAt = "updated_at", processedAt = "processed_at"
    }

    init(_ application: Application) {
        applicationID = application.id
        jobID = resumeJobID(for: application.id)
        jobPostID = application.jobPostID
        candidateName = application.candidateName
        candidateEmail = application.email
        seniorityLevel = application.seniorityLevel
        status = application.status
        originalFilename = application.originalFilename
        contentType = application.contentType
        fileSize = application.fileSize
        fileSHA256 = application.fileSHA256
        matchScore = application.matchScore
        errorMessage = application.errorMessage
        attempts = application.attempts
        createdAt = application.createdAt
        updatedAt = application.updatedAt
        processedAt = application.processedAt
    }
}

/// `GET /resumes/{application_id}`: the application, then the length and first 300 characters of
/// its extracted text.
struct ApplicationDetailResponse: Encodable, Sendable {
    var application: ApplicationResponse
    var textLength: Int?
    var textPreview: String?

    private enum CodingKeys: String, CodingKey {
        case textLength = "text_length", textPreview = "text_preview"
    }

    init(_ application: Application) {
        self.application = ApplicationResponse(application)
        textLength = application.extractedText?.count
        textPreview = application.extractedText.map { String($0.prefix(300)) }
    }

    /// The application's members, then the two text members, in one object.
    func encode(to encoder: any Encoder) throws {
        try application.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(textLength, forKey: .textLength)
        try container.encodeIfPresent(textPreview, forKey: .textPreview)
    }
}

/// One candidate of `GET /job-posts/{id}/candidates`.
struct CandidateResponse: Encodable, Sendable {
    var applicationID: UUID
    var candidateName: String
    var candidateEmail: String
    var seniorityLevel: SeniorityLevel
    var matchScore: Double?
    var processedAt: Date?

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id", candidateName = "candidate_name", candidateEmail = "candidate_email"
        case seniorityLevel = "seniority_level", matchScore = "match_score", processedAt = "processed_at"
    }

    init(_ application: Application) {
        applicationID = application.id
        candidateName = application.candidateName
        candidateEmail = application.email
        seniorityLevel = application.seniorityLevel
        matchScore = application.matchScore
        processedAt = application.processedAt
    }
}

/// `GET /job-posts/{id}/candidates`: a page of candidates of one job post.
struct CandidatesPageResponse: Encodable, Sendable {
    var jobPostID: UUID
    var items: [CandidateResponse]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case jobPostID = "job_post_id", items, nextCursor = "next_cursor"
    }
}
