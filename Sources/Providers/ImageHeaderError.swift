/// Why an image's header could not be accepted. Match on ``code``; the ``message`` names the
/// format and the field, never the file's bytes.
public struct ImageHeaderError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable, Hashable {
        /// The bytes are not a PNG, JPEG or TIFF file.
        case notAnImage
        /// The header ends before the dimensions.
        case truncated
        /// A header field is impossible (zero size, an offset outside the file, a loop of pages).
        case malformed
        /// The image (or a page of it) has more pixels than allowed.
        case tooManyPixels
    }

    /// What went wrong.
    public var code: Code
    /// A readable reason.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `"<code>: <message>"`.
    public var description: String { "\(code.rawValue): \(message)" }
}
