internal import CZlib

/// An error from ``Zlib``: the input is not a valid zlib stream, or it inflates past the limit.
public struct ZlibError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable { case corrupt, truncated, tooLarge, failure }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The bytes are not a zlib stream (bad header, bad data or checksum mismatch).
        public static let corrupt = Code(.corrupt)
        /// The stream ends before its end marker.
        public static let truncated = Code(.truncated)
        /// The output would exceed the caller's limit.
        public static let tooLarge = Code(.tooLarge)
        /// zlib itself failed (out of memory, bad parameters).
        public static let failure = Code(.failure)
        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// Details, e.g. zlib's own message.
    public var message: String

    /// `"zlib <code>: <message>"`.
    public var description: String { "zlib \(code): \(message)" }
}

/// zlib-format (RFC 1950) compression over the system `libz`, the format of Python's
/// `zlib.compress`/`zlib.decompress`.
public enum Zlib {
    /// The linked library's version, e.g. `1.2.13`.
    public static var version: String { String(cString: zlibVersion()) }

    /// The CRC-32 (ISO 3309, as in ZIP and gzip) of `bytes`.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            return UInt32(CZlib.crc32(0, base, uInt(buffer.count)))
        }
    }

    /// Compresses `input` at `level` (0–9, default 6 as in Python).
    public static func compress(_ input: [UInt8], level: Int32 = 6) throws(ZlibError) -> [UInt8] {
        var stream = z_stream()
        guard czlib_deflate_init(&stream, level) == Z_OK else {
            throw ZlibError(code: .failure, message: "deflateInit failed")
        }
        return try finishDeflate(&stream, input)
    }

    /// Deflates all of `input` through an initialised `stream` and ends it.
    private static func finishDeflate(_ stream: inout z_stream, _ input: [UInt8]) throws(ZlibError) -> [UInt8] {
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        var mutableInput = input
        let status = mutableInput.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else {
            throw ZlibError(code: .failure, message: "deflate returned \(status)")
        }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Inflates a zlib stream, refusing to produce more than `maximumSize` bytes (default 64 MiB)
    /// so that a hostile input cannot exhaust memory. Bytes after the stream's end are an error.
    public static func decompress(_ input: [UInt8], maximumSize: Int = 64 << 20) throws(ZlibError) -> [UInt8] {
        try inflate(input, maximumSize: maximumSize, windowBits: 15)
    }

    /// Inflates raw deflate data (RFC 1951: no zlib header, no Adler-32), the format of ZIP
    /// entries with method 8, refusing to produce more than `maximumSize` bytes (default 64 MiB).
    /// Bytes after the end of the deflate stream are an error.
    public static func inflateRaw(_ input: [UInt8], maximumSize: Int = 64 << 20) throws(ZlibError) -> [UInt8] {
        try inflate(input, maximumSize: maximumSize, windowBits: -15)
    }

    /// Compresses `input` as raw deflate (RFC 1951) at `level`; the inverse of ``inflateRaw(_:maximumSize:)``.
    public static func deflateRaw(_ input: [UInt8], level: Int32 = 6) throws(ZlibError) -> [UInt8] {
        var stream = z_stream()
        guard czlib_deflate_init2(&stream, level, -15) == Z_OK else {
            throw ZlibError(code: .failure, message: "deflateInit2 failed")
        }
        return try finishDeflate(&stream, input)
    }

    private static func inflate(_ input: [UInt8], maximumSize: Int, windowBits: Int32) throws(ZlibError) -> [UInt8] {
        var stream = z_stream()
        guard czlib_inflate_init2(&stream, windowBits) == Z_OK else {
            throw ZlibError(code: .failure, message: "inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        // Inflate straight into `output`, growing it geometrically: small payloads (RQ's typical
        // `data` is ~100 bytes) cost one small allocation, not a fixed large scratch buffer.
        var output = [UInt8](repeating: 0, count: min(maximumSize + 1, max(256, input.count * 4)))
        var produced = 0
        var mutableInput = input
        var finished = false
        var failure: ZlibError?
        mutableInput.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            while !finished && failure == nil {
                if produced == output.count {
                    if output.count > maximumSize {
                        failure = ZlibError(code: .tooLarge, message: "inflated data exceeds \(maximumSize) bytes")
                        break
                    }
                    output.append(contentsOf: repeatElement(0, count: min(output.count, maximumSize + 1 - output.count)))
                }
                let before = produced
                let status: Int32 = output.withUnsafeMutableBufferPointer { outputBuffer in
                    stream.next_out = outputBuffer.baseAddress! + produced
                    stream.avail_out = uInt(outputBuffer.count - produced)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                produced = output.count - Int(stream.avail_out)
                if produced > maximumSize {
                    failure = ZlibError(code: .tooLarge, message: "inflated data exceeds \(maximumSize) bytes")
                    break
                }
                switch status {
                case Z_STREAM_END:
                    finished = true
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    if stream.avail_in == 0 {
                        failure = ZlibError(code: .truncated, message: "the zlib stream ends early")
                    } else if produced == before && produced < output.count {
                        failure = ZlibError(code: .corrupt, message: "no progress inflating")
                    }
                case Z_NEED_DICT, Z_DATA_ERROR:
                    let reason = stream.msg.map { String(cString: $0) } ?? "invalid data"
                    failure = ZlibError(code: .corrupt, message: reason)
                default:
                    failure = ZlibError(code: .failure, message: "inflate returned \(status)")
                }
            }
        }
        if let failure { throw failure }
        if stream.avail_in != 0 {
            throw ZlibError(code: .corrupt, message: "\(stream.avail_in) trailing bytes after the zlib stream")
        }
        output.removeSubrange(produced...)
        return output
    }
}
