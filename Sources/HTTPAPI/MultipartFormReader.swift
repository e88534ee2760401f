#if canImport(Glibc)
import Glibc
#endif
import MultipartKit
import NIOCore

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

/// Why a form could not be read; each maps to one HTTP answer.
enum FormReadError: Error, Equatable {
    /// The body is larger than allowed (413).
    case tooLarge
    /// The body is not well-formed multipart, or a part lacks a usable name (400).
    case malformed(String)
    /// Too many parts (400).
    case tooManyParts
    /// MultipartKit did something other than what ``MultipartParserMirror`` predicted (400). Never
    /// expected; the fuzz tests check that it does not happen.
    case inconsistent
}

/// A streaming `multipart/form-data` reader over MultipartKit's incremental ``MultipartParser``,
/// guarded by ``MultipartParserMirror``.
///
/// Bytes are fed as they arrive; the size cap is checked on every chunk so an oversized upload is
/// refused as soon as it crosses the limit, without reading (or keeping) the rest. Only the file
/// part may grow to ``UploadLimits/maxFileBytes``; text fields are cut at
/// ``UploadLimits/maxFieldBytes`` and flagged. Every byte goes through the mirror first, which
/// refuses what would trap or slow the parser; after each segment the parser's callbacks are
/// checked against the mirror's prediction. Not `Sendable`: one request's task owns it.
final class MultipartFormReader {
    private let parser: MultipartParser
    private let limits: UploadLimits
    private var mirror: MultipartParserMirror
    private(set) var parts: [FormPart] = []
    private var headers: [(String, String)] = []
    private var current: FormPart?
    private var failure: FormReadError?
    private var received = 0
    /// Whether plain body stretches skip the parser (see ``feedParser(_:)``).
    private let directBodies: Bool
    /// What the parser reported so far, to compare with the mirror.
    private var headersSeen = 0
    private var partsCompletedSeen = 0
    private var bodyBytesSeen = 0

    /// Creates a reader; `directBodies: false` feeds every byte through MultipartKit (the tests
    /// compare both ways).
    init(boundary: String, limits: UploadLimits, directBodies: Bool = true) {
        self.parser = MultipartParser(boundary: boundary)
        self.mirror = MultipartParserMirror(boundary: boundary, limits: limits)
        self.limits = limits
        self.directBodies = directBodies
        parser.onHeader = { [unowned self] name, value in
            self.headersSeen += 1
            self.headers.append((name, value))
        }
        parser.onBody = { [unowned self] buffer in
            self.bodyBytesSeen += buffer.readableBytes
            self.append(buffer.readableBytesView)
        }
        parser.onPartComplete = { [unowned self] in
            self.partsCompletedSeen += 1
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
        try feedParser(buffer)
        if let failure { throw failure }
    }

    /// Hands `buffer` to the mirror and then to MultipartKit, except body bytes that can only be
    /// body bytes.
    ///
    /// MultipartKit finds the end of a body by stepping through it byte by byte up to the next CR
    /// (the first byte of `\r\n--boundary`) and copying that stretch before passing it on: ~6 % of
    /// the API's CPU for a 100 KB upload. While the mirror says the parser is in `.body`, the bytes
    /// before the next CR (found with `memchr`) are exactly what it would pass to `onBody`, so they
    /// are appended directly. Everything else — preamble, delimiters, part headers, a CR and what
    /// follows it — goes through the mirror and then the parser, segment by segment, each segment
    /// ending where the mirror sees the parser (re-)enter a body.
    private func feedParser(_ buffer: ByteBuffer) throws(FormReadError) {
        var rest = buffer
        while rest.readableBytes > 0, failure == nil {
            if directBodies, mirror.state == .body {
                let plain = rest.withUnsafeReadableBytes { raw -> Int in
                    guard let base = raw.baseAddress, let found = memchr(base, 13, raw.count) else { return raw.count }
                    return base.distance(to: UnsafeRawPointer(found))
                }
                if plain > 0, let body = rest.readSlice(length: plain) {
                    mirror.skipBody(plain)
                    bodyBytesSeen += plain
                    append(body.readableBytesView)
                    continue
                }
            }
            let (consumed, refusal) = rest.withUnsafeReadableBytes { raw in
                mirror.advance(raw.bindMemory(to: UInt8.self), stopAtBody: directBodies)
            }
            if consumed > 0, let segment = rest.readSlice(length: consumed) {
                var parserFailed = false
                do {
                    try parser.execute(segment)
                } catch {
                    parserFailed = true
                }
                guard parserFailed == (mirror.state == .failed), headersSeen == mirror.headers,
                      partsCompletedSeen == mirror.partsCompleted, bodyBytesSeen == mirror.bodyBytes
                else { throw .inconsistent }
                // A part refused by its headers came before the byte the parser failed at.
                if let failure { throw failure }
                if parserFailed { throw .malformed("the multipart body is malformed") }
            }
            switch refusal {
            case nil: if consumed == 0 { throw .inconsistent }  // the model always moves on
            case .nonASCIIHeaderName?: throw .malformed("a part header name contains a non-ASCII byte")
            case .partHeadersTooLong(let limit)?: throw .malformed("a part's headers are longer than \(limit) bytes")
            case .headersTooLong(let limit)?: throw .malformed("the parts' headers are longer than \(limit) bytes in all")
            }
        }
    }

    /// Ends the body; throws unless the closing delimiter (`\r\n--boundary--`) was seen.
    func finish() throws(FormReadError) -> [FormPart] {
        if let failure { throw failure }
        guard mirror.closed else { throw .malformed("the multipart body ended before its closing boundary") }
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
}
