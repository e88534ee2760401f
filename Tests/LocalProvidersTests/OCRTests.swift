import Foundation
import LocalProviders
import Providers
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Local OCR on scans made at test time (``ScanFactory``): real poppler tools and `tesseract`.
@Suite("Local OCR")
struct OCRTests {
    let extractor = LocalExtractor(logger: TestEnvironment.logger)

    private func extract(_ bytes: [UInt8], as kind: DocumentKind, with extractor: LocalExtractor? = nil) async throws(ProviderError) -> String {
        try await extractText(bytes, as: kind, with: extractor ?? self.extractor)
    }

    private func error(_ bytes: [UInt8], as kind: DocumentKind, with extractor: LocalExtractor? = nil) async -> ProviderError? {
        await extractionError(bytes, as: kind, with: extractor ?? self.extractor)
    }

    private func extractor(_ change: (inout OCRConfiguration) -> Void) -> LocalExtractor {
        var ocr = OCRConfiguration()
        change(&ocr)
        return LocalExtractor(configuration: LocalExtractorConfiguration(ocr: ocr), logger: TestEnvironment.logger)
    }

    @Test(arguments: ScanFactory.Format.allCases)
    func scannedImagesAreRead(_ format: ScanFactory.Format) async throws {
        let bytes = try ScanFactory.scan(format)
        let kind = try #require(DocumentKind.detect(prefix: bytes.prefix(8192)))
        #expect(kind.rawValue == format.rawValue)
        let text = try await extract(bytes, as: kind)
        let recall = ScanFactory.wordRecall(of: ScanFactory.resumeLines, in: text)
        #expect(recall >= 0.95, "\(format): \(Int(recall * 100)) % of the words in \(text.debugDescription)")
        #expect(!text.contains("\u{0C}") && !text.contains("\n\n\n"))
    }

    @Test func imageOnlyPDFIsReadByOCR() async throws {
        let pdf = try ScanFactory.pdf([.scanned(ScanFactory.resumeLines)])
        #expect(DocumentKind.detect(prefix: pdf.prefix(8192)) == .pdf)
        let text = try await extract(pdf, as: .pdf)
        let recall = ScanFactory.wordRecall(of: ScanFactory.resumeLines, in: text)
        #expect(recall >= 0.95, "\(Int(recall * 100)) % of the words in \(text.debugDescription)")
    }

    @Test func mixedPDFKeepsTextPagesAndReadsScannedOnesInPageOrder() async throws {
        let first = ["Profile page one", "Typed text layer: Kubernetes and Terraform since 2017."]
        let scanned = ["Scanned page two", "References available from Dr. Ingrid Novak, Oslo."]
        let third = ["Closing page three", "Typed again: hobbies are sailing and chess."]
        let pdf = try ScanFactory.pdf([.text(first), .scanned(scanned), .text(third)])
        let text = try await extract(pdf, as: .pdf)
        // The text layers come through exactly, as pdftotext reads them.
        for line in first + third { #expect(text.contains(line), "missing \(line.debugDescription) in \(text.debugDescription)") }
        #expect(ScanFactory.wordRecall(of: scanned, in: text) >= 0.95, "\(text.debugDescription)")
        let positions = ["Profile page one", "Scanned page two", "Closing page three"].map { text.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
    }

    @Test func hugeImageHeaderIsRefusedBeforeAnythingDecodes() async throws {
        let (script, marker, directory) = try await standInTesseract(body: "touch \(FileManager.default.temporaryDirectory.path)/never")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let guarded = extractor { $0.tesseractPath = script }
        let failure = await error(ScanFactory.pngHeader(width: 20_000, height: 20_000), as: .png, with: guarded)
        #expect(failure?.code == .unreadableDocument)
        #expect(failure?.message.contains("20000 × 20000") == true, "\(String(describing: failure))")
        #expect(failure?.isTransient == false)
        #expect(!FileManager.default.fileExists(atPath: marker), "tesseract was started")
        // The cap is a setting: a small one refuses an ordinary scan the same way.
        let strict = extractor { $0.maximumPixels = 1_000_000 }
        #expect(await error(try ScanFactory.scan(.png), as: .png, with: strict)?.message.contains("at most 1000000") == true)
    }

    @Test func truncatedJPEGFailsWithAReason() async throws {
        let jpeg = try ScanFactory.scan(.jpeg)
        let failure = await error(Array(jpeg.prefix(jpeg.count * 6 / 10)), as: .jpeg)
        #expect(failure?.code == .unreadableDocument)
        #expect(failure?.message == "the JPEG image is truncated or corrupt (tesseract could not decode it)")
        #expect(failure?.isTransient == false)
        // Cut inside the header: the header reader says where.
        let header = await error(Array(jpeg.prefix(40)), as: .jpeg)
        #expect(header?.code == .unreadableDocument)
        #expect(header?.message.hasPrefix("the image cannot be read: the JPEG file ends") == true, "\(String(describing: header))")
    }

    @Test func undecodableTIFFNamesNoOtherFile() async throws {
        // A TIFF directory with a size but no strips: libtiff refuses it, and tesseract then reads
        // the file as a list of image names. Its first line can only name a file in the scratch folder.
        var tiff: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0, 2, 0]
        tiff += [0x00, 0x01, 4, 0, 1, 0, 0, 0, 100, 0, 0, 0] + [0x01, 0x01, 4, 0, 1, 0, 0, 0, 100, 0, 0, 0] + [0, 0, 0, 0]
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString).png").path
        try Data(try ScanFactory.scan(.png, lines: ["Confidential salary list"])).write(to: URL(fileURLWithPath: secret))
        defer { try? FileManager.default.removeItem(atPath: secret) }
        tiff += Array("\n\(secret)\n".utf8)
        let failure = await error(tiff, as: .tiff)
        #expect(failure?.code == .unreadableDocument, "\(String(describing: failure))")
        #expect(failure?.message.contains("Confidential") == false)
    }

