import NIOCore

/// Drives the upload form parser without a server, as `POST /resumes/upload` does while streaming:
/// the boundary from the content type, then the body fed in `chunkSize` pieces. For fuzzers and
/// tools; the route itself uses the same reader.
public enum UploadFormProbe {
    /// Why a body was refused; the route answers 415, 400 or 413 for these.
    public enum Refusal: Error, Sendable, Equatable {
        /// The content type is not `multipart/form-data` (415).
        case notMultipart
        /// The boundary parameter is missing or invalid (400).
        case badBoundary
        /// The body is over the limits (413).
        case tooLarge
        /// The body is not a well-formed form (400), with the route's reason.
        case malformed(String)
        /// Too many parts (400).
        case tooManyParts
        /// MultipartKit's parser did not do what its model predicted (400); a bug if ever seen.
        case inconsistent
    }

    /// One parsed part: its name, file name if any, and bytes.
    public struct Part: Sendable, Hashable {
        /// The `name` parameter.
        public var name: String
        /// The `filename` parameter.
        public var filename: String?
        /// The bytes kept (text fields are cut at their limit).
        public var data: [UInt8]
        /// The number of bytes kept.
        public var size: Int { data.count }
    }

    /// Parses `body` as the route would; `chunkSize` must be at least 1. `directBodies: false`
    /// passes every byte through MultipartKit's parser instead of skipping plain body stretches
    /// (the route always skips them; the two must agree).
    public static func parse(
        contentType: String?, body: [UInt8], chunkSize: Int, limits: UploadLimits = UploadLimits(), directBodies: Bool = true
    ) throws(Refusal) -> [Part] {
        let boundary: String
        switch MultipartContentType.parse(contentType) {
        case .boundary(let value): boundary = value
        case .notMultipart: throw .notMultipart
        case .badBoundary: throw .badBoundary
        }
        let reader = MultipartFormReader(boundary: boundary, limits: limits, directBodies: directBodies)
        do throws(FormReadError) {
            var offset = 0
            let step = max(1, chunkSize)
            while offset < body.count {
                let end = min(body.count, offset + step)
                try reader.feed(ByteBuffer(bytes: body[offset..<end]))
                offset = end
            }
            return try reader.finish().map { Part(name: $0.name, filename: $0.filename, data: $0.data) }
        } catch {
            switch error {
            case .tooLarge: throw .tooLarge
            case .malformed(let reason): throw .malformed(reason)
            case .tooManyParts: throw .tooManyParts
            case .inconsistent: throw .inconsistent
            }
        }
    }
}
