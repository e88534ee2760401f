import FuzzSupport

/// Upload forms for the form guard's differential fuzzing: a well-formed form whose file body gets
/// delimiter-like text inserted at a chosen offset — the boundary with and without the CR LF before
/// it, a whole fake part with a non-ASCII header name after it, a half delimiter, the closing one —
/// and then, sometimes, the usual byte mutations. Every offset of the body is reachable, so the
/// reader's model of MultipartKit (`MultipartParserMirror`) meets the delimiter at every offset.
public enum DelimiterInjection {
    /// The boundary every generated form uses.
    public static let boundary = "B"
    /// The content type of every generated form.
    public static let contentType = "multipart/form-data; boundary=B"

    /// The text inserted into the file body, one of which ``form(offset:injection:)`` places.
    public static let injections: [[UInt8]] = [
        Array("--B".utf8), Array("\r\n--B".utf8), Array("--B\r\n".utf8), Array("\r\n--B\r\n".utf8),
        Array("--B\r\nX:\r\n".utf8), Array("\r\n--B\r\nX:\r\n".utf8),
        Array("\r\n--B\r\n".utf8) + [0xFF] + Array(": v\r\n\r\n".utf8),
        Array("--B\r\nX:\r\n--B\r\n".utf8) + [0xFF] + Array(": v\r\n\r\nzzz".utf8),
        Array("\r\n--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n".utf8),
        Array("\r\n--B\r\nContent-Disposition: form-data; name=\"x\"\r\n".utf8) + [0xC3, 0xA9] + Array(": v\r\n\r\n".utf8),
        Array("\r\n--B-".utf8), Array("\r\n--B--\r\n".utf8), Array("\r\n-".utf8), Array("\r\n--".utf8), Array("\r\r\n--B\r\n\r\n".utf8),
        [0x80], Array("\r\n--B\r\n\r\n".utf8), Array("\r\n--B\r\n".utf8) + Array(repeating: UInt8(ascii: "a"), count: 40),
    ]

    /// The file body the injections go into.
    public static let file = Array("hello --B is not a delimiter, \r\n-B nor \r\n--C; ré\u{301}sumé.".utf8)

    /// The form with `injection` inserted at `offset` (0…``file``.count) of the file body.
    public static func form(offset: Int, injection: [UInt8]) -> [UInt8] {
        let body = Array(file[..<offset]) + injection + Array(file[offset...])
        return Array("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n".utf8) + body
            + Array("\r\n--B\r\nContent-Disposition: form-data; name=\"candidate_name\"\r\n\r\nAda\r\n--B--\r\n".utf8)
    }

    /// A random injected form: a random injection at a random offset, mutated one time in three.
    public static func randomForm(_ random: inout SplitMix64) -> [UInt8] {
        let form = form(offset: random.below(file.count + 1), injection: injections[random.below(injections.count)])
        return random.below(3) == 0 ? ByteMutator.mutate(form, &random) : form
    }
}
