import Foundation
import Logging
import Providers

/// A PDF's text: `pdftotext` for every page (up to the page cap), then OCR for the pages whose
/// text layer holds fewer than ``minimumCharacters`` letters or digits (scanned pages), each
/// page's text in page order.
struct PDFTextReader {
    let configuration: LocalExtractorConfiguration
    let logger: Logger

    /// A page with fewer letters and digits than this in its text layer is read by OCR: 3, so a
    /// scanned page that only carries a stamped page number is read too.
    static let minimumCharacters = 3

    /// The text of `bytes`, and whether any page needed OCR (for the no-text message).
    func text(of bytes: [UInt8]) async throws(ProviderError) -> (text: String, scannedPages: Int) {
        let folder = try ScratchFolder(in: configuration.temporaryDirectory, prefix: "resume-pdf")
        defer { folder.remove() }
        try folder.write("in.pdf", bytes)
        let limit = configuration.maximumCharacters * 4 + 4
        let pageCap = max(1, configuration.maximumPDFPages)
        _ = try await ToolRun(
            tool: "pdftotext", executable: configuration.pdftotextPath,
            arguments: ["-enc", "UTF-8", "-eol", "unix", "-l", "\(pageCap)", "-q", "in.pdf", "out.txt"],
            directory: folder.path, timeout: configuration.pdfTimeout, subject: "the PDF", package: "poppler-utils"
        ).run()
        // pdftotext opens its output file only after it has parsed the PDF, so a missing output
        // file means it could not read the document (exit status 1 or 3). `-q` keeps its log empty.
        guard let raw = ToolRun.readText(at: folder.file("out.txt"), limit: limit) else {
            throw ProviderError(.unreadableDocument, "the PDF is corrupt, encrypted or not a PDF (pdftotext could not open it)")
        }
        // pdftotext ends every page with a form feed.
        var pages = raw.split(separator: "\u{0C}", omittingEmptySubsequences: false).map(String.init)
        if pages.count > 1, pages.last?.allSatisfy(\.isWhitespace) == true { pages.removeLast() }
        // Output cut at the byte cap: the pages after the cut are not OCR'd either.
        let complete = raw.utf8.count < limit
        let scanned = pages.indices.filter { !Self.hasText(pages[$0]) && (complete || $0 < pages.count - 1) }
        guard configuration.ocr.isEnabled, !scanned.isEmpty else { return (pages.joined(separator: "\n"), scanned.count) }

        let sizes = try await pageSizes(in: folder, pages: scanned.last! + 1)
        let reader = OCRReader(configuration: configuration.ocr, outputLimit: limit, logger: logger)
        for index in scanned {
            let size = sizes[index + 1] ?? PDFPageSize(width: 612, height: 792)
            pages[index] = try await reader.readPDFPage(index + 1, size: size, in: folder)
        }
        return (pages.joined(separator: "\n"), scanned.count)
    }

    /// Whether a page's text layer has at least ``minimumCharacters`` letters or digits.
    static func hasText(_ page: String) -> Bool {
        var count = 0
        for scalar in page.unicodeScalars where scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
            count += 1
            if count >= minimumCharacters { return true }
        }
        return false
    }

    /// Page sizes from `pdfinfo` and picture resolutions from `pdfimages` for pages 1…`pages`; a
    /// page pdfinfo does not report is read as US letter.
    private func pageSizes(in folder: ScratchFolder, pages: Int) async throws(ProviderError) -> [Int: PDFPageSize] {
        let status = try await ToolRun(
            tool: "pdfinfo", executable: configuration.ocr.pdfinfoPath, arguments: ["-f", "1", "-l", "\(pages)", "in.pdf"],
            directory: folder.path, timeout: configuration.pdfTimeout, subject: "the PDF", package: "poppler-utils"
        ).run()
        guard status == 0, let output = ToolRun.readText(at: folder.file("pdfinfo.log"), limit: 1 << 20) else {
            throw ProviderError(.unreadableDocument, "the PDF's page sizes cannot be read (pdfinfo could not open it)")
        }
        var sizes = PDFPageSize.parse(pdfinfo: output)
        // The pictures' resolutions only refine the choice: without them the configured one is used.
        let listed = try await ToolRun(
            tool: "pdfimages", executable: configuration.ocr.pdfimagesPath, arguments: ["-list", "-f", "1", "-l", "\(pages)", "in.pdf"],
            directory: folder.path, timeout: configuration.pdfTimeout, subject: "the PDF", package: "poppler-utils"
        ).run()
        if listed == 0, let list = ToolRun.readText(at: folder.file("pdfimages.log"), limit: 1 << 20) {
            for (page, ppi) in PDFPageSize.parse(pdfimages: list) { sizes[page]?.scanResolution = ppi }
        }
        return sizes
    }
}