    @Test func blankScanHasNoText() async throws {
        let blank = try ScanFactory.rasterise(ScanFactory.drawnPage(lines: [], specks: 0), as: .png)
        let failure = await error(blank, as: .png)
        #expect(failure?.code == .noText)
        #expect(failure?.message == "OCR found no text in the PNG image")
        let pdf = try ScanFactory.pdf([.scanned([])])
        #expect(await error(pdf, as: .pdf)?.message == "the PDF has no text layer and OCR found no text on its pages")
    }

    @Test func withOCRTurnedOffScansSayWhy() async throws {
        let off = extractor { $0.isEnabled = false }
        let pdf = await error(ResumeFixtures.bytes("tom_becker_scanned.pdf"), as: .pdf, with: off)
        #expect(pdf?.code == .noText)
        #expect(pdf?.message == "the PDF has no text layer (scanned/image-only) and OCR is turned off")
        #expect(await error(try ScanFactory.scan(.png), as: .png, with: off)?.message == "the document is an image and OCR is turned off")
    }

    @Test func missingLanguageDataIsAConfigurationError() async throws {
        let scan = try ScanFactory.scan(.png)
        let failure = await error(scan, as: .png, with: extractor { $0.languages = "qqq" })
        #expect(failure?.code == .configuration)
        #expect(failure?.message.contains("qqq") == true)
        #expect(failure?.isTransient == false)
        // With one of two missing, the page is read with the other (and a warning is logged).
        let text = try await extract(scan, as: .png, with: extractor { $0.languages = "eng+qqq" })
        #expect(ScanFactory.wordRecall(of: ScanFactory.resumeLines, in: text) >= 0.9)
        let probe = await OCRProbe.run(OCRConfiguration(languages: "eng+qqq"))
        #expect(!probe.isAvailable && probe.summary.contains("tesseract-ocr-qqq"), "\(probe.summary)")
        let good = await OCRProbe.run(OCRConfiguration())
        #expect(good.isAvailable && good.summary.hasPrefix("ocr: tesseract 5"), "\(good.summary)")
        #expect(OCRConfiguration.isValidLanguageList("eng+deu+fra+spa"))
        #expect(!OCRConfiguration.isValidLanguageList("eng+-c") && !OCRConfiguration.isValidLanguageList("") && !OCRConfiguration.isValidLanguageList("eng+"))
    }

    @Test func hangingTesseractIsKilledAtTheTimeout() async throws {
        let (script, pidFile, directory) = try await standInTesseract(body: "echo $$ > PIDFILE\nexec sleep 600")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let slow = extractor {
            $0.tesseractPath = script
            $0.pageTimeout = .seconds(3)
        }
        let started = ContinuousClock.now
        let failure = await error(try ScanFactory.scan(.png), as: .png, with: slow)
        #expect(failure?.code == .timeout)
        #expect(failure?.isTransient == false)
        #expect(failure?.message == "tesseract did not finish within 3.0 seconds; the image may be hostile")
        #expect(ContinuousClock.now - started < .seconds(120))  // not the script's 600 s; generous under load
        let child = try #require((try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        try await waitUntil(.seconds(60), "the hung tesseract is gone") { kill(child, 0) != 0 }
    }

    @Test func pageResolutionKeepsPagesWithinThePixelCap() {
        // Letter at 300 dpi is 8.4 MP: unchanged. A 200 × 200 inch page drops to 35 dpi (49 MP).
        let letter = OCRTests.dpi(width: 612, height: 792, preferred: 300, cap: 50_000_000)
        #expect(letter == 300)
        let poster = OCRTests.dpi(width: 14_400, height: 14_400, preferred: 300, cap: 50_000_000)
        #expect(poster == 35)
        #expect(OCRTests.dpi(width: 1e9, height: 1e9, preferred: 300, cap: 50_000_000) == 1)
    }

    /// The resolution the extractor rasterises a page of `width` × `height` points at.
    static func dpi(width: Double, height: Double, preferred: Int, cap: Int) -> Int {
        LocalExtractor.rasterResolution(width: width, height: height, preferred: preferred, maximumPixels: cap)
    }

    /// A stand-in `tesseract` whose body runs with `PIDFILE` replaced by a file path it returns.
    private func standInTesseract(body: String) async throws -> (script: String, file: String, directory: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tess-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = "\(directory)/tesseract", file = "\(directory)/marker"
        let text = "#!/bin/sh\n[ \"$1\" = --probe ] && exit 0\n" + body.replacingOccurrences(of: "PIDFILE", with: file)
            .replacingOccurrences(of: "\(FileManager.default.temporaryDirectory.path)/never", with: file) + "\n"
        try text.write(toFile: script, atomically: false, encoding: .utf8)
        chmod(script, 0o755)
        try await waitUntil(.seconds(30), "the stand-in tesseract can run") { (try? ChildProcess.run(script, ["--probe"]))?.status == 0 }
        return (script, file, directory)
    }
}
