import Foundation
import LocalProviders
import Logging
import Providers
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Local text extraction")
struct LocalExtractorTests {
    let extractor = LocalExtractor(logger: TestEnvironment.logger)

    private func extract(_ bytes: [UInt8], as kind: DocumentKind, with extractor: LocalExtractor? = nil) async throws(ProviderError) -> String {
        try await extractText(bytes, as: kind, with: extractor ?? self.extractor)
    }

    private func error(_ bytes: [UInt8], as kind: DocumentKind, with extractor: LocalExtractor? = nil) async -> ProviderError? {
        await extractionError(bytes, as: kind, with: extractor ?? self.extractor)
    }

    @Test(arguments: ResumeFixtures.shared.files)
    func everyFixtureGivesItsExpectedOutcome(_ file: ResumeFixtures.File) async throws {
        let bytes = ResumeFixtures.bytes(file.name)
        // Upload-time detection agrees with the fixture's kind (the empty file has no kind, and
        // DocumentKind.detect accepts UTF-8 text only, so the Windows-1252 file is undetected).
        if !bytes.isEmpty, file.outcome != "unreadable_document", !file.name.contains("cp1252") {
            #expect(DocumentKind.detect(prefix: bytes.prefix(8192)) == file.kind)
        }
        if file.outcome == "text" {
            let text = try await extract(bytes, as: file.kind)
            for excerpt in file.excerpts {
                #expect(text.contains(excerpt), "\(file.name) lacks \(excerpt.debugDescription)")
            }
            #expect(text == text.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(!text.contains("\n\n\n") && !text.contains("\u{0C}") && !text.contains("\r"))
        } else {
            let failure = await error(bytes, as: file.kind)
            #expect(failure?.code.rawValue == file.outcome, "\(file.name): \(String(describing: failure))")
            #expect(failure?.isTransient == false)
        }
    }

    @Test func twoColumnPDFReadsOneColumnAfterTheOther() async throws {
        let file = ResumeFixtures.shared.file("marcus_okafor_two_column.pdf")
        let text = try await extract(ResumeFixtures.bytes(file.name), as: .pdf)
        let (sidebar, main) = (file.readingOrder[0], file.readingOrder[1])
        let positions = { (phrase: String) -> String.Index in
            let range = text.range(of: phrase)
            #expect(range != nil, "missing \(phrase)")
            return range?.lowerBound ?? text.startIndex
        }
        // All of the sidebar comes before any of the main column, each in its own order.
        let lastOfSidebar = sidebar.map(positions).max()!
        let firstOfMain = main.map(positions).min()!
        #expect(lastOfSidebar < firstOfMain)
        #expect(sidebar.map(positions) == sidebar.map(positions).sorted())
        #expect(main.map(positions) == main.map(positions).sorted())
        // A row never holds both columns (as -layout would print them).
        #expect(!text.split(separator: "\n").contains { $0.contains("CONTACT") && $0.contains("EXPERIENCE") })
    }

    @Test func multiPagePDFKeepsPageOrder() async throws {
        let text = try await extract(ResumeFixtures.bytes("priya_raman_three_pages.pdf"), as: .pdf)
        let pages = (1...3).map { text.range(of: "Page \($0) of 3")?.lowerBound }
        #expect(pages.allSatisfy { $0 != nil })
        #expect(pages.compactMap { $0 } == pages.compactMap { $0 }.sorted())
        #expect(text.range(of: "Great Expectations")!.lowerBound > pages[0]!)
        #expect(text.range(of: "Anna University")!.lowerBound > pages[1]!)
    }

    @Test func pageCapReadsOnlyTheFirstPages() async throws {
        let capped = LocalExtractor(configuration: LocalExtractorConfiguration(maximumPDFPages: 1), logger: TestEnvironment.logger)
        let text = try await extract(ResumeFixtures.bytes("priya_raman_three_pages.pdf"), as: .pdf, with: capped)
        #expect(text.contains("Page 1 of 3"))
        #expect(!text.contains("Page 2 of 3"))
    }

    @Test func docxKeepsParagraphsBreaksTabsAndTables() async throws {
        let text = try await extract(ResumeFixtures.bytes("lucia_fernandez.docx"), as: .docx)
        let lines = text.components(separatedBy: "\n")
        #expect(lines.first == "Lucía Fernández\tiOS & Swift Engineer")
        #expect(lines.contains("Senior iOS Engineer, Naranja Apps (2019–2025)"))
        #expect(lines.contains("Shipped SwiftUI apps with 2 million users; built the Swift package for offline sync."))
        #expect(text.contains("Skill\tLevel\nSwift, SwiftUI, Combine\tExpert\nVapor, PostgreSQL, Docker\tIntermediate"))
        #expect(text.contains("Languages: Spanish <native>, English (C1)"))
    }

