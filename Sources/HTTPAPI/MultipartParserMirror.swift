#if canImport(Glibc)
import Glibc
#endif

/// A byte-exact model of MultipartKit 4.7.1's `MultipartParser` state machine, run over every byte
/// before the parser sees it.
///
/// MultipartKit traps (an out-of-range table read, the whole server gone) on a byte ≥ 0x80 in a
/// part header *name*, and copies a header's bytes on every `execute` call (quadratic in a long
/// header). A guard that only approximates the parser can be desynchronised — a file that
/// contains the boundary text without the CR LF before it once made the old guard take a real
/// delimiter for header bytes. This model takes the same transitions as the parser, in the same
/// order, byte for byte (`preamble` with its skippable leading CR LF, `headers`, `body`,
/// `boundary` with its restart on CR, `epilogue`), so it knows at every byte which state the parser
/// is in. It refuses, before the parser gets the byte:
/// - a non-ASCII byte where the parser reads a header name;
/// - a part's header block over ``UploadLimits/maxPartHeaderBytes``, or all header blocks together
///   over ``UploadLimits/maxHeaderBytes``.
///
/// It also counts what the parser will report (headers, completed parts, body bytes) so the reader
/// can check, after each segment, that the parser did exactly what the model predicted; a
/// difference refuses the request instead of trusting either side. A syntax error the parser will
/// throw on is modelled as ``State/failed``: the model stops there and lets the parser throw.
struct MultipartParserMirror {
    /// The parser's state, as MultipartKit 4.7.1 names it (`headers` split into its sub-states).
    enum State: Equatable {
        case preamble(matched: Int)
        /// `preHeaders`: the CR LF after a delimiter (`sawCR`: the CR was read).
        case preHeaders(sawCR: Bool)
        case headerName(length: Int)
        case headerValue
        case postHeaderValue
        case postHeaders
        case body
        case boundary(matched: Int)
        /// After `\r\n--boundary-`: the parser ignores the rest.
        case epilogue
        /// The parser throws at the byte that led here.
        case failed
    }

    /// Why the model refused a byte before the parser could see it.
    enum Refusal: Error, Equatable {
        case nonASCIIHeaderName
        case partHeadersTooLong(limit: Int)
        case headersTooLong(limit: Int)
    }

    private(set) var state = State.preamble(matched: 0)
    /// `onHeader` calls the parser will have made.
    private(set) var headers = 0
    /// `onPartComplete` calls the parser will have made.
    private(set) var partsCompleted = 0
    /// Bytes the parser will have passed to `onBody`.
    private(set) var bodyBytes = 0
    /// Whether `\r\n--boundary--` was seen (the epilogue entered through two hyphens).
    private(set) var closed = false
    private var awaitingSecondHyphen = false
    private var partHeaderBytes = 0
    private var headerBytes = 0
    private let delimiter: [UInt8]
    private let maxPartHeaderBytes: Int
    private let maxHeaderBytes: Int

