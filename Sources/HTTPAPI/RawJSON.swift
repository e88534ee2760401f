/// JSON text that ``OrderedJSONEncoder`` writes verbatim, for values whose exact JSON comes from
/// elsewhere (a job's arguments and result as Python's `json.dumps` writes them).
struct RawJSON: Encodable, Sendable {
    /// The UTF-8 JSON text.
    var bytes: [UInt8]

    /// Another encoder cannot insert text verbatim: it is refused rather than written differently.
    func encode(to encoder: any Encoder) throws {
        throw EncodingError.invalidValue(
            bytes, EncodingError.Context(codingPath: encoder.codingPath, debugDescription: "RawJSON is written by OrderedJSONEncoder only"))
    }
}