    @Test func docxSkipsDeletionsFieldCodesFallbacksAndTabStops() async throws {
        let body = """
            <w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>\
            <w:r><w:t>Kept</w:t></w:r><w:del><w:r><w:delText>Deleted</w:delText></w:r></w:del>\
            <w:ins><w:r><w:t xml:space="preserve"> inserted</w:t></w:r></w:ins>\
            <w:r><w:instrText>HYPERLINK "x"</w:instrText></w:r>\
            <w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:t> box</w:t></mc:Choice>\
            <mc:Fallback><w:t> box</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>\
            <w:p><w:r><w:t>A</w:t><w:cr/><w:t>B</w:t><w:noBreakHyphen/><w:t>C &amp; D &lt;E&gt;</w:t></w:r></w:p>
            """
        let text = try await extract(try ZipBuilder.docx(body: body), as: .docx)
        #expect(text == "Kept inserted box\nA\nB-C & D <E>")
    }

    @Test func docxWithStoredEntriesAndOtherPrefixes() async throws {
        let stored = try ZipBuilder.docx(body: "<w:p><w:r><w:t>Stored entry</w:t></w:r></w:p>", method: 0)
        #expect(try await extract(stored, as: .docx) == "Stored entry")
        // Same namespace under another prefix.
        var builder = ZipBuilder()
        let xml = #"<x:document xmlns:x="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><x:body><x:p><x:r><x:t>Prefix x</x:t></x:r></x:p></x:body></x:document>"#
        builder.items = [.init(name: "word/document.xml", data: Array(xml.utf8))]
        #expect(try await extract(try builder.build(), as: .docx) == "Prefix x")
    }

    @Test func brokenDocxFilesAreUnreadable() async throws {
        var notWord = ZipBuilder()
        notWord.items = [.init(name: "[Content_Types].xml", data: Array("<Types/>".utf8))]
        let missing = await error(try notWord.build(), as: .docx)
        #expect(missing?.code == .unreadableDocument)
        #expect(missing?.message.contains("word/document.xml") == true)

        let malformed = await error(try ZipBuilder.docx(body: "<w:p><w:r><w:t>unclosed</w:r></w:p>"), as: .docx)
        #expect(malformed?.code == .unreadableDocument)
        #expect(malformed?.message.contains("not well-formed") == true)

        let truncated = Array(ResumeFixtures.bytes("lucia_fernandez.docx").prefix(5_000))
        #expect(await error(truncated, as: .docx)?.code == .unreadableDocument)

        let empty = await error(try ZipBuilder.docx(body: "<w:p/><w:p><w:r><w:t>  </w:t></w:r></w:p>"), as: .docx)
        #expect(empty?.code == .noText)
    }

