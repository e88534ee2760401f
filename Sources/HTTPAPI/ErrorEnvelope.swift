/// The body of every error answer: `{"error": {"code", "message", "fields"?}}`.
struct ErrorEnvelope: Encodable, Sendable {
    /// The error itself.
    struct Detail: Encodable, Sendable {
        var code: String
        var message: String
        /// Per-field reasons, written in key order; left out when `nil`.
        var fields: SortedFields?

        private enum CodingKeys: String, CodingKey { case code, message, fields }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
            if let fields { try container.encode(fields, forKey: .fields) }
        }
    }

    var error: Detail

    init(code: String, message: String, fields: [String: String]?) {
        error = Detail(code: code, message: message, fields: fields.map(SortedFields.init))
    }
}

/// A string map written as an object with its keys in ascending order, so the same problems always
/// give the same bytes (a `Dictionary` encodes in hash order).
struct SortedFields: Encodable, Sendable {
    var values: [String: String]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            try container.encode(value, forKey: Key(stringValue: key))
        }
    }
}
