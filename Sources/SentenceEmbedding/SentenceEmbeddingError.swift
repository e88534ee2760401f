/// The local embedding model could not be loaded or run.
public struct SentenceEmbeddingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public enum Code: String, Sendable {
        /// A model file is missing or unreadable.
        case missingFile = "missing_file"
        /// A model file is not in the expected format (safetensors header, vocab, config).
        case badFormat = "bad_format"
        /// A tensor the model needs is absent or has another shape or type.
        case badTensor = "bad_tensor"
    }

    /// The code.
    public var code: Code
    /// A readable reason naming the file or tensor.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `"<code>: <message>"`.
    public var description: String { "\(code.rawValue): \(message)" }
}
