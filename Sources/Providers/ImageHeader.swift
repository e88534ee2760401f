/// The dimensions an image's header declares — PNG's `IHDR`, JPEG's first start-of-frame,
/// every TIFF page's `ImageWidth`/`ImageLength` — read without decoding anything, so an image
/// can be refused before a decoder allocates for it. Decoders size their buffers from these same
/// fields, so a header cannot claim a small image and decode to a large one.
public struct ImageHeader: Sendable, Hashable {
    /// The container format.
    public enum Format: String, Sendable, Hashable {
        /// PNG (`\x89PNG\r\n\x1a\n`).
        case png
        /// JPEG (`FF D8 FF`).
        case jpeg
        /// TIFF, little- (`II*\0`) or big-endian (`MM\0*`).
        case tiff
    }

    /// The container format.
    public var format: Format
    /// The largest page's width and height (the only page, except for multi-page TIFF).
    public var width: Int
    /// See ``width``.
    public var height: Int
    /// How many pages (TIFF directories); 1 for PNG and JPEG.
    public var pages: Int

    /// A header with these values (as ``read(_:maximumPixels:)`` returns them).
    public init(format: Format, width: Int, height: Int, pages: Int) {
        self.format = format
        self.width = width
        self.height = height
        self.pages = pages
    }

    /// The largest page's pixel count.
    public var pixels: Int { width * height }

    /// The default bound on one page's pixels: 50 million (a letter page at 300 dpi is 8.4 MP).
    public static let defaultMaximumPixels = 50_000_000

