import Zlib

/// Why a ZIP archive (a DOCX) could not be read.
public struct ZipError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable { case notZip, corrupt, unsupported, tooLarge, checksumMismatch, missingEntry }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// No end-of-central-directory record: not a ZIP file.
        public static let notZip = Code(.notZip)
        /// A record is truncated, points outside the file or does not match its signature.
        public static let corrupt = Code(.corrupt)
        /// ZIP64, multi-disk, encrypted entries or a compression method other than stored/deflate.
        public static let unsupported = Code(.unsupported)
        /// An entry (or the entry count) is larger than ``ZipArchive/Limits`` allow.
        public static let tooLarge = Code(.tooLarge)
        /// An entry's data does not match its CRC-32 or declared size.
        public static let checksumMismatch = Code(.checksumMismatch)
        /// The requested entry is not in the archive.
        public static let missingEntry = Code(.missingEntry)
        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// The code.
    public var code: Code
    /// A readable reason (entry names only; never file contents).
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `"zip <code>: <message>"`.
    public var description: String { "zip \(code): \(message)" }
}

/// A read-only ZIP archive held in memory: the end-of-central-directory record, the central
/// directory and each entry's local header, with stored and deflated entries.
///
/// Built for DOCX files, which are small; ZIP64, split archives and encryption are refused. Every
/// offset is bounds-checked, entry sizes are capped by ``Limits`` before inflating (a ZIP bomb stops
/// at the cap, whatever its headers claim) and every entry's CRC-32 is verified.
public struct ZipArchive: Sendable {
    /// Caps that protect against hostile archives.
    public struct Limits: Sendable, Hashable {
        /// The largest uncompressed entry that ``ZipArchive/contents(of:)`` returns. Default: 32 MiB.
        public var maximumEntrySize: Int
        /// The most entries the central directory may list. Default: 10 000.
        public var maximumEntryCount: Int

        /// Creates limits; the defaults suit DOCX résumés.
        public init(maximumEntrySize: Int = 32 << 20, maximumEntryCount: Int = 10_000) {
            self.maximumEntrySize = maximumEntrySize
            self.maximumEntryCount = maximumEntryCount
        }
    }

    /// One file in the archive, as the central directory describes it.
    public struct Entry: Sendable, Hashable {
        /// The path inside the archive, e.g. `word/document.xml`.
        public var name: String
        /// 0 (stored) or 8 (deflate); others are refused when read.
        public var method: UInt16
        /// General-purpose flags (bit 0: encrypted).
        public var flags: UInt16
        /// CRC-32 of the uncompressed data.
        public var crc32: UInt32
        /// Bytes of compressed data.
        public var compressedSize: Int
        /// Bytes after inflating.
        public var uncompressedSize: Int
        /// Where the entry's local header starts.
        public var localHeaderOffset: Int
    }

    /// The entries in central-directory order.
    public let entries: [Entry]
    private let data: [UInt8]
    private let limits: Limits

    private static let endOfCentralDirectorySignature: UInt32 = 0x0605_4B50
    private static let centralHeaderSignature: UInt32 = 0x0201_4B50
    private static let localHeaderSignature: UInt32 = 0x0403_4B50

