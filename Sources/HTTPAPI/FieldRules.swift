import ApplicationStore
import Foundation

/// The rules of one text field, the same whether it arrives as a form field of an upload or as a
/// member of a JSON body: its name, and its longest length in characters after trimming.
struct FieldRule: Sendable {
    /// The field's name in the form or the JSON object, and in the 422 `fields`.
    var name: String
    /// The most characters (grapheme clusters) kept after trimming.
    var maxLength: Int

    /// The upload form's candidate name.
    static let candidateName = FieldRule(name: "candidate_name", maxLength: 200)
    /// The upload form's e-mail address.
    static let candidateEmail = FieldRule(name: "candidate_email", maxLength: 254)
    /// The upload form's job post id.
    static let jobPostID = FieldRule(name: "job_post_id", maxLength: 36)
    /// A seniority level, in the upload form and in a job post.
    static let seniorityLevel = FieldRule(name: "seniority_level", maxLength: 16)
    /// A job post's title.
    static let title = FieldRule(name: "title", maxLength: 200)
    /// A job post's description.
    static let description = FieldRule(name: "description", maxLength: 20_000)
}

/// A field as it arrived, before the shared rules: its text, nothing, or why its source could not
/// give text (a form field given twice, a JSON member that is a number, …).
enum FieldInput: Sendable, Equatable {
    /// Not given (or JSON `null`).
    case missing
    /// Given, but not as text; the reason is reported as it is.
    case refused(String)
    /// The raw text, untrimmed.
    case text(String)
}

/// The one validation path of the API's text fields: every field of an upload form and of a job
/// post's JSON body goes through ``text(_:_:)`` (NUL characters refused, spaces and newlines
/// trimmed, empty refused, the length capped, control characters refused where the source says
/// so), and the typed readers on top of it (e-mail plausibility, UUID, enum names in ASCII case).
/// Every problem is collected, so one 422 names them all.
struct FieldValidator {
    /// Whether control characters (Cc) inside the trimmed text are refused: form fields are
    /// single-line inputs; JSON members keep them (a job post's description has many lines).
    let refusesControlCharacters: Bool
    /// The field name → reason of every problem so far.
    private(set) var problems: [String: String] = [:]

    /// The rules of upload form fields.
    static func form() -> FieldValidator { FieldValidator(refusesControlCharacters: true) }
    /// The rules of JSON body members.
    static func json() -> FieldValidator { FieldValidator(refusesControlCharacters: false) }

    /// Records a problem of `name` found outside the rules (an upload's file part).
    mutating func refuse(_ name: String, _ reason: String) {
        problems[name] = reason
    }

    /// The trimmed text of `input`, or `nil` with its problem recorded.
    mutating func text(_ input: FieldInput, _ rule: FieldRule) -> String? {
        switch check(input, rule) {
        case .success(let text): return text
        case .failure(let problem):
            problems[rule.name] = problem.reason
            return nil
        }
    }

    /// The trimmed text of `input` if it is a plausible e-mail address (``isPlausibleEmail(_:)``).
    mutating func email(_ input: FieldInput, _ rule: FieldRule) -> String? {
        guard let text = text(input, rule) else { return nil }
        guard Self.isPlausibleEmail(text) else {
            problems[rule.name] = "not a valid e-mail address"
            return nil
        }
        return text
    }

    /// The UUID that `input` spells.
    mutating func uuid(_ input: FieldInput, _ rule: FieldRule) -> UUID? {
        guard let text = text(input, rule) else { return nil }
        guard let id = UUID(uuidString: text) else {
            problems[rule.name] = "not a valid UUID"
            return nil
        }
        return id
    }

    /// The seniority level that `input` names, in ASCII case only.
    mutating func seniority(_ input: FieldInput, _ rule: FieldRule) -> SeniorityLevel? {
        guard let text = text(input, rule) else { return nil }
        guard let level = SeniorityLevel(caseInsensitive: text) else {
            problems[rule.name] = Self.oneOf(SeniorityLevel.self)
            return nil
        }
        return level
    }

    /// Throws 422 `validation_failed` naming every problem, if there is one.
    func finish() throws(APIError) {
        guard problems.isEmpty else { throw APIError.validation(problems) }
    }

    /// A field's problem, as reported in the 422 `fields`.
    struct Problem: Error, Equatable {
        /// `missing`, `empty`, `too long (at most 200 characters)`, ….
        var reason: String
    }

    /// The shared rules applied to `input`.
    func check(_ input: FieldInput, _ rule: FieldRule) -> Result<String, Problem> {
        let text: String
        switch input {
        case .missing: return .failure(Problem(reason: "missing"))
        case .refused(let reason): return .failure(Problem(reason: reason))
        case .text(let value): text = value
        }
        if text.unicodeScalars.contains(where: { $0.value == 0 }) { return .failure(Problem(reason: "contains NUL characters")) }
        let trimmed = FieldText.trimming(text, FieldText.isSpaceOrNewline)
        if trimmed.isEmpty { return .failure(Problem(reason: "empty")) }
        if trimmed.count > rule.maxLength { return .failure(Problem(reason: Self.tooLong(rule))) }
        if refusesControlCharacters, trimmed.unicodeScalars.contains(where: FieldText.isControl) {
            return .failure(Problem(reason: "contains control characters"))
        }
        return .success(trimmed)
    }

    /// `too long (at most N characters)`.
    static func tooLong(_ rule: FieldRule) -> String { "too long (at most \(rule.maxLength) characters)" }

    /// `must be one of A, B, C` for an enum's raw values.
    static func oneOf<T: CaseIterable & RawRepresentable>(_ type: T.Type) -> String where T.RawValue == String {
        "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))"
    }

    /// A conservative e-mail check: one `@`, a non-empty local part without spaces, and a dotted
    /// domain of letters, digits and hyphens.
    static func isPlausibleEmail(_ text: String) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64, !parts[1].isEmpty else { return false }
        let localSymbols = Array("!#$%&'*+-/=?^_`{|}~.".utf8)
        let local = parts[0], dot = UInt8(ascii: ".")
        guard local.allSatisfy({ FieldText.isASCIIAlphanumeric($0) || localSymbols.contains($0) }),
              local.first != dot, local.last != dot, !zip(local, local.dropFirst()).contains(where: { $0 == dot && $1 == dot })
        else { return false }
        let labels = parts[1].split(separator: dot, omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        let hyphen = UInt8(ascii: "-")
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != hyphen && label.last != hyphen
                && label.allSatisfy { FieldText.isASCIIAlphanumeric($0) || $0 == hyphen }
        } && labels.last!.count >= 2
    }
}