    /// The format the magic bytes name, or `nil` for anything else.
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x49, 0x49, 0x2A, 0x00]) || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        return nil
    }

    /// Reads the header of `bytes` and checks every page against `maximumPixels`.
    public static func read(_ bytes: [UInt8], maximumPixels: Int = defaultMaximumPixels) throws(ImageHeaderError) -> ImageHeader {
        guard let format = format(of: bytes) else { throw ImageHeaderError(.notAnImage, "not a PNG, JPEG or TIFF file") }
        let header: ImageHeader
        switch format {
        case .png: header = try readPNG(bytes)
        case .jpeg: header = try readJPEG(bytes)
        case .tiff: header = try readTIFF(bytes, maximumPixels: maximumPixels)
        }
        guard header.width.multipliedReportingOverflow(by: header.height).partialValue <= maximumPixels,
              !header.width.multipliedReportingOverflow(by: header.height).overflow else {
            throw ImageHeaderError(
                .tooManyPixels, "the \(format.rawValue) image is \(header.width) × \(header.height) pixels; at most \(maximumPixels) are accepted")
        }
        return header
    }

    private static func checked(_ format: Format, width: Int, height: Int, pages: Int = 1) throws(ImageHeaderError) -> ImageHeader {
        guard width > 0, height > 0 else { throw ImageHeaderError(.malformed, "the \(format.rawValue) header declares a size of \(width) × \(height)") }
        return ImageHeader(format: format, width: width, height: height, pages: pages)
    }

    /// Signature, then the first chunk, which must be `IHDR`: width and height, 4 bytes each, big-endian.
    private static func readPNG(_ bytes: [UInt8]) throws(ImageHeaderError) -> ImageHeader {
        guard bytes.count >= 24 else { throw ImageHeaderError(.truncated, "the PNG file ends before its IHDR chunk") }
        guard bytes[12..<16].elementsEqual(Array("IHDR".utf8)) else { throw ImageHeaderError(.malformed, "the PNG file does not start with an IHDR chunk") }
        let width = Int(bigEndian32(bytes, 16)), height = Int(bigEndian32(bytes, 20))
        guard width <= Int(Int32.max), height <= Int(Int32.max) else { throw ImageHeaderError(.malformed, "the PNG IHDR size is out of range") }
        return try checked(.png, width: width, height: height)
    }

    /// Segments after SOI until the first start-of-frame (SOF0–SOF15 except DHT, JPG and DAC):
    /// precision (1 byte), height and width (2 bytes each, big-endian).
    private static func readJPEG(_ bytes: [UInt8]) throws(ImageHeaderError) -> ImageHeader {
        var index = 2
        while true {
            guard index < bytes.count else { throw ImageHeaderError(.truncated, "the JPEG file ends before its frame header") }
            guard bytes[index] == 0xFF else { throw ImageHeaderError(.malformed, "the JPEG file has a segment without a marker") }
            while index < bytes.count && bytes[index] == 0xFF { index += 1 }  // fill bytes
            guard index < bytes.count else { throw ImageHeaderError(.truncated, "the JPEG file ends before its frame header") }
            let marker = bytes[index]
            index += 1
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { continue }  // no length
            if marker == 0xD9 || marker == 0xDA { throw ImageHeaderError(.malformed, "the JPEG file has no frame header before its data") }
            guard index + 2 <= bytes.count else { throw ImageHeaderError(.truncated, "the JPEG file ends inside a segment") }
            let length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
            guard length >= 2 else { throw ImageHeaderError(.malformed, "the JPEG file has a segment of length \(length)") }
            if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard index + 7 <= bytes.count, length >= 7 else { throw ImageHeaderError(.truncated, "the JPEG frame header is cut short") }
                let height = Int(bytes[index + 3]) << 8 | Int(bytes[index + 4])
                let width = Int(bytes[index + 5]) << 8 | Int(bytes[index + 6])
                // A height of 0 defers to a later DNL marker, which decoders may then honour.
                guard height > 0 else { throw ImageHeaderError(.malformed, "the JPEG frame header leaves the height to a DNL marker") }
                return try checked(.jpeg, width: width, height: height)
            }
            index += length
        }
    }

    /// The chain of image file directories from the header's first offset; each page's
    /// `ImageWidth` (256) and `ImageLength` (257), SHORT or LONG. BigTIFF is refused.
    private static func readTIFF(_ bytes: [UInt8], maximumPixels: Int) throws(ImageHeaderError) -> ImageHeader {
        guard bytes.count >= 8 else { throw ImageHeaderError(.truncated, "the TIFF file ends inside its header") }
        let little = bytes[0] == 0x49
        func u16(_ at: Int) -> Int { little ? Int(bytes[at]) | Int(bytes[at + 1]) << 8 : Int(bytes[at]) << 8 | Int(bytes[at + 1]) }
        func u32(_ at: Int) -> Int { little ? u16(at) | u16(at + 2) << 16 : u16(at) << 16 | u16(at + 2) }
        var offset = u32(4)
        var seen = Set<Int>()
        var largest = (width: 0, height: 0)
        var pages = 0
        while offset != 0 {
            guard seen.insert(offset).inserted, pages < 10_000 else { throw ImageHeaderError(.malformed, "the TIFF directories form a loop") }
            guard offset >= 8, offset + 2 <= bytes.count else { throw ImageHeaderError(.truncated, "a TIFF directory lies outside the file") }
            let count = u16(offset)
            guard offset + 2 + count * 12 + 4 <= bytes.count else { throw ImageHeaderError(.truncated, "a TIFF directory is cut short") }
            var width = 0, height = 0
            for entry in 0..<count {
                let at = offset + 2 + entry * 12
                let tag = u16(at), type = u16(at + 2)
                guard tag == 256 || tag == 257 else { continue }
                let value: Int
                switch type {
                case 3: value = u16(at + 8)
                case 4: value = u32(at + 8)
                default: throw ImageHeaderError(.malformed, "a TIFF size tag has type \(type), not SHORT or LONG")
                }
                if tag == 256 { width = value } else { height = value }
            }
            let page = try checked(.tiff, width: width, height: height)
            guard !page.width.multipliedReportingOverflow(by: page.height).overflow, page.pixels <= maximumPixels else {
                throw ImageHeaderError(
                    .tooManyPixels, "page \(pages + 1) of the tiff image is \(width) × \(height) pixels; at most \(maximumPixels) are accepted")
            }
            if page.pixels > largest.width * largest.height { largest = (width, height) }
            pages += 1
            offset = u32(offset + 2 + count * 12)
        }
        guard pages > 0 else { throw ImageHeaderError(.malformed, "the TIFF file has no image directory") }
        return ImageHeader(format: .tiff, width: largest.width, height: largest.height, pages: pages)
    }

    private static func bigEndian32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}
