import Foundation
import Logging
import Providers

/// Reads text from pictures with `tesseract`: uploaded images (after their header passed the
/// pixel cap) and PDF pages that `pdftocairo` rasterised first.
///
/// Tesseract is given the file by a relative name and runs in the scratch folder: when it cannot
/// decode a file it treats it as a list of image paths, and the only names such a list could hold
/// (its first line, which starts with the format's magic bytes) then resolve inside the folder,
/// where nothing but this document lies.
struct OCRReader {
    let configuration: OCRConfiguration
    /// The most bytes of tesseract's output that are read.
    let outputLimit: Int
    let logger: Logger

    /// The text tesseract reads from `name` (a file in `folder`); `subject` names it in errors
    /// (`the PNG image`, `page 2 of the PDF`).
    func readImage(named name: String, in folder: ScratchFolder, subject: String, dpi: Int? = nil, pages: Int = 1) async throws(ProviderError) -> String {
        let base = "ocr-\(name)"
        var arguments = [name, base, "-l", configuration.languages]
        if let dpi { arguments += ["--dpi", "\(dpi)"] }
        let seconds = configuration.pageTimeout.components.seconds * Int64(max(1, pages))
        let status = try await ToolRun(
            tool: "tesseract", executable: configuration.tesseractPath, arguments: arguments, directory: folder.path,
            timeout: .seconds(seconds), subject: "the image", environment: ["OMP_THREAD_LIMIT": "1"],
            memoryLimit: configuration.memoryLimit, package: "tesseract-ocr"
        ).run()
        let output = ToolRun.readText(at: folder.file("\(base).txt"), limit: outputLimit)
        // Tesseract's own messages stay in the scratch log; only their kind is told.
        let log = ToolRun.readText(at: folder.file("tesseract.log"), limit: 64 << 10) ?? ""
        // ToolRun appends: without this, a later page's failure would be judged by this run's messages.
        try? FileManager.default.removeItem(atPath: folder.file("tesseract.log"))
        if status == 0, log.contains("Failed loading language") {
            // Some of the languages loaded: the page is read with those; `worker check` names the missing ones.
            logger.warning(
                "tesseract could not load all of its language data; reading with the rest (see worker check)",
                metadata: ["ocr.languages": "\(configuration.languages)"])
        }
        guard status == 0, let output else {
            if log.contains("Failed loading language") || log.contains("Could not initialize tesseract") {
                throw ProviderError(
                    .configuration, "tesseract cannot load the language data \(configuration.languages) (install tesseract-ocr-<language>, or set OCR_LANGUAGES)")
            }
            throw ProviderError(.unreadableDocument, "\(subject) is truncated or corrupt (tesseract could not decode it)")
        }
        try? FileManager.default.removeItem(atPath: folder.file("\(base).txt"))
        return output
    }

    /// The text OCR reads on page `page` (1-based) of `in.pdf` in `folder`, rasterised in grey
    /// (uncompressed TIFF, the fastest to write and read) at the configured resolution, or the
    /// page picture's own if lower (at least 150 dpi), lowered so the page stays within the pixel cap.
    func readPDFPage(_ page: Int, size: PDFPageSize, in folder: ScratchFolder) async throws(ProviderError) -> String {
        let preferred = size.scanResolution.map { min(configuration.dpi, max(150, $0)) } ?? configuration.dpi
        let dpi = size.dpi(preferred: preferred, maximumPixels: configuration.maximumPixels)
        let base = "page-\(page)"
        let status = try await ToolRun(
            tool: "pdftocairo", executable: configuration.pdftocairoPath,
            arguments: ["-gray", "-r", "\(dpi)", "-f", "\(page)", "-l", "\(page)", "-singlefile", "-tiff", "-tiffcompression", "none", "in.pdf", base],
            directory: folder.path, timeout: configuration.pageTimeout, subject: "the PDF", memoryLimit: configuration.memoryLimit,
            package: "poppler-utils"
        ).run()
        let image = "\(base).tif"
        defer { try? FileManager.default.removeItem(atPath: folder.file(image)) }
        guard status == 0, let (width, height) = Self.tiffSize(atPath: folder.file(image)) else {
            throw ProviderError(.unreadableDocument, "page \(page) of the PDF cannot be rasterised for OCR")
        }
        // The resolution was chosen from the page size; a page whose drawing is larger than its
        // declared size is still refused here, before tesseract decodes it.
        guard width.multipliedReportingOverflow(by: height).partialValue <= configuration.maximumPixels else {
            throw ProviderError(
                .unreadableDocument, "page \(page) of the PDF is \(width) × \(height) pixels at \(dpi) dpi; at most \(configuration.maximumPixels) are read")
        }
        return try await readImage(named: image, in: folder, subject: "page \(page) of the PDF", dpi: dpi)
    }