    @Test func corruptTruncatedAndMislabelledFiles() async throws {
        let alice = ResumeFixtures.bytes("alice_chen.pdf")
        for cut in [5, 100, alice.count / 2] {
            #expect(await error(Array(alice.prefix(cut)), as: .pdf)?.code == .unreadableDocument, "cut at \(cut)")
        }
        // Declared PDF, but text bytes.
        let mislabelled = await error(Array("just text".utf8), as: .pdf)
        #expect(mislabelled?.code == .unreadableDocument)
        #expect(mislabelled?.message.contains("%PDF-") == true)
        #expect(await error(Array("just text".utf8), as: .docx)?.code == .unreadableDocument)
        // Legacy Word.
        let doc = await error([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + Array(repeating: 0, count: 512), as: .docx)
        #expect(doc?.code == .unreadableDocument)
        #expect(doc?.message.contains(".doc") == true)
        // Binary declared as text.
        #expect(await error([0x41, 0x00, 0x42, 0x00, 0x43], as: .txt)?.code == .unreadableDocument)
        // The bytes win over a wrong declaration: a real PDF declared as text is read as a PDF.
        #expect(try await extract(alice, as: .txt).hasPrefix("Alice Chen"))
    }

    @Test func emptyAndBlankFilesHaveNoText() async throws {
        let empty = await error([], as: .txt)
        #expect(empty?.code == .noText)
        #expect(empty?.message == "the document is empty")
        #expect(await error([], as: .pdf)?.code == .noText)
        #expect(await error(Array(" \n\t\r\n \u{0C}".utf8), as: .txt)?.code == .noText)
    }

    @Test func textEncodings() async throws {
        #expect(try await extract([0xEF, 0xBB, 0xBF] + Array("Zoë Müller".utf8), as: .txt) == "Zoë Müller")
        let utf16LE: [UInt8] = [0xFF, 0xFE] + "Zoë".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(try await extract(utf16LE, as: .txt) == "Zoë")
        let utf16BE: [UInt8] = [0xFE, 0xFF] + "Zoë".utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        #expect(try await extract(utf16BE, as: .txt) == "Zoë")
        // Windows-1252: é, —, €, ’.
        #expect(try await extract([0x43, 0x61, 0x66, 0xE9, 0x20, 0x97, 0x20, 0x80, 0x35, 0x20, 0x92], as: .txt) == "Café — €5 ’")
        let lefevre = try await extract(ResumeFixtures.bytes("francois_lefevre_cp1252.txt"), as: .txt)
        #expect(lefevre.hasPrefix("François Lefèvre\nResponsable de magasin — Lyon"))
    }

    @Test func whitespaceIsNormalisedAndLengthCapped() async throws {
        let messy = "\r\n  \n Title  \r\nline\ttab \u{00A0}nbsp\r\rpara\u{0C}page\n\n\n\n\nend\u{0007}\n\n"
        #expect(try await extract(Array(messy.utf8), as: .txt) == "Title\nline\ttab  nbsp\n\npara\npage\n\nend")

        let small = LocalExtractor(configuration: LocalExtractorConfiguration(maximumCharacters: 50), logger: TestEnvironment.logger)
        let long = String(repeating: "Zoë Müller writes Swift. ", count: 1_000)
        let text = try await extract(Array(long.utf8), as: .txt, with: small)
        #expect(text.count <= 50 && text.count >= 45)
        #expect(long.hasPrefix(text))
        let pdf = try await extract(ResumeFixtures.bytes("alice_chen.pdf"), as: .pdf, with: small)
        #expect(pdf.count <= 50 && pdf.hasPrefix("Alice Chen"))
    }

    @Test func missingObjectIsNotFound() async {
        let document = StoredDocument(key: uniqueKey("missing"), kind: .pdf, storage: DictionaryStorageFixture())
        await #expect(throws: ProviderError.self) { try await extractor.extractText(from: document) }
        do {
            _ = try await extractor.extractText(from: document)
        } catch {
            #expect(error.code == .notFound)
        }
    }

    @Test func missingPdftotextIsAConfigurationError() async {
        let broken = LocalExtractor(
            configuration: LocalExtractorConfiguration(pdftotextPath: "/nonexistent/pdftotext-\(UUID().uuidString)"),
            logger: TestEnvironment.logger)
        let failure = await error(ResumeFixtures.bytes("alice_chen.pdf"), as: .pdf, with: broken)
        #expect(failure?.code == .configuration)
    }

    /// A stand-in `pdftotext` that records its pid and hangs, to check the timeout kills it.
    private func hangingPdftotext() async throws -> (script: String, pidFile: String, directory: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hang-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = "\(directory)/pdftotext", pidFile = "\(directory)/pid"
        let text = "#!/bin/sh\n[ \"$1\" = --probe ] && exit 0\necho $$ > \(pidFile)\nexec sleep 600\n"
        try text.write(toFile: script, atomically: false, encoding: .utf8)
        chmod(script, 0o755)
        // A child spawned elsewhere in the process at the moment the script was written can hold
        // its descriptor for an instant (exec then fails with ETXTBSY): wait until it runs.
        try await waitUntil(.seconds(30), "the stand-in pdftotext can run") {
            (try? ChildProcess.run(script, ["--probe"]))?.status == 0
        }
        return (script, pidFile, directory)
    }

    private func pid(in file: String) -> pid_t? {
        (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    @Test func slowPdftotextIsKilledAtTheTimeout() async throws {
        let (script, pidFile, directory) = try await hangingPdftotext()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let slow = LocalExtractor(
            configuration: LocalExtractorConfiguration(pdfTimeout: .seconds(3), pdftotextPath: script),
            logger: TestEnvironment.logger)
        let started = ContinuousClock.now
        let failure = await error(ResumeFixtures.bytes("alice_chen.pdf"), as: .pdf, with: slow)
        #expect(failure?.code == .timeout)
        #expect(failure?.isTransient == false)
        #expect(ContinuousClock.now - started < .seconds(120))  // not the script's 600 s; generous under load
        let child = try #require(pid(in: pidFile))
        try await waitUntil(.seconds(60), "the hung pdftotext is gone") { kill(child, 0) != 0 }
    }

    @Test func cancellationKillsPdftotext() async throws {
        let (script, pidFile, directory) = try await hangingPdftotext()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let slow = LocalExtractor(
            configuration: LocalExtractorConfiguration(pdfTimeout: .seconds(600), pdftotextPath: script),
            logger: TestEnvironment.logger)
        let bytes = ResumeFixtures.bytes("alice_chen.pdf")
        let task = Task { try await slow.extractText(from: bytes, declaredKind: .pdf) }
        try await waitUntil(.seconds(120), "the stand-in pdftotext started") { pid(in: pidFile) != nil }
        let child = try #require(pid(in: pidFile))
        task.cancel()
        let result = await task.result
        #expect(throws: ProviderError.self) { try result.get() }
        try await waitUntil(.seconds(60), "the cancelled pdftotext is gone") { kill(child, 0) != 0 }
    }
}
