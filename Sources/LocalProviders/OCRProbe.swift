import Foundation
import ProcessSupport
import Providers

/// Whether local OCR can run as configured: `tesseract` and `pdftocairo` on `PATH` and every
/// language of ``OCRConfiguration/languages`` installed — what `worker check` prints.
public struct OCRProbe: Sendable, Hashable {
    /// Whether scans and images can be read.
    public var isAvailable: Bool
    /// One line for `check`: the tesseract version and languages, or what is missing and how to
    /// install it.
    public var summary: String

    /// Runs `tesseract --version` and `tesseract --list-langs` (each bounded by 10 s).
    public static func run(_ configuration: OCRConfiguration, temporaryDirectory: String = FileManager.default.temporaryDirectory.path) async -> OCRProbe {
        guard configuration.isEnabled else { return OCRProbe(isAvailable: false, summary: "ocr: turned off; scanned PDF pages and images fail with no_text") }
        let wanted = configuration.languages.split(separator: "+").map(String.init)
        guard (try? ChildProcess.resolve(configuration.pdftocairoPath)) != nil else {
            return OCRProbe(isAvailable: false, summary: "ocr: WARNING: \(configuration.pdftocairoPath) not found (install poppler-utils)")
        }
        do {
            let folder = try ScratchFolder(in: temporaryDirectory, prefix: "ocr-probe")
            defer { folder.remove() }
            func output(_ arguments: [String]) async throws(ProviderError) -> String {
                _ = try await ToolRun(
                    tool: "tesseract", executable: configuration.tesseractPath, arguments: arguments, directory: folder.path,
                    timeout: .seconds(10), subject: "the probe", package: "tesseract-ocr"
                ).run()
                defer { try? FileManager.default.removeItem(atPath: folder.file("tesseract.log")) }
                return ToolRun.readText(at: folder.file("tesseract.log"), limit: 1 << 16) ?? ""
            }
            let version = try await output(["--version"]).split(separator: "\n").first.map(String.init) ?? "tesseract"
            let installed = Set(try await output(["--list-langs"]).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
            let missing = wanted.filter { !installed.contains($0) }
            guard missing.isEmpty else {
                return OCRProbe(
                    isAvailable: false,
                    summary: "ocr: WARNING: \(version) lacks the language data \(missing.joined(separator: ", ")) "
                        + "(install \(missing.map { "tesseract-ocr-\($0)" }.joined(separator: " ")), or set OCR_LANGUAGES)")
            }
            return OCRProbe(isAvailable: true, summary: "ocr: \(version) with \(wanted.joined(separator: "+")), at most \(configuration.maximumPixels) pixels a page")
        } catch {
            return OCRProbe(isAvailable: false, summary: "ocr: WARNING: \(configuration.tesseractPath) cannot run (install tesseract-ocr): scanned PDF pages and images fail")
        }
    }
}
