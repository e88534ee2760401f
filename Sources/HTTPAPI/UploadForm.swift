import ApplicationStore
import Foundation

/// The validated fields of an upload (`POST /resumes/upload`), read from the form's parts with
/// the shared field rules (``FieldValidator``); every problem is reported at once (422).
struct UploadForm {
    var candidateName: String
    var email: String
    var jobPostID: UUID
    var seniority: SeniorityLevel
    var file: [UInt8]
    /// The client's file name reduced for display (``DisplayFilename``).
    var filename: String?

    init(parts: [FormPart]) throws(APIError) {
        var byName: [String: [FormPart]] = [:]
        for part in parts { byName[part.name, default: []].append(part) }
        var fields = FieldValidator.form()
        func input(_ rule: FieldRule) -> FieldInput { Self.input(byName[rule.name], rule) }
        let name = fields.text(input(.candidateName), .candidateName)
        let email = fields.email(input(.candidateEmail), .candidateEmail)
        let jobPostID = fields.uuid(input(.jobPostID), .jobPostID)
        let seniority = fields.seniority(input(.seniorityLevel), .seniorityLevel)
        var file: FormPart?
        if let values = byName["file"], !values.isEmpty {
            if values.count > 1 {
                fields.refuse("file", "given more than once")
            } else if values[0].filename == nil {
                fields.refuse("file", "must be a file upload (Content-Disposition filename)")
            } else if values[0].data.isEmpty {
                fields.refuse("file", "empty")
            } else {
                file = values[0]
            }
        } else {
            fields.refuse("file", "missing")
        }
        try fields.finish()
        guard let name, let email, let jobPostID, let seniority, let file else { throw APIError.validation(fields.problems) }
        self.candidateName = name
        self.email = email
        self.jobPostID = jobPostID
        self.seniority = seniority
        self.file = file.data
        self.filename = DisplayFilename.make(file.filename)
    }

    /// The form parts named after `rule` as the field rules see them: one text part, valid UTF-8,
    /// not cut at the reader's field cap.
    static func input(_ parts: [FormPart]?, _ rule: FieldRule) -> FieldInput {
        guard let parts, let part = parts.first else { return .missing }
        guard parts.count == 1 else { return .refused("given more than once") }
        if part.filename != nil { return .refused("must be a text field, not a file") }
        if part.truncated { return .refused(FieldValidator.tooLong(rule)) }
        guard let text = String(validating: part.data, as: UTF8.self) else { return .refused("not valid UTF-8") }
        return .text(text)
    }
}
