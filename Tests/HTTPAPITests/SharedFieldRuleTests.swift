import ApplicationStore
import Foundation
import Testing

/// The upload form and a job post's JSON body reach the same field rules: the same value of
/// `seniority_level` is accepted (trimmed, ASCII case) or refused with the same reason by both
/// routes, against a real server.
@Suite("Form and JSON fields share one rule", .serialized)
struct SharedFieldRuleTests {
    /// `seniority_level` values and the reason both routes give (`nil`: accepted).
    static let seniorityCases: [(String, String?)] = [
        ("senior", nil), (" Lead\u{2028}", nil), ("\u{3000}mid\t", nil),
        ("", "empty"), (" \u{A0} ", "empty"), ("ſenior", "must be one of JUNIOR, MID, SENIOR, LEAD"),
        ("SENIOR\u{0}", "contains NUL characters"), (String(repeating: "A", count: 17), "too long (at most 16 characters)"),
        ("pendıng", "must be one of JUNIOR, MID, SENIOR, LEAD"),
    ]

    static func jobPostBody(seniority: Any?) throws -> [UInt8] {
        var object: [String: Any] = ["title": "Swift", "description": "Server-side Swift"]
        if let seniority { object["seniority_level"] = seniority }
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    @Test func seniorityIsCheckedTheSameInAFormAndInJSON() async throws {
        try await APITestServer.with { server in
            let jobPostID = try await server.makeJobPost()
            for (value, reason) in Self.seniorityCases {
                let json = try await RawHTTP.send(
                    port: server.port, "POST", "/job-posts", headers: [("Content-Type", "application/json")], body: try Self.jobPostBody(seniority: value))
                let form = try await server.upload(MultipartBody.upload(jobPostID: jobPostID.uuidString, data: Documents.txt, seniority: value))
                if let reason {
                    #expect(json.status == 422, "\(value.debugDescription): \(json.text)")
                    #expect(form.status == 422, "\(value.debugDescription): \(form.text)")
                    #expect(json.errorFields == ["seniority_level": reason], "\(value.debugDescription)")
                    #expect(form.errorFields == ["seniority_level": reason], "\(value.debugDescription)")
                    #expect(json.text.contains(#""seniority_level":"# + "\"\(reason)\""))
                } else {
                    #expect(json.status == 201, "\(value.debugDescription): \(json.text)")
                    #expect(form.status == 202, "\(value.debugDescription): \(form.text)")
                    let level = SeniorityLevel(caseInsensitive: value.trimmingCharacters(in: .whitespacesAndNewlines))?.rawValue
                    #expect(json.json?["seniority_level"] as? String == level)
                    if let id = form.json?["application_id"] as? String, let uuid = UUID(uuidString: id) {
                        #expect(try await server.repository.application(id: uuid)?.seniorityLevel.rawValue == level)
                        await server.cleanUpJob(id)
                    }
                }
            }
        }
    }

    /// Absent and `null` are "missing" like an absent form field; a number is refused as JSON
    /// can only be (a form field is always text).
    @Test func missingAndNonStringMembers() async throws {
        try await APITestServer.with { server in
            let jobPostID = try await server.makeJobPost()
            for body in [try Self.jobPostBody(seniority: nil), try Self.jobPostBody(seniority: NSNull())] {
                let json = try await RawHTTP.send(port: server.port, "POST", "/job-posts", headers: [("Content-Type", "application/json")], body: body)
                #expect(json.errorFields == ["seniority_level": "missing"])
            }
            var form = MultipartBody()
            form.file(filename: "cv.txt", Documents.txt)
            form.field("candidate_name", "Jane")
            form.field("candidate_email", "jane@example.com")
            form.field("job_post_id", jobPostID.uuidString)
            #expect(try await server.upload(form).errorFields == ["seniority_level": "missing"])
            let number = try await RawHTTP.send(
                port: server.port, "POST", "/job-posts", headers: [("Content-Type", "application/json")], body: try Self.jobPostBody(seniority: 3))
            #expect(number.errorFields == ["seniority_level": "must be a string"])
        }
    }
}
