import Foundation
import Logging
import Providers

/// Settings for ``LocalExtractor``.
public struct LocalExtractorConfiguration: Sendable {
    /// The longest text returned, in characters; longer text is cut. Default: 200 000.
    public var maximumCharacters: Int
    /// How long `pdftotext` may run before it is killed. Default: 30 s.
    public var pdfTimeout: Duration
    /// The `pdftotext` executable: a name looked up on `PATH` or an absolute path. Default: `pdftotext`.
    public var pdftotextPath: String
    /// Only the first pages of a PDF are read (`pdftotext -l`). Default: 50.
    public var maximumPDFPages: Int
    /// OCR of images and of PDF pages without a text layer. Default: ``OCRConfiguration/init(isEnabled:tesseractPath:pdftocairoPath:pdfinfoPath:pdfimagesPath:languages:dpi:pageTimeout:maximumPixels:memoryLimit:)``.
    public var ocr: OCRConfiguration
    /// Caps for the DOCX's ZIP container; `maximumEntrySize` bounds `word/document.xml`.
    /// Default: ``ZipArchive/Limits/init(maximumEntrySize:maximumEntryCount:)`` (32 MiB, 10 000 entries).
    public var zipLimits: ZipArchive.Limits
    /// Where the PDF's scratch folder is made (mode 0700, removed afterwards). Default: the system temporary directory.
    public var temporaryDirectory: String

    /// Creates a configuration with the documented defaults.
    public init(
        maximumCharacters: Int = 200_000,
        pdfTimeout: Duration = .seconds(30),
        pdftotextPath: String = "pdftotext",
        maximumPDFPages: Int = 50,
        ocr: OCRConfiguration = OCRConfiguration(),
        zipLimits: ZipArchive.Limits = ZipArchive.Limits(),
        temporaryDirectory: String = FileManager.default.temporaryDirectory.path
    ) {
        self.maximumCharacters = maximumCharacters
        self.pdfTimeout = pdfTimeout
        self.pdftotextPath = pdftotextPath
        self.maximumPDFPages = maximumPDFPages
        self.ocr = ocr
        self.zipLimits = zipLimits
        self.temporaryDirectory = temporaryDirectory
    }
}

/// Extracts text on this machine: PDF through poppler's `pdftotext`, DOCX by reading
/// `word/document.xml` from the ZIP, TXT as UTF-8 (Windows-1252 as a fallback), PNG/JPEG/TIFF
/// images and the PDF pages without a text layer through `tesseract` (``OCRConfiguration``).
///
/// The declared ``StoredDocument/kind`` is checked against the bytes: `%PDF-`, a ZIP signature
/// and an image signature win over the declaration, legacy `.doc` files are refused. PDFs are read
/// in `pdftotext`'s default mode, which reads a two-column page one column after the other
/// (`-layout` would mix the columns on each row); a page with no text layer is rasterised by
/// `pdftocairo` and read by OCR, in its place among the others. An image's header is checked against
/// the pixel cap before anything decodes it.
/// The text is normalised (line ends, blank-line runs, trailing spaces) and capped at
/// ``LocalExtractorConfiguration/maximumCharacters``.
public struct LocalExtractor: TextExtractor {
    /// `local`.
    public let name = "local"
    private let configuration: LocalExtractorConfiguration
    private let logger: Logger

