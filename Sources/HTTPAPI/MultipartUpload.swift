import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MultipartKit
import NIOCore

/// Limits of one upload request.
public struct UploadLimits: Sendable, Hashable {
    /// The largest file accepted, in bytes. Default: 10 MiB (`MAX_UPLOAD_BYTES`).
    public var maxFileBytes: Int
    /// Room for the text fields and multipart framing on top of the file. Default: 64 KiB.
    public var formOverheadBytes: Int
    /// The largest text field kept, in bytes (longer ones are reported as too long). Default: 4 KiB.
    public var maxFieldBytes: Int
    /// The most parts in one form. Default: 16.
    public var maxParts: Int

    /// Creates limits.
    public init(maxFileBytes: Int = 10 * 1024 * 1024, formOverheadBytes: Int = 64 * 1024, maxFieldBytes: Int = 4096, maxParts: Int = 16) {
        self.maxFileBytes = maxFileBytes
        self.formOverheadBytes = formOverheadBytes
        self.maxFieldBytes = maxFieldBytes
        self.maxParts = maxParts
    }

    /// The largest request body accepted.
    public var maxBodyBytes: Int { maxFileBytes + formOverheadBytes }
}

/// One part of a parsed form.
struct FormPart {
    /// The `name` parameter of `Content-Disposition`.
    var name: String
    /// The `filename` parameter, when the part is a file.
    var filename: String?
    /// The bytes (cut at the limit for text fields).
    var data: [UInt8] = []
    /// Whether the part was longer than its limit.
    var truncated = false
}

/// Extracts the boundary of a `multipart/form-data` content type, or explains why not.
enum MultipartContentType {
    enum Outcome: Equatable {
        case boundary(String)
        case notMultipart
        case badBoundary
    }

    static func parse(_ contentType: String?) -> Outcome {
        guard let contentType else { return .notMultipart }
        let parameters = HeaderParameters.parse(contentType)
        guard parameters.value.lowercased() == "multipart/form-data" else { return .notMultipart }
        guard !parameters.malformed, !parameters.duplicateKeys,
              let boundary = parameters.parameters["boundary"], (1...70).contains(boundary.utf8.count),
              !boundary.hasSuffix(" "),
              boundary.utf8.allSatisfy({ byte in
                  (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                      || Array("'()+_,-./:=? ".utf8).contains(byte)
              })
        else { return .badBoundary }
        return .boundary(boundary)
    }
}

/// `value; key=token; key="quoted \" string"` as in `Content-Type` and `Content-Disposition`.
struct HeaderParameters {
    var value: String
    /// Lowercased keys; a repeated key makes the header invalid (``duplicateKeys``).
    var parameters: [String: String]
    var duplicateKeys = false
    var malformed = false

    static func parse(_ header: String) -> HeaderParameters {
        var result = HeaderParameters(value: "", parameters: [:])
        let scalars = Array(header.unicodeScalars)
        var index = 0
        func skipSpaces() { while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 } }
        var value = ""
        while index < scalars.count, scalars[index] != ";" { value.unicodeScalars.append(scalars[index]); index += 1 }
        result.value = FieldText.trimming(value)
        while index < scalars.count {
            index += 1  // ';'
            skipSpaces()
            var key = ""
            while index < scalars.count, scalars[index] != "=", scalars[index] != ";" { key.unicodeScalars.append(scalars[index]); index += 1 }
            key = FieldText.trimming(key).lowercased()
            var parameter = ""
            if index < scalars.count, scalars[index] == "=" {
                index += 1
                skipSpaces()
                if index < scalars.count, scalars[index] == "\"" {
                    index += 1
                    var closed = false
                    while index < scalars.count {
                        let scalar = scalars[index]
                        index += 1
                        if scalar == "\\", index < scalars.count {
                            parameter.unicodeScalars.append(scalars[index])
                            index += 1
                        } else if scalar == "\"" {
                            closed = true
                            break
                        } else {
                            parameter.unicodeScalars.append(scalar)
                        }
                    }
                    if !closed { result.malformed = true }
                    while index < scalars.count, scalars[index] != ";" {
                        if scalars[index] != " " && scalars[index] != "\t" { result.malformed = true }
                        index += 1
                    }
                } else {
                    while index < scalars.count, scalars[index] != ";" { parameter.unicodeScalars.append(scalars[index]); index += 1 }
                    parameter = FieldText.trimming(parameter)
                }
            }
            guard !key.isEmpty else { continue }
            if result.parameters[key] != nil { result.duplicateKeys = true }
            result.parameters[key] = parameter
        }
        return result
    }
}

