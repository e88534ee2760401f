import ArgumentParser
import ClientSupport
import Foundation
import LocalProviders
import Logging
import ProcessSupport
import Providers

/// `bench ocr`: pages per second of local OCR through the extractor (header check, scratch folder,
/// `prlimit`, tesseract, output read and normalised) against `tesseract` alone on the same pages,
/// and the same for a scanned PDF (pdftotext, pdfinfo, pdfimages, pdftocairo, tesseract) against
/// pdftocairo and tesseract alone on its page.
struct OCRBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocr",
        abstract: "Local OCR pages/s through the extractor vs tesseract alone on the same pages (overhead goal: at most 10 %)."
    )

    @Option(help: "Alternating rounds; medians are reported.") var rounds = 3
    @Option(help: "Tesseract languages, as OCR_LANGUAGES.") var languages = OCRConfiguration.defaultLanguages

    /// Fixture pages rendered as 300 dpi grey PNG photos of the page (what a phone scan app
    /// uploads), plus the scanned fixture PDF.
    func pages(in directory: String) throws -> [String] {
        var pages: [String] = []
        for name in ["alice_chen.pdf", "marcus_okafor_two_column.pdf", "priya_raman_three_pages.pdf"] {
            let base = "\(directory)/\(name.replacingOccurrences(of: ".pdf", with: ""))"
            let result = try ChildProcess.run("pdftocairo", ["-gray", "-r", "300", "-png", "Fixtures/resumes/\(name)", base])
            guard result.status == 0 else { throw ValidationError("pdftocairo could not render \(name): run from the repository root") }
        }
        pages = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".png") }.sorted().map { "\(directory)/\($0)" }
        guard !pages.isEmpty else { throw ValidationError("no pages rendered") }
        return pages
    }

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-ocr-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        setenv("OMP_THREAD_LIMIT", "1", 1)
        let pages = try self.pages(in: directory)
        let scanned = try Array(Data(contentsOf: URL(fileURLWithPath: "Fixtures/resumes/tom_becker_scanned.pdf")))
        let extractor = LocalExtractor(
            configuration: LocalExtractorConfiguration(ocr: OCRConfiguration(languages: languages)), logger: Logger(label: "bench.ocr"))
        let images = try pages.map { try Array(Data(contentsOf: URL(fileURLWithPath: $0))) }

        print("OCR benchmark: tesseract \(languages), 1 thread (OMP_THREAD_LIMIT=1), \(rounds) rounds alternating (medians)")
        print("")
        print(pad("case", 30) + pad("pages", 7) + pad("extractor pages/s", 19) + pad("tools alone pages/s", 21) + "overhead")
        var extractorTimes: [Double] = [], aloneTimes: [Double] = [], pdfTimes: [Double] = [], pdfAloneTimes: [Double] = []
        let clock = ContinuousClock()
        _ = try await extractor.extractText(from: images[0], declaredKind: .png)  // warm the page cache
        for _ in 0..<rounds {
            var start = clock.now
            for image in images { _ = try await extractor.extractText(from: image, declaredKind: .png) }
            extractorTimes.append((clock.now - start).seconds)
            start = clock.now
            for page in pages { try tesseract(page, in: directory) }
            aloneTimes.append((clock.now - start).seconds)
            start = clock.now
            _ = try await extractor.extractText(from: scanned, declaredKind: .pdf)
            pdfTimes.append((clock.now - start).seconds)
            start = clock.now
            try rasterise(directory)
            try tesseract("\(directory)/scanned.tif", in: directory, dpi: 185)
            pdfAloneTimes.append((clock.now - start).seconds)
        }
        func row(_ name: String, _ count: Int, _ ours: [Double], _ alone: [Double]) {
            let o = median(ours), t = median(alone)
            print(pad(name, 30) + pad("\(count)", 7) + pad(String(format: "%.3f", Double(count) / o), 19) + pad(String(format: "%.3f", Double(count) / t), 21)
                + String(format: "%+.1f %%", (o / t - 1) * 100))
        }
        row("PNG page photos (300 dpi)", images.count, extractorTimes, aloneTimes)
        row("scanned PDF page (185 dpi)", 1, pdfTimes, pdfAloneTimes)
        print("")
        print("tools alone: tesseract on the PNG; pdftocairo then tesseract for the PDF page")
    }

    /// The scanned PDF's page as the extractor rasterises it (at its picture's own 185 dpi): the
    /// least any OCR of a PDF page must do before tesseract.
    private func rasterise(_ directory: String) throws {
        let arguments = ["-gray", "-r", "185", "-singlefile", "-tiff", "-tiffcompression", "none", "Fixtures/resumes/tom_becker_scanned.pdf", "\(directory)/scanned"]
        guard try ChildProcess.run("pdftocairo", arguments).status == 0 else { throw ValidationError("pdftocairo failed") }
    }

    /// `tesseract page out -l languages` as the extractor runs it (OMP_THREAD_LIMIT=1 is set for
    /// the whole bench), with nothing around it: spawn, wait, done.
    private func tesseract(_ page: String, in directory: String, dpi: Int? = nil) throws {
        let arguments = [page, "\(directory)/alone", "-l", languages] + (dpi.map { ["--dpi", "\($0)"] } ?? [])
        guard try ChildProcess.run("tesseract", arguments).status == 0 else { throw ValidationError("tesseract failed on \(page)") }
    }
}