    /// Creates an extractor.
    public init(configuration: LocalExtractorConfiguration = LocalExtractorConfiguration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Reads the document from its storage and returns its text.
    ///
    /// Errors: ``ProviderError/Code/noText`` (empty file, image-only PDF, document without text),
    /// ``ProviderError/Code/unreadableDocument`` (corrupt, encrypted, wrong format),
    /// ``ProviderError/Code/timeout`` (non-transient: a tool ran too long), and whatever
    /// the storage throws.
    public func extractText(from document: StoredDocument) async throws(ProviderError) -> String {
        let data = try await document.storage.get(key: document.key)
        return try await extractText(from: Array(data), declaredKind: document.kind)
    }

    /// The text of `bytes`, which were uploaded as `declaredKind`.
    public func extractText(from bytes: [UInt8], declaredKind: DocumentKind) async throws(ProviderError) -> String {
        guard !bytes.isEmpty else { throw ProviderError(.noText, "the document is empty") }
        let kind = try Self.effectiveKind(of: bytes, declared: declaredKind)
        if kind != declaredKind {
            logger.debug("document bytes differ from the declared kind", metadata: [
                "document.declared_kind": "\(declaredKind.rawValue)", "document.kind": "\(kind.rawValue)",
            ])
        }
        let raw: String
        var scannedPages = 0
        switch kind {
        case .pdf: (raw, scannedPages) = try await PDFTextReader(configuration: configuration, logger: logger).text(of: bytes)
        case .docx: raw = try docxText(bytes)
        case .txt: raw = try Self.plainText(bytes)
        case .png, .jpeg, .tiff: raw = try await imageText(bytes)
        }
        let text = TextNormalizer.normalize(raw, maximumCharacters: configuration.maximumCharacters)
        guard !text.isEmpty else {
            switch kind {
            case .pdf where scannedPages > 0 && !configuration.ocr.isEnabled:
                throw ProviderError(.noText, "the PDF has no text layer (scanned/image-only) and OCR is turned off")
            case .pdf where scannedPages > 0: throw ProviderError(.noText, "the PDF has no text layer and OCR found no text on its pages")
            case .pdf: throw ProviderError(.noText, "the PDF contains no text")
            case .docx: throw ProviderError(.noText, "the DOCX contains no text")
            case .txt: throw ProviderError(.noText, "the text file contains only whitespace")
            case .png, .jpeg, .tiff: throw ProviderError(.noText, "OCR found no text in the \(kind.rawValue.uppercased()) image")
            }
        }
        return text
    }

    /// The kind the bytes really are: magic bytes first, the declaration for text.
    static func effectiveKind(of bytes: [UInt8], declared: DocumentKind) throws(ProviderError) -> DocumentKind {
        if bytes.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .docx }
        if let format = ImageHeader.format(of: Array(bytes.prefix(8))) { return DocumentKind(format) }
        if bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            throw ProviderError(.unreadableDocument, "legacy Word (.doc) and other OLE files are not supported; upload PDF, DOCX, TXT or an image")
        }
        switch declared {
        case .pdf: throw ProviderError(.unreadableDocument, "the file is not a PDF (it does not start with %PDF-)")
        case .docx: throw ProviderError(.unreadableDocument, "the file is not a DOCX (it is not a ZIP archive)")
        case .png, .jpeg, .tiff: throw ProviderError(.unreadableDocument, "the file is not a \(declared.rawValue.uppercased()) image (its magic bytes do not match)")
        case .txt: return .txt
        }
    }

    /// The resolution a PDF page of `width` × `height` points is rasterised at for OCR:
    /// `preferred`, lowered until the page has at most `maximumPixels` (at least 1 dpi).
    public static func rasterResolution(width: Double, height: Double, preferred: Int, maximumPixels: Int) -> Int {
        PDFPageSize(width: width, height: height).dpi(preferred: preferred, maximumPixels: maximumPixels)
    }

    // MARK: Images

    /// OCR of an uploaded image: the header is checked against the pixel cap before tesseract
    /// decodes anything (a multi-page TIFF: every page, and at most the PDF page cap of pages).
    private func imageText(_ bytes: [UInt8]) async throws(ProviderError) -> String {
        let header: ImageHeader
        do {
            header = try ImageHeader.read(bytes, maximumPixels: configuration.ocr.maximumPixels)
        } catch {
            throw ProviderError(.unreadableDocument, "the image cannot be read: \(error.message)")
        }
        guard header.pages <= max(1, configuration.maximumPDFPages) else {
            throw ProviderError(.unreadableDocument, "the TIFF image has \(header.pages) pages; at most \(configuration.maximumPDFPages) are read")
        }
        guard configuration.ocr.isEnabled else {
            throw ProviderError(.noText, "the document is an image and OCR is turned off")
        }
        let folder = try ScratchFolder(in: configuration.temporaryDirectory, prefix: "resume-image")
        defer { folder.remove() }
        let name = "in.\(header.format.rawValue)"
        try folder.write(name, bytes)
        let reader = OCRReader(configuration: configuration.ocr, outputLimit: configuration.maximumCharacters * 4 + 4, logger: logger)
        return try await reader.readImage(named: name, in: folder, subject: "the \(header.format.rawValue.uppercased()) image", pages: header.pages)
    }

    // MARK: DOCX

    private func docxText(_ bytes: [UInt8]) throws(ProviderError) -> String {
        let xml: [UInt8]
        do {
            let archive = try ZipArchive(bytes, limits: configuration.zipLimits)
            guard archive.entry(named: "word/document.xml") != nil else {
                throw ProviderError(.unreadableDocument, "the ZIP archive is not a DOCX (no word/document.xml)")
            }
            xml = try archive.contents(ofEntryNamed: "word/document.xml")
        } catch let error as ProviderError {
            throw error
        } catch let error as ZipError {
            throw ProviderError(.unreadableDocument, "the DOCX cannot be read: \(error.message)")
        } catch {
            throw ProviderError(.unreadableDocument, "the DOCX cannot be read")
        }
        return try WordprocessingText.text(of: xml)
    }

    // MARK: TXT

    /// Decodes a text file: UTF-8 (BOM removed), UTF-16 with a BOM, else Windows-1252.
    static func plainText(_ bytes: [UInt8]) throws(ProviderError) -> String {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            return String(decoding: bytes.dropFirst(3), as: UTF8.self)
        }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            let bigEndian = bytes[0] == 0xFE
            var units: [UInt16] = []
            units.reserveCapacity(bytes.count / 2)
            var index = 2
            while index + 1 < bytes.count {
                let (high, low) = bigEndian ? (bytes[index], bytes[index + 1]) : (bytes[index + 1], bytes[index])
                units.append(UInt16(high) << 8 | UInt16(low))
                index += 2
            }
            return String(decoding: units, as: UTF16.self)
        }
        guard !bytes.contains(0) else {
            throw ProviderError(.unreadableDocument, "the file is binary, not text (it contains NUL bytes)")
        }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return windows1252(bytes)
    }

    /// Windows-1252: Latin-1 except for 0x80–0x9F, which hold typographic characters (€, –, —, ’, …).
    static func windows1252(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(bytes.count)
        for byte in bytes {
            if (0x80...0x9F).contains(byte) {
                let value = cp1252High[Int(byte - 0x80)]
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            } else {
                scalars.append(Unicode.Scalar(byte))
            }
        }
        return String(scalars)
    }

    /// 0x80…0x9F in Windows-1252; the five undefined bytes map to themselves (as Python's
    /// `cp1252` would refuse them, we keep them as C1 controls, which normalisation removes).
    private static let cp1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]
}