/// Why a form could not be read; each maps to one HTTP answer.
enum FormReadError: Error, Equatable {
    /// The body is larger than allowed (413).
    case tooLarge
    /// The body is not well-formed multipart, or a part lacks a usable name (400).
    case malformed(String)
    /// Too many parts (400).
    case tooManyParts
}

/// A streaming `multipart/form-data` reader over MultipartKit's incremental ``MultipartParser``.
///
/// Bytes are fed as they arrive; the size cap is checked on every chunk so an oversized upload is
/// refused as soon as it crosses the limit, without reading (or keeping) the rest. Only the file
/// part may grow to ``UploadLimits/maxFileBytes``; text fields are cut at
/// ``UploadLimits/maxFieldBytes`` and flagged. Not `Sendable`: one request's task owns it.
final class MultipartFormReader {
    private let parser: MultipartParser
    private let limits: UploadLimits
    private let closingDelimiter: [UInt8]
    private var closingMatch: [UInt8] = []
    private(set) var parts: [FormPart] = []
    private var headers: [(String, String)] = []
    private var current: FormPart?
    private var failure: FormReadError?
    private var received = 0
    private var closed = false
    private var headerNames: HeaderNameGuard
    /// `\r\n--boundary`, the delimiter the parser looks for after each part's body.
    private let delimiter: [UInt8]
    /// Whether body bytes up to the next CR may skip the parser (see ``feedParser(_:)``).
    private let directBodies: Bool
    /// Set when the parser hands over body bytes, cleared when it completes a part: between the
    /// two the parser is inside a part's body (or matching a delimiter after one).
    private var inBody = false
    /// The last bytes of the body fed so far (at most one delimiter's length).
    private var tail: [UInt8] = []

    /// Creates a reader; `directBodies: false` feeds every byte through MultipartKit (the tests
    /// compare both ways).
    init(boundary: String, limits: UploadLimits, directBodies: Bool = true) {
        self.parser = MultipartParser(boundary: boundary)
        self.headerNames = HeaderNameGuard(boundary: boundary)
        self.limits = limits
        self.closingDelimiter = Array("\r\n--\(boundary)--".utf8)
        self.delimiter = Array("\r\n--\(boundary)".utf8)
        self.directBodies = directBodies
        parser.onHeader = { [unowned self] name, value in
            self.headers.append((name, value))
        }
        parser.onBody = { [unowned self] buffer in
            self.inBody = true
            self.append(buffer.readableBytesView)
        }
        parser.onPartComplete = { [unowned self] in
            self.inBody = false
            self.openPartIfNeeded()
            if let part = self.current { self.parts.append(part) }
            self.current = nil
            self.headers = []
        }
    }

    /// Feeds the next chunk of the body.
    func feed(_ buffer: ByteBuffer) throws(FormReadError) {
        received += buffer.readableBytes
        guard received <= limits.maxBodyBytes else { throw .tooLarge }
        trackClosingDelimiter(buffer.readableBytesView)
        // MultipartKit 4.7.1 indexes a 128-entry table with each header-name byte: a byte ≥ 0x80
        // there traps (a one-request crash of the whole server). Refuse such bodies first.
        guard headerNames.scan(buffer.readableBytesView) else {
            throw .malformed("a part header name contains a non-ASCII byte")
        }
        do {
            try feedParser(buffer)
        } catch {
            throw .malformed("the multipart body is malformed")
        }
        if let failure { throw failure }
    }