    /// Width and height of the first directory of the TIFF at `path` (which pdftocairo writes),
    /// read without loading the pixels: the header's directory offset, then its size tags.
    static func tiffSize(atPath path: String) -> (Int, Int)? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 8), head.count == 8 else { return nil }
        let header = [UInt8](head)
        guard ImageHeader.format(of: header) == .tiff else { return nil }
        let little = header[0] == 0x49
        func u16(_ b: [UInt8], _ at: Int) -> Int { little ? Int(b[at]) | Int(b[at + 1]) << 8 : Int(b[at]) << 8 | Int(b[at + 1]) }
        func u32(_ b: [UInt8], _ at: Int) -> Int { little ? u16(b, at) | u16(b, at + 2) << 16 : u16(b, at) << 16 | u16(b, at + 2) }
        let offset = u32(header, 4)
        guard (try? handle.seek(toOffset: UInt64(offset))) != nil, let countData = try? handle.read(upToCount: 2), countData.count == 2 else { return nil }
        let count = u16([UInt8](countData), 0)
        guard count > 0, count < 4096, let entries = try? handle.read(upToCount: count * 12), entries.count == count * 12 else { return nil }
        let bytes = [UInt8](entries)
        var width = 0, height = 0
        for entry in 0..<count {
            let tag = u16(bytes, entry * 12), type = u16(bytes, entry * 12 + 2)
            guard tag == 256 || tag == 257 else { continue }
            let value = type == 3 ? u16(bytes, entry * 12 + 8) : u32(bytes, entry * 12 + 8)
            if tag == 256 { width = value } else { height = value }
        }
        return width > 0 && height > 0 ? (width, height) : nil
    }
}

/// A PDF page's size in points (1/72 inch), as `pdfinfo` reports it, and the resolution of its
/// largest picture, as `pdfimages -list` reports it.
struct PDFPageSize: Sendable, Hashable {
    var width: Double
    var height: Double
    /// The larger of the x and y resolution of the page's largest picture, if it has one.
    var scanResolution: Int?

    /// `preferred`, or the highest lower resolution at which the page has at most `maximumPixels`
    /// (at least 1 dpi).
    func dpi(preferred: Int, maximumPixels: Int) -> Int {
        let squareInches = max(width, 1) / 72 * max(height, 1) / 72
        let limit = (Double(maximumPixels) / squareInches).squareRoot().rounded(.down)
        return max(1, min(preferred, limit.isFinite ? Int(min(limit, 10_000)) : preferred))
    }

    /// The sizes of `pdfinfo -f 1 -l N` output's `Page    k size:  W x H pts` lines, by page number.
    static func parse(pdfinfo output: String) -> [Int: PDFPageSize] {
        var sizes: [Int: PDFPageSize] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("Page ") && line.contains(" size:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 6, let page = Int(fields[1]), let width = Double(fields[3]), fields[4] == "x",
                  let height = Double(fields[5]), width > 0, height > 0 else { continue }
            sizes[page] = PDFPageSize(width: width, height: height)
        }
        return sizes
    }

    /// The resolution of each page's largest picture from `pdfimages -list` output
    /// (`page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio`).
    static func parse(pdfimages output: String) -> [Int: Int] {
        var best: [Int: (pixels: Int, ppi: Int)] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 14, let page = Int(fields[0]), fields[2] == "image", let width = Int(fields[3]), let height = Int(fields[4]),
                  let x = Int(fields[12]), let y = Int(fields[13]), x > 0, y > 0 else { continue }
            let pixels = width.multipliedReportingOverflow(by: height).partialValue
            if pixels > best[page]?.pixels ?? 0 { best[page] = (pixels, max(x, y)) }
        }
        return best.mapValues(\.ppi)
    }
}