    init(boundary: String, limits: UploadLimits) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        maxPartHeaderBytes = limits.maxPartHeaderBytes
        maxHeaderBytes = limits.maxHeaderBytes
    }

    /// Body bytes the caller passed on itself while the parser was in `.body` (see
    /// ``MultipartFormReader``): the parser would have read them without leaving the state.
    mutating func skipBody(_ count: Int) {
        assert(state == .body, "skipBody outside a body")
        bodyBytes += count
    }

    /// Runs the model over `bytes`; returns how many it consumed, all of them safe for the parser,
    /// and the refusal of the byte after them, if that is why it stopped. With `stopAtBody`, it
    /// stops right after a byte that takes the parser (back) into `.body`, so the caller may pass
    /// the plain body bytes on itself. It also stops after the byte that makes the parser fail.
    mutating func advance(_ bytes: UnsafeBufferPointer<UInt8>, stopAtBody: Bool) -> (consumed: Int, refusal: Refusal?) {
        guard let base = bytes.baseAddress else { return (0, nil) }
        var index = 0
        while index < bytes.count {
            switch state {
            case .failed:
                return (index, nil)
            case .epilogue:
                if awaitingSecondHyphen {
                    awaitingSecondHyphen = false
                    closed = base[index] == UInt8(ascii: "-")
                }
                return (bytes.count, nil)
            case .body:
                if stopAtBody && index > 0 { return (index, nil) }
                // The parser reads a body up to the next CR in one step; so does the model.
                let rest = bytes.count - index
                let plain = memchr(base + index, 13, rest).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) - index } ?? rest
                bodyBytes += plain
                index += plain
                if index < bytes.count {
                    state = .boundary(matched: 1)  // the CR, read by `parseBoundary` at index 0
                    index += 1
                }
            default:
                let entering: Bool
                do {
                    entering = try step(base[index])
                } catch {
                    return (index, error)  // the model is unchanged by a refused byte
                }
                index += 1
                if stopAtBody && entering { return (index, nil) }
            }
        }
        return (index, nil)
    }

    /// One byte in a state other than `.body`, `.epilogue` and `.failed`; `true` when it took the
    /// parser into `.body`. A refused byte leaves the model as it was.
    private mutating func step(_ byte: UInt8) throws(Refusal) -> Bool {
        let length = delimiter.count
        switch state {
        case .preamble(var matched):
            // `parsePreamble`: the leading CR LF of the first delimiter may be missing.
            if matched == 0, byte == delimiter[2] {
                matched = 3
            } else if byte == delimiter[matched] {
                matched += 1
            } else if matched > 0, byte == delimiter[0] {
                matched = 1
            } else {
                matched = 0
            }
            if matched >= length {
                state = .preHeaders(sawCR: false)
                partHeaderBytes = 0
            } else {
                state = .preamble(matched: matched)
            }
            return false
        case .boundary(let matched):
            if matched >= length {
                // `parseBoundary` after a whole delimiter: the part is complete, whatever follows.
                switch byte {
                case 13:
                    try countHeaderByte(startingPart: true)
                    partsCompleted += 1
                    state = .preHeaders(sawCR: true)
                case UInt8(ascii: "-"):
                    partsCompleted += 1
                    state = .epilogue
                    awaitingSecondHyphen = true
                default:
                    partsCompleted += 1
                    state = .failed
                }
                return false
            }
            if byte == delimiter[matched] {
                state = .boundary(matched: matched + 1)
                return false
            }
            // Not a delimiter after all: the matched bytes (and this one, unless it is a CR that
            // may start one) are body bytes.
            if byte == delimiter[0] {
                bodyBytes += matched
                state = .boundary(matched: 1)
                return false
            }
            bodyBytes += matched + 1
            state = .body
            return true
        default:
            return try headerStep(byte)
        }
    }

    /// `parseHeaders`: one byte of a part's header block.
    private mutating func headerStep(_ byte: UInt8) throws(Refusal) -> Bool {
        try countHeaderByte()
        switch state {
        case .preHeaders(let sawCR):
            if !sawCR && byte == 13 {
                state = .preHeaders(sawCR: true)
            } else if sawCR && byte == 10 {
                state = .headerName(length: 0)
            } else {
                state = .failed
            }
        case .headerName(let length):
            if byte == UInt8(ascii: ":") && length > 0 {
                state = .headerValue
            } else if byte == 13 && length == 0 {
                state = .postHeaders
            } else if byte >= 0x80 {
                throw .nonASCIIHeaderName  // MultipartKit would index past its 128-entry table
            } else if Self.isHeaderNameByte(byte) {
                state = .headerName(length: length + 1)
            } else {
                state = .failed
            }
        case .headerValue:
            if byte == 13 { state = .postHeaderValue }
        case .postHeaderValue:
            if byte == 10 {
                headers += 1
                state = .headerName(length: 0)
            } else {
                state = .failed
            }
        case .postHeaders:
            if byte == 10 {
                state = .body
                return true
            }
            state = .failed
        default:
            break
        }
        return false
    }

    /// Counts one header byte, or refuses it without counting (`startingPart`: the first byte of
    /// a part's header block).
    private mutating func countHeaderByte(startingPart: Bool = false) throws(Refusal) {
        let part = (startingPart ? 0 : partHeaderBytes) + 1
        let total = headerBytes + 1
        if part > maxPartHeaderBytes { throw .partHeadersTooLong(limit: maxPartHeaderBytes) }
        if total > maxHeaderBytes { throw .headersTooLong(limit: maxHeaderBytes) }
        partHeaderBytes = part
        headerBytes = total
    }

    /// MultipartKit's `isAllowedHeaderFieldNameCharacter` for bytes below 0x80: RFC 822 tokens
    /// (no controls, no space, no tspecials `()<>@,;:\"/[]?={}`).
    static func isHeaderNameByte(_ byte: UInt8) -> Bool {
        guard byte > 32, byte < 127 else { return false }
        return !Array("()<>@,;:\\\"/[]?={}".utf8).contains(byte)
    }
}