    /// Hands `buffer` to MultipartKit, except body bytes that can only be body bytes.
    ///
    /// MultipartKit finds the end of a body by stepping through it byte by byte up to the next CR
    /// (the first byte of `\r\n--boundary`) and copying that stretch before passing it on: ~6 % of
    /// the API's CPU for a 100 KB upload. When the parser is inside a body and no delimiter is
    /// under way, the bytes before the next CR (found with `memchr`) are exactly what it would pass
    /// to `onBody`, so they are appended directly; from the CR on, the parser gets at most one
    /// delimiter's length, after which the question is asked again. The parser is "inside a body"
    /// from its first `onBody` of a part to its `onPartComplete`, and a delimiter is "under way"
    /// when the bytes fed so far end with one of its prefixes — which starts at their last CR,
    /// since CR occurs in the delimiter only first. Deciding "under way" wrongly can only keep
    /// bytes on the parser's path, never take them off it. Outside a body (preamble, part headers,
    /// epilogue) the parser gets ``parserStep`` bytes at a time.
    private func feedParser(_ buffer: ByteBuffer) throws {
        var rest = buffer
        while rest.readableBytes > 0 {
            guard directBodies, inBody, failure == nil, !delimiterUnderWay() else {
                // Small steps, so that the bytes after a part's headers come back here once the
                // parser is inside the body (a network read often holds headers and most of a file).
                let step = directBodies ? min(rest.readableBytes, Self.parserStep) : rest.readableBytes
                guard let segment = rest.readSlice(length: step) else { return }
                remember(segment.readableBytesView)
                try parser.execute(segment)
                continue
            }
            let plain = rest.withUnsafeReadableBytes { raw -> Int in
                guard let base = raw.baseAddress, let found = memchr(base, 13, raw.count) else { return raw.count }
                return base.distance(to: UnsafeRawPointer(found))
            }
            if plain > 0, let body = rest.readSlice(length: plain) {
                append(body.readableBytesView)
                remember(body.readableBytesView)
                continue
            }
            if let segment = rest.readSlice(length: min(delimiter.count, rest.readableBytes)) {
                remember(segment.readableBytesView)
                try parser.execute(segment)
            }
        }
    }

    /// Bytes given to the parser at a time while it is outside a body.
    static let parserStep = 512

    /// Keeps the last bytes fed (up to one delimiter's length).
    private func remember(_ bytes: ByteBufferView) {
        let keep = delimiter.count
        if bytes.count >= keep {
            tail = Array(bytes.suffix(keep))
        } else {
            tail.append(contentsOf: bytes)
            if tail.count > keep { tail.removeFirst(tail.count - keep) }
        }
    }

    /// Whether the bytes fed so far end with a prefix of the delimiter (or the whole of it).
    private func delimiterUnderWay() -> Bool {
        guard let start = tail.lastIndex(of: 13) else { return false }
        return delimiter.starts(with: tail[start...])
    }

    /// Ends the body; throws unless the closing delimiter was seen.
    func finish() throws(FormReadError) -> [FormPart] {
        if let failure { throw failure }
        guard closed else { throw .malformed("the multipart body ended before its closing boundary") }
        return parts
    }

    private func append(_ bytes: ByteBufferView) {
        guard failure == nil else { return }
        openPartIfNeeded()
        guard var part = current else { return }
        current = nil  // keep the array uniquely referenced while appending
        let limit = part.filename != nil ? limits.maxFileBytes : limits.maxFieldBytes
        if part.data.count + bytes.count > limit {
            if part.filename != nil {
                failure = .tooLarge
            } else {
                part.data += bytes.prefix(max(0, limit - part.data.count))
                part.truncated = true
            }
        } else if bytes.withContiguousStorageIfAvailable({ part.data.append(contentsOf: $0) }) == nil {
            part.data += bytes
        }
        current = part
    }

    /// Turns the collected headers into a part the first time its body (or end) is seen.
    private func openPartIfNeeded() {
        guard current == nil, failure == nil else { return }
        guard parts.count < limits.maxParts else {
            failure = .tooManyParts
            return
        }
        let dispositions = headers.filter { $0.0.lowercased() == "content-disposition" }
        guard dispositions.count == 1 else {
            failure = .malformed(dispositions.isEmpty ? "a part has no Content-Disposition header" : "a part has two Content-Disposition headers")
            return
        }
        let disposition = HeaderParameters.parse(dispositions[0].1)
        guard disposition.value.lowercased() == "form-data", !disposition.malformed, !disposition.duplicateKeys,
              let name = disposition.parameters["name"], !name.isEmpty, name.utf8.count <= 200
        else {
            failure = .malformed("a part has an invalid Content-Disposition header")
            return
        }
        current = FormPart(name: name, filename: disposition.parameters["filename"])
    }

