import Foundation
import ProcessSupport

/// Scanned-looking résumés made at test time: the text is drawn on a letter page by a
/// hand-written PDF (slightly rotated, with specks of noise), rasterised by `pdftoppm` into PNG,
/// JPEG or TIFF, and embedded as a picture into an image-only PDF. Nothing is committed; every
/// test gets pages it can compare word for word with the text it drew.
public enum ScanFactory {
    /// The picture formats `pdftoppm` writes.
    public enum Format: String, Sendable, CaseIterable {
        case png, jpeg, tiff
    }

    /// The lines of a one-page résumé, in English with a few accented names.
    public static let resumeLines = [
        "Hannah Schmidt",
        "Senior Backend Engineer, Hamburg",
        "Eight years building payment and logistics systems in Swift, Go and Python.",
        "Led the migration of the order service to PostgreSQL and Redis queues.",
        "Experience: Nordwind Logistik GmbH (2019-2025), Café Crème Agency (2016-2019).",
        "Skills: distributed systems, observability, incident response, mentoring.",
        "Languages: German (native), English (fluent), Spanish (good).",
        "Education: Technische Universität München, Computer Science.",
    ]

    /// A one-page PDF whose text is drawn (a real text layer) at `degrees` of rotation, with
    /// `specks` grey dots of noise (0.5 pt, 1–2 pixels at 200 dpi) from `seed`. Rasterised, it is the scan; read directly, it has text.
    public static func drawnPage(lines: [String] = resumeLines, degrees: Double = 1.5, specks: Int = 200, seed: UInt64 = 7) -> [UInt8] {
        let radians = degrees * .pi / 180
        let (c, s) = (cos(radians), sin(radians))
        var content = "BT /F1 13 Tf\n"
        for (index, line) in lines.enumerated() {
            let y = 720 - Double(index) * 26
            content += String(format: "%.5f %.5f %.5f %.5f %.2f %.2f Tm ", c, s, -s, c, 60 + Double(index) * 0.4, y) + "(\(escape(line))) Tj\n"
        }
        content += "ET\n0.5 g\n"
        var state = seed
        for _ in 0..<specks {
            let x = Double(next(&state) % 6_000) / 10, y = Double(next(&state) % 7_800) / 10
            content += String(format: "%.1f %.1f 0.5 0.5 re f\n", x, y)
        }
        return PDFWriter.document(pages: [.content(content)])
    }

    /// `pdf`'s first page rasterised in grey at `dpi` by `pdftoppm`, as `format`.
    public static func rasterise(_ pdf: [UInt8], as format: Format, dpi: Int = 200) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scan-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(pdf).write(to: URL(fileURLWithPath: "\(directory)/page.pdf"))
        let options: [String] = switch format {
        case .png: ["-png"]
        case .jpeg: ["-jpeg", "-jpegopt", "quality=85"]
        case .tiff: ["-tiff", "-tiffcompression", "lzw"]
        }
        let result = try ChildProcess.run(
            "pdftoppm", ["-gray", "-r", "\(dpi)", "-singlefile"] + options + ["\(directory)/page.pdf", "\(directory)/scan"])
        let name = format == .jpeg ? "scan.jpg" : format == .tiff ? "scan.tif" : "scan.png"
        guard result.status == 0, let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else {
            throw ScanFactoryError(message: "pdftoppm could not rasterise the page (status \(result.status))")
        }
        return Array(data)
    }

    /// A scan of `lines` as `format`.
    public static func scan(_ format: Format, lines: [String] = resumeLines, dpi: Int = 200) throws -> [UInt8] {
        try rasterise(drawnPage(lines: lines), as: format, dpi: dpi)
    }

    /// An image-only PDF: each page a full-page JPEG scan of one entry of `pages`, or a text page.
    public static func pdf(_ pages: [Page]) throws -> [UInt8] {
        var written: [PDFWriter.Page] = []
        for page in pages {
            switch page {
            case .scanned(let lines): written.append(.jpeg(try scan(.jpeg, lines: lines, dpi: 200)))
            case .text(let lines):
                var content = "BT /F1 12 Tf 60 720 Td 16 TL\n"
                for line in lines { content += "(\(escape(line))) Tj T*\n" }
                written.append(.content(content + "ET\n"))
            }
        }
        return PDFWriter.document(pages: written)
    }

    /// One page of ``pdf(_:)``.
    public enum Page: Sendable {
        /// A picture of these lines, no text layer.
        case scanned([String])
        /// These lines as a text layer.
        case text([String])
    }

    /// The share of `expected`'s words (case-sensitive, punctuation at their ends ignored) found
    /// in `text`, each found word used once.
    public static func wordRecall(of expected: [String], in text: String) -> Double {
        func words(_ text: String) -> [String] {
            text.split(whereSeparator: { $0.isWhitespace }).map { $0.trimmingCharacters(in: .punctuationCharacters) }.filter { !$0.isEmpty }
        }
        var available: [String: Int] = [:]
        for word in words(text) { available[word, default: 0] += 1 }
        let wanted = expected.flatMap(words)
        var found = 0
        for word in wanted where (available[word] ?? 0) > 0 {
            available[word]! -= 1
            found += 1
        }
        return wanted.isEmpty ? 1 : Double(found) / Double(wanted.count)
    }

    /// A PNG signature and IHDR chunk declaring `width` × `height` (8-bit grey), then a few bytes:
    /// a header no decoder should be given.
    public static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func be(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + be(13) + Array("IHDR".utf8) + be(width) + be(height)
            + [8, 0, 0, 0, 0] + [0, 0, 0, 0] + Array(repeating: 0, count: 64)
    }

    private static func escape(_ line: String) -> String {
        // WinAnsiEncoding: Latin-1 letters as octal escapes.
        var out = ""
        for scalar in line.unicodeScalars {
            switch scalar {
            case "(", ")", "\\": out += "\\\(scalar)"
            case _ where scalar.value < 0x80: out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x100: out += String(format: "\\%03o", scalar.value)
            default: out += "?"
            }
        }
        return out
    }

    private static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `pdftoppm` could not make a scan.
public struct ScanFactoryError: Error, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// The message.
    public var description: String { message }
}