/// Whitespace normalisation shared by the extractors.
enum TextNormalizer {
    /// `\r\n`/`\r`/form feeds become `\n`, other control characters (except tab) and trailing
    /// spaces go, no-break spaces become spaces, runs of blank lines become one, and the result is
    /// trimmed and cut to `maximumCharacters`.
    static func normalize(_ text: String, maximumCharacters: Int) -> String {
        var current = String.UnicodeScalarView()
        var output = String.UnicodeScalarView()
        var blankRun = 0
        var characters = 0
        func flushLine() {
            // Trim trailing spaces and tabs.
            while let last = current.last, last == " " || last == "\t" { current.removeLast() }
            if current.isEmpty {
                blankRun += 1
            } else {
                if !output.isEmpty { output.append(contentsOf: blankRun > 0 ? "\n\n".unicodeScalars : "\n".unicodeScalars) }
                output.append(contentsOf: current)
                blankRun = 0
            }
            current.removeAll(keepingCapacity: true)
        }
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if characters > maximumCharacters * 2 + 1024 { break }  // enough input for the cap
            characters += 1
            switch scalar {
            case "\r":
                flushLine()
                previousWasCR = true
                continue
            case "\n":
                if !previousWasCR { flushLine() }
            case "\u{0C}", "\u{0B}", "\u{2028}", "\u{2029}", "\u{85}":
                flushLine()
            case "\t":
                current.append(scalar)
            case "\u{A0}", "\u{2007}", "\u{202F}":
                current.append(" ")
            case "\u{FEFF}", "\u{200B}", "\u{AD}":
                break  // BOM/zero-width space/soft hyphen
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) { break }
                current.append(scalar)
            }
            previousWasCR = false
        }
        flushLine()
        var result = String(output)
        if result.count > maximumCharacters {
            result = String(result.prefix(maximumCharacters))
            while let last = result.last, last.isWhitespace { result.removeLast() }
        }
        // Leading spaces of the first line (e.g. a centred title) are not meaningful.
        return String(result.drop { $0 == " " || $0 == "\t" })
    }
}
