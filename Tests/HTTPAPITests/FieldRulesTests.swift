import ApplicationStore
import Foundation
@testable import HTTPAPI
import Testing

/// ``FieldValidator`` is the one path of the upload form's fields and of a job post's JSON
/// members: the same raw text gives the same outcome from either source.
@Suite struct FieldRulesTests {
    /// An upload form whose fields are valid but for `seniority`.
    static func formParts(seniority: String) -> [FormPart] {
        [
            FormPart(name: "file", filename: "cv.txt", data: Array("Jane Doe, Swift".utf8)),
            FormPart(name: "candidate_name", data: Array("Jane".utf8)),
            FormPart(name: "candidate_email", data: Array("jane@example.com".utf8)),
            FormPart(name: "job_post_id", data: Array(UUID().uuidString.utf8)),
            FormPart(name: "seniority_level", data: Array(seniority.utf8)),
        ]
    }

    static func formOutcome(seniority: String) -> Result<SeniorityLevel, APIError> {
        Result { () throws(APIError) in try UploadForm(parts: formParts(seniority: seniority)).seniority }
    }

    static func jsonOutcome(seniority: String) -> Result<SeniorityLevel, APIError> {
        Result { () throws(APIError) in
            try JobPostController.validate(JobPostRequest(title: .string("T"), description: .string("D"), seniorityLevel: .string(seniority)))
                .seniorityLevel
        }
    }

    static func fields(_ outcome: Result<SeniorityLevel, APIError>) -> [String: String]? {
        if case .failure(let error) = outcome { return error.fields } else { return nil }
    }

    @Test(arguments: [
        "senior", "SENIOR", " Lead ", "\u{2028}mid\u{85}", "\u{200B}junior\u{3000}", "", "   ", "\u{A0}", "ſenior", "pendıng", "SENIOR\u{0}",
        String(repeating: "A", count: 17), String(repeating: " ", count: 40) + "MID", "lead\u{301}", "MID\u{202E}",
    ])
    func theSameTextHasTheSameOutcome(_ text: String) {
        let form = Self.formOutcome(seniority: text), json = Self.jsonOutcome(seniority: text)
        #expect((try? form.get()) == (try? json.get()), "\(text.debugDescription)")
        #expect(Self.fields(form) == Self.fields(json), "\(text.debugDescription)")
        if case .failure(let error) = form {
            #expect(error.code == "validation_failed")
            #expect(error.fields.map { Set($0.keys) } == ["seniority_level"])
        }
    }

    @Test func sharedRulesInOrder() {
        let validator = FieldValidator.json()
        let rule = FieldRule(name: "x", maxLength: 3)
        #expect(validator.check(.missing, rule) == .failure(.init(reason: "missing")))
        #expect(validator.check(.refused("must be a string"), rule) == .failure(.init(reason: "must be a string")))
        #expect(validator.check(.text(" a\u{0} "), rule) == .failure(.init(reason: "contains NUL characters")))
        #expect(validator.check(.text(" \n\u{2029} "), rule) == .failure(.init(reason: "empty")))
        #expect(validator.check(.text(" abcd "), rule) == .failure(.init(reason: "too long (at most 3 characters)")))
        #expect(validator.check(.text(" e\u{301}e\u{301}e\u{301} "), rule) == .success("e\u{301}e\u{301}e\u{301}"))
    }

    /// The one difference between the sources: form fields are single-line inputs and refuse
    /// control characters; JSON members keep them (a description of many lines), as before.
    @Test func controlCharactersAreRefusedInFormsOnly() {
        let rule = FieldRule.description
        #expect(FieldValidator.form().check(.text("one\ntwo"), rule) == .failure(.init(reason: "contains control characters")))
        #expect(FieldValidator.json().check(.text("one\ntwo"), rule) == .success("one\ntwo"))
    }

    @Test func formAndJSONSourcesMapToInputs() {
        let rule = FieldRule.candidateName
        #expect(UploadForm.input(nil, rule) == .missing)
        #expect(UploadForm.input([], rule) == .missing)
        #expect(UploadForm.input([FormPart(name: "n"), FormPart(name: "n")], rule) == .refused("given more than once"))
        #expect(UploadForm.input([FormPart(name: "n", filename: "a")], rule) == .refused("must be a text field, not a file"))
        #expect(UploadForm.input([FormPart(name: "n", truncated: true)], rule) == .refused("too long (at most 200 characters)"))
        #expect(UploadForm.input([FormPart(name: "n", data: [0xFF])], rule) == .refused("not valid UTF-8"))
        #expect(UploadForm.input([FormPart(name: "n", data: Array(" a ".utf8))], rule) == .text(" a "))
        #expect(JSONFieldValue.input(nil) == .missing)
        #expect(JSONFieldValue.input(.null) == .missing)
        #expect(JSONFieldValue.input(.notAString) == .refused("must be a string"))
        #expect(JSONFieldValue.input(.string(" a ")) == .text(" a "))
    }

    @Test func everyProblemOfAnUploadIsReportedAtOnce() {
        let parts = [
            FormPart(name: "file", filename: "a.txt"),
            FormPart(name: "candidate_name", data: Array("\u{7}".utf8)),
            FormPart(name: "candidate_email", data: Array("jane@localhost".utf8)),
            FormPart(name: "job_post_id", data: Array("nope".utf8)),
        ]
        let outcome = Result { () throws(APIError) in try UploadForm(parts: parts) }
        guard case .failure(let error) = outcome else {
            Issue.record("an invalid form was accepted")
            return
        }
        #expect(error.fields == [
                "file": "empty", "candidate_name": "contains control characters", "candidate_email": "not a valid e-mail address",
                "job_post_id": "not a valid UUID", "seniority_level": "missing",
        ])
    }

    @Test func emailPlausibility() {
        for good in ["a@b.co", "first.last+tag@sub.example.org", "x_y-z@a-b.io"] { #expect(FieldValidator.isPlausibleEmail(good), "\(good)") }
        for bad in ["", "a", "a@b", "@b.co", "a@@b.co", "a b@c.de", ".a@b.co", "a.@b.co", "a..b@c.de", "a@-b.co", "a@b.c", "é@b.co",
                    String(repeating: "a", count: 65) + "@b.co"] {
            #expect(!FieldValidator.isPlausibleEmail(bad), "\(bad)")
        }
    }
}