    /// Reads the central directory of `data`. Throws ``ZipError`` when it is not a readable ZIP.
    public init(_ data: [UInt8], limits: Limits = Limits()) throws(ZipError) {
        self.data = data
        self.limits = limits
        let end = try Self.findEndOfCentralDirectory(data)
        let diskNumber = Self.u16(data, end + 4), directoryDisk = Self.u16(data, end + 6)
        let entriesOnDisk = Int(Self.u16(data, end + 8)), totalEntries = Int(Self.u16(data, end + 10))
        let directorySize = Int(Self.u32(data, end + 12)), directoryOffset = Int(Self.u32(data, end + 16))
        if totalEntries == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            throw ZipError(.unsupported, "ZIP64 archives are not supported")
        }
        guard diskNumber == 0, directoryDisk == 0, entriesOnDisk == totalEntries else {
            throw ZipError(.unsupported, "split (multi-disk) archives are not supported")
        }
        guard totalEntries <= limits.maximumEntryCount else {
            throw ZipError(.tooLarge, "\(totalEntries) entries exceed the limit of \(limits.maximumEntryCount)")
        }
        guard directoryOffset <= end, directorySize <= end - directoryOffset else {
            throw ZipError(.corrupt, "the central directory lies outside the file")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(totalEntries)
        var offset = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for index in 0..<totalEntries {
            guard offset + 46 <= directoryEnd, Self.u32(data, offset) == Self.centralHeaderSignature else {
                throw ZipError(.corrupt, "central directory record \(index) is truncated or has a bad signature")
            }
            let nameLength = Int(Self.u16(data, offset + 28))
            let extraLength = Int(Self.u16(data, offset + 30)), commentLength = Int(Self.u16(data, offset + 32))
            let recordEnd = offset + 46 + nameLength + extraLength + commentLength
            guard recordEnd <= directoryEnd else {
                throw ZipError(.corrupt, "central directory record \(index) runs past the directory")
            }
            let compressed = Self.u32(data, offset + 20), uncompressed = Self.u32(data, offset + 24)
            let localOffset = Self.u32(data, offset + 42)
            if compressed == 0xFFFF_FFFF || uncompressed == 0xFFFF_FFFF || localOffset == 0xFFFF_FFFF {
                throw ZipError(.unsupported, "ZIP64 entries are not supported")
            }
            let name = String(decoding: data[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
            entries.append(Entry(
                name: name, method: Self.u16(data, offset + 10), flags: Self.u16(data, offset + 8),
                crc32: Self.u32(data, offset + 16), compressedSize: Int(compressed),
                uncompressedSize: Int(uncompressed), localHeaderOffset: Int(localOffset)))
            offset = recordEnd
        }
        self.entries = entries
    }

    /// The entry called `name`, if any (the first one when a hostile archive repeats a name).
    public func entry(named name: String) -> Entry? {
        entries.first { $0.name == name }
    }

    /// The uncompressed bytes of the entry called `name`; ``ZipError/Code/missingEntry`` if absent.
    public func contents(ofEntryNamed name: String) throws(ZipError) -> [UInt8] {
        guard let entry = entry(named: name) else { throw ZipError(.missingEntry, "no entry named \(name)") }
        return try contents(of: entry)
    }

    /// The uncompressed bytes of `entry`, checked against its size and CRC-32.
    public func contents(of entry: Entry) throws(ZipError) -> [UInt8] {
        if entry.flags & 0x1 != 0 { throw ZipError(.unsupported, "\(entry.name) is encrypted") }
        guard entry.uncompressedSize <= limits.maximumEntrySize else {
            throw ZipError(.tooLarge, "\(entry.name) declares \(entry.uncompressedSize) bytes, over the limit of \(limits.maximumEntrySize)")
        }
        let header = entry.localHeaderOffset
        guard header <= data.count - 30, Self.u32(data, header) == Self.localHeaderSignature else {
            throw ZipError(.corrupt, "the local header of \(entry.name) is missing or has a bad signature")
        }
        // Sizes and CRC come from the central directory: with flag bit 3 the local header has zeros.
        let start = header + 30 + Int(Self.u16(data, header + 26)) + Int(Self.u16(data, header + 28))
        guard start <= data.count, entry.compressedSize <= data.count - start else {
            throw ZipError(.corrupt, "the data of \(entry.name) runs past the end of the file")
        }
        let compressed = Array(data[start..<(start + entry.compressedSize)])
        let output: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw ZipError(.corrupt, "stored entry \(entry.name) has different compressed and uncompressed sizes")
            }
            output = compressed
        case 8:
            do {
                // Inflate no further than the declared size (+1 to notice a lie).
                output = try Zlib.inflateRaw(compressed, maximumSize: entry.uncompressedSize + 1)
            } catch let error where error.code == .tooLarge {
                throw ZipError(.tooLarge, "\(entry.name) inflates past its declared \(entry.uncompressedSize) bytes")
            } catch {
                throw ZipError(.corrupt, "\(entry.name): \(error.message)")
            }
        default:
            throw ZipError(.unsupported, "\(entry.name) uses compression method \(entry.method)")
        }
        guard output.count == entry.uncompressedSize else {
            throw ZipError(.checksumMismatch, "\(entry.name) has \(output.count) bytes, not the declared \(entry.uncompressedSize)")
        }
        guard Zlib.crc32(output) == entry.crc32 else {
            throw ZipError(.checksumMismatch, "\(entry.name) fails its CRC-32 check")
        }
        return output
    }

    /// The offset of the end-of-central-directory record: searched backwards over the maximum
    /// comment length (65 535 bytes), accepting only a record whose comment reaches the file's end.
    private static func findEndOfCentralDirectory(_ data: [UInt8]) throws(ZipError) -> Int {
        guard data.count >= 22 else { throw ZipError(.notZip, "too short for a ZIP archive") }
        let lowest = max(0, data.count - 22 - 0xFFFF)
        var candidate = data.count - 22
        while candidate >= lowest {
            if data[candidate] == 0x50, u32(data, candidate) == endOfCentralDirectorySignature,
               candidate + 22 + Int(u16(data, candidate + 20)) == data.count {
                return candidate
            }
            candidate -= 1
        }
        throw ZipError(.notZip, "no end-of-central-directory record")
    }

    private static func u16(_ data: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(data[offset]) | UInt16(data[offset + 1]) << 8
    }

    private static func u32(_ data: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(data[offset]) | UInt32(data[offset + 1]) << 8 | UInt32(data[offset + 2]) << 16 | UInt32(data[offset + 3]) << 24
    }
}