    /// Watches the raw stream for `\r\n--boundary--`, which only the closing delimiter contains
    /// (the tail of the previous chunk is kept so a delimiter split across chunks is found too).
    private func trackClosingDelimiter(_ bytes: ByteBufferView) {
        guard !closed else { return }
        let keep = closingDelimiter.count - 1
        let head = closingMatch + bytes.prefix(keep)
        if contains(head, closingDelimiter) {
            closed = true
            return
        }
        let found = bytes.withContiguousStorageIfAvailable { Self.search($0, for: closingDelimiter) } ?? contains(Array(bytes), closingDelimiter)
        if found {
            closed = true
            return
        }
        closingMatch = Array((closingMatch + bytes.suffix(keep)).suffix(keep))
    }

    /// Whether `needle` occurs in `buffer`: `memchr` jumps to each candidate first byte.
    private static func search(_ buffer: UnsafeBufferPointer<UInt8>, for needle: [UInt8]) -> Bool {
        guard let base = buffer.baseAddress, needle.count <= buffer.count else { return false }
        var offset = 0
        let last = buffer.count - needle.count
        while offset <= last {
            guard let hit = memchr(base + offset, Int32(needle[0]), last - offset + 1) else { return false }
            let position = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + position, needle, needle.count) == 0 { return true }
            offset = position + 1
        }
        return false
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        var start = 0
        while start + needle.count <= haystack.count {
            if haystack[start] == needle[0], haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }
}

/// Follows the body the way MultipartKit's parser walks it, closely enough to know when a byte lands
/// in a part's header *name*, and reports a non-ASCII byte there (which MultipartKit 4.7.1 turns
/// into an out-of-range table read). Conservative: it treats every `--boundary` as a delimiter,
/// even one the parser would not (no preceding CRLF), so it sees at least every header name the
/// parser sees. Header values (e.g. a UTF-8 `filename`) are not restricted.
struct HeaderNameGuard {
    private enum State { case body, afterDelimiter, expectLF, name, value, afterValue }
    private let delimiter: [UInt8]
    private let failure: [Int]
    private var matched = 0
    private var state = State.body

    init(boundary: String) {
        delimiter = Array("--\(boundary)".utf8)
        // Knuth–Morris–Pratt failure table, so that overlapping delimiter starts are not missed.
        var table = [Int](repeating: 0, count: delimiter.count)
        var k = 0
        for index in 1..<delimiter.count {
            while k > 0, delimiter[index] != delimiter[k] { k = table[k - 1] }
            if delimiter[index] == delimiter[k] { k += 1 }
            table[index] = k
        }
        failure = table
    }

    /// Scans the next chunk; `false` when a header-name byte is not ASCII.
    mutating func scan(_ bytes: ByteBufferView) -> Bool {
        bytes.withContiguousStorageIfAvailable { scan(buffer: $0) } ?? Array(bytes).withUnsafeBufferPointer { scan(buffer: $0) }
    }

    private mutating func scan(buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        let first = delimiter[0]
        var index = 0
        while index < buffer.count {
            // Inside a part's body with no delimiter under way: jump to the next byte that could
            // start one (`memchr`), rather than stepping through a file's bytes one by one.
            if state == .body && matched == 0 {
                guard let found = memchr(base + index, Int32(first), buffer.count - index) else { return true }
                index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            }
            let byte = base[index]
            index += 1
            switch state {
            case .body:
                while matched > 0, byte != delimiter[matched] { matched = failure[matched - 1] }
                if byte == delimiter[matched] { matched += 1 }
                if matched == delimiter.count {
                    matched = 0
                    state = .afterDelimiter
                }
            case .afterDelimiter: state = byte == 13 ? .expectLF : .body
            case .expectLF: state = byte == 10 ? .name : .body
            case .name:
                if byte >= 0x80 { return false }
                if byte == 58 { state = .value } else if byte == 13 { state = .body }
            case .value: if byte == 13 { state = .afterValue }
            case .afterValue: state = byte == 10 ? .name : .body
            }
        }
        return true
    }
}

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
            }
        }
    }
}
