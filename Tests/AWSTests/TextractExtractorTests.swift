import AWS
import Foundation
import Providers
import TestSupport
import Testing

/// The scripted-Textract moto (compat/aws/moto_textract.py): jobs answer IN_PROGRESS twice, then
/// SUCCEEDED with blocks made from the object's text (form feed = new page); keys containing
/// `fail`, `stuck`, `throttle` or `unsupported` behave accordingly.
@Suite("TextractExtractor against the scripted-Textract moto")
struct TextractExtractorTests {
    func configuration(
        url: URL? = nil, credentials: AWSCredentials = motoCredentials, jobTimeout: Duration = .seconds(20),
        blocksPerPage: Int = 1000, concurrentJobs: Int = 5
    ) throws -> TextractConfiguration {
        TextractConfiguration(
            endpoint: try url ?? TestEnvironment.motoURL, credentials: credentials, requestTimeout: .seconds(10),
            jobTimeout: jobTimeout, initialPollInterval: .milliseconds(20), maximumPollInterval: .milliseconds(100),
            maximumConcurrentJobs: concurrentJobs, blocksPerPage: blocksPerPage)
    }

    /// Uploads `text` under a fresh `.pdf` key containing `marker` and returns the document.
    func upload(_ text: String, marker: String = "", to storage: S3Storage) async throws -> StoredDocument {
        let key = "resumes/test/\(marker)\(UUID().uuidString.lowercased()).pdf"
        try await storage.put(key: key, data: Data(text.utf8), contentType: "application/pdf")
        return StoredDocument(key: key, kind: .pdf, storage: storage)
    }

    @Test("start, poll through IN_PROGRESS, follow NextToken over several pages, lines in order")
    func multiPage() async throws {
        let storage = try await makeMotoStorage()
        let pages = (1...3).map { page in (1...6).map { "Page \(page) line \($0) — Swift résumé" } }
        let document = try await upload(pages.map { $0.joined(separator: "\n") }.joined(separator: "\n\u{0C}"), to: storage)
        let transport = RecordingTransport()
        let extractor = TextractExtractor(configuration: try configuration(blocksPerPage: 5), transport: transport, logger: TestEnvironment.logger)

        let text = try await extractor.extractText(from: document)

        #expect(text == pages.flatMap { $0 }.joined(separator: "\n"))
        let statuses = await transport.statuses()
        #expect(statuses.prefix(2) == ["IN_PROGRESS", "IN_PROGRESS"])
        #expect(statuses.last == "SUCCEEDED")
        // 3 PAGE + 18 LINE + 18 × 7 WORD blocks = 147 blocks, 5 per page: 30 pages, 29 with a token.
        #expect(await transport.pageRequests() == 29)
        let starts = await transport.exchanges.filter { $0.target == "Textract.StartDocumentTextDetection" }
        #expect(starts.count == 1)
        let startBody = try #require(starts.first).requestBody
        let start = try #require(try JSONSerialization.jsonObject(with: startBody) as? [String: Any])
        let location = (start["DocumentLocation"] as? [String: Any])?["S3Object"] as? [String: String]
        #expect(location == ["Bucket": storage.configuration.bucket, "Name": document.key])
        #expect((start["ClientRequestToken"] as? String)?.count == 64)
    }

    @Test("lines come in page order even when Textract's blocks do not")
    func pageOrder() async throws {
        let storage = try await makeMotoStorage()
        let document = try await upload("One a\nOne b\n\u{0C}Two a\nTwo b\n\u{0C}Three a", marker: "shuffle-", to: storage)
        let transport = RecordingTransport()
        let extractor = TextractExtractor(configuration: try configuration(blocksPerPage: 3), transport: transport, logger: TestEnvironment.logger)
        #expect(try await extractor.extractText(from: document) == "One a\nOne b\nTwo a\nTwo b\nThree a")
        // The server really sent page 3 first.
        let firstPage = try #require(await transport.exchanges.first { exchange in
            String(decoding: exchange.responseBody, as: UTF8.self).contains("\"Blocks\"")
        })
        #expect(String(decoding: firstPage.responseBody, as: UTF8.self).contains("Three"))
    }

    @Test("one page of blocks when everything fits")
    func singlePage() async throws {
        let storage = try await makeMotoStorage()
        let document = try await upload("Jane Doe\n\n  Senior Swift Engineer  \nBerlin\n", to: storage)
        let transport = RecordingTransport()
        let extractor = TextractExtractor(configuration: try configuration(), transport: transport, logger: TestEnvironment.logger)
        #expect(try await extractor.extractText(from: document) == "Jane Doe\nSenior Swift Engineer\nBerlin")
        #expect(await transport.pageRequests() == 0)
    }

    @Test("a FAILED job is a permanent .unreadableDocument with Textract's StatusMessage")
    func failedJob() async throws {
        let storage = try await makeMotoStorage()
        let document = try await upload("will fail", marker: "fail-", to: storage)
        let extractor = TextractExtractor(configuration: try configuration(), logger: TestEnvironment.logger)
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await extractor.extractText(from: document) })
        #expect(error.code == .unreadableDocument)
        #expect(!error.isTransient)
        #expect(error.message.contains("Unable to read the document."))
        #expect(error.message.contains(document.key))
    }

    @Test("a job that never finishes hits the deadline: transient .timeout, on time")
    func deadline() async throws {
        let storage = try await makeMotoStorage()
        let document = try await upload("stuck forever", marker: "stuck-", to: storage)
        let transport = RecordingTransport()
        let extractor = TextractExtractor(
            configuration: try configuration(jobTimeout: .seconds(4)), transport: transport, logger: TestEnvironment.logger)
        let clock = ContinuousClock()
        let started = clock.now
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await extractor.extractText(from: document) })
        let elapsed = clock.now - started
        #expect(error.code == .timeout, "\(error)")
        #expect(error.isTransient)
        #expect(error.message.contains("did not finish within"), "\(error)")
        // The last wait is skipped when it would pass the deadline (waits are at most 100 ms here).
        // 4 s leaves room for a slow start call to moto when the test machine is saturated.
        #expect(elapsed >= .milliseconds(3800), "gave up after \(elapsed)")
        #expect(elapsed < .seconds(8), "took \(elapsed)")
        let statuses = await transport.statuses()
        #expect(!statuses.isEmpty)
        #expect(statuses.allSatisfy { $0 == "IN_PROGRESS" })
    }

    @Test("a throttled poll is retried within the deadline")
    func throttledPoll() async throws {
        let storage = try await makeMotoStorage()
        let document = try await upload("Throttled once\nthen fine", marker: "throttle-", to: storage)
        let transport = RecordingTransport()
        let extractor = TextractExtractor(configuration: try configuration(), transport: transport, logger: TestEnvironment.logger)
        #expect(try await extractor.extractText(from: document) == "Throttled once\nthen fine")
        let first = try #require(await transport.exchanges.first { $0.target == "Textract.GetDocumentTextDetection" })
        #expect(first.status == 400)
        #expect(String(decoding: first.responseBody, as: UTF8.self).contains("ProvisionedThroughputExceededException"))
    }

    @Test("a missing S3 object is a permanent .unreadableDocument (InvalidS3ObjectException)")
    func missingObject() async throws {
        let storage = try await makeMotoStorage()
        let document = StoredDocument(key: uniqueStorageKey(), kind: .pdf, storage: storage)
        let extractor = TextractExtractor(configuration: try configuration(), logger: TestEnvironment.logger)
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await extractor.extractText(from: document) })
        #expect(error.code == .unreadableDocument)
        #expect(!error.isTransient)
        #expect(error.message.contains("InvalidS3ObjectException"))
    }

    @Test("an unsupported document is a permanent .unreadableDocument")
    func unsupportedDocument() async throws {
        let storage = try await makeMotoStorage()
        let document = try await upload("x", marker: "unsupported-", to: storage)
        let extractor = TextractExtractor(configuration: try configuration(), logger: TestEnvironment.logger)
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await extractor.extractText(from: document) })
        #expect(error.code == .unreadableDocument)
        #expect(error.message.contains("UnsupportedDocumentException"))
    }

    @Test("a document without lines is .noText")
    func noText() async throws {
        let storage = try await makeMotoStorage()
        let document = try await upload("  \n\u{0C}\n \n", to: storage)
        let extractor = TextractExtractor(configuration: try configuration(), logger: TestEnvironment.logger)
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await extractor.extractText(from: document) })
        #expect(error.code == .noText)
        #expect(!error.isTransient)
    }

    @Test("PNG and JPEG go through DetectDocumentText, TIFF through start and poll")
    func images() async throws {
        let storage = try await makeMotoStorage()
        for kind in [DocumentKind.png, .jpeg, .tiff] {
            let key = uniqueStorageKey(kind)
            // The scripted moto reads the object's bytes as the page's text.
            try await storage.put(key: key, data: Data("Photo of a résumé\nAmira Haddad\n\u{0C}Page two".utf8), contentType: kind.contentType)
            let transport = RecordingTransport()
            let extractor = TextractExtractor(configuration: try configuration(), transport: transport, logger: TestEnvironment.logger)
            let text = try await extractor.extractText(from: StoredDocument(key: key, kind: kind, storage: storage))
            #expect(text == "Photo of a résumé\nAmira Haddad\nPage two", "\(kind)")
            let targets = await transport.exchanges.map(\.target)
            if kind == .tiff {
                #expect(targets.first == "Textract.StartDocumentTextDetection" && !targets.contains("Textract.DetectDocumentText"))
            } else {
                #expect(targets == ["Textract.DetectDocumentText"], "\(kind)")
                let body = try #require(await transport.exchanges.first?.requestBody)
                let request = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
                let object = (request["Document"] as? [String: Any])?["S3Object"] as? [String: String]
                #expect(object == ["Bucket": storage.configuration.bucket, "Name": key])
            }
        }
        // The synchronous call maps errors as the asynchronous one does.
        let unsupported = "resumes/test/unsupported-\(UUID().uuidString.lowercased()).png"
        try await storage.put(key: unsupported, data: Data("x".utf8), contentType: "image/png")
        let extractor = TextractExtractor(configuration: try configuration(), logger: TestEnvironment.logger)
        for (key, code) in [(unsupported, ProviderError.Code.unreadableDocument), (uniqueStorageKey(.jpeg), .unreadableDocument)] {
            let document = StoredDocument(key: key, kind: key.hasSuffix(".png") ? .png : .jpeg, storage: storage)
            let error = try #require(await providerError { () async throws(ProviderError) in _ = try await extractor.extractText(from: document) })
            #expect(error.code == code && !error.isTransient, "\(key): \(error)")
        }
        // A throttled DetectDocumentText is retried until the job deadline, then transient.
        let throttled = "resumes/test/throttle-\(UUID().uuidString.lowercased()).png"
        try await storage.put(key: throttled, data: Data("x".utf8), contentType: "image/png")
        let impatient = TextractExtractor(configuration: try configuration(jobTimeout: .seconds(1)), logger: TestEnvironment.logger)
        let error = try #require(await providerError { () async throws(ProviderError) in
            _ = try await impatient.extractText(from: StoredDocument(key: throttled, kind: .png, storage: storage))
        })
        #expect(error.isTransient && (error.code == .rateLimited || error.code == .timeout), "\(error)")
    }

    @Test("DOCX and TXT are refused without a request; non-S3 storage needs a bucket")
    func refusals() async throws {
        let storage = try await makeMotoStorage()
        let transport = RecordingTransport()
        let extractor = TextractExtractor(configuration: try configuration(), transport: transport, logger: TestEnvironment.logger)
        for kind in [DocumentKind.docx, .txt] {
            let document = StoredDocument(key: uniqueStorageKey(kind), kind: kind, storage: storage)
            let error = try #require(await providerError { () async throws(ProviderError) in _ = try await extractor.extractText(from: document) })
            #expect(error.code == .unreadableDocument)
        }
        let local = StoredDocument(key: uniqueStorageKey(), kind: .pdf, storage: NotS3Storage())
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await extractor.extractText(from: local) })
        #expect(error.code == .configuration)
        #expect(await transport.exchanges.isEmpty)
    }

    @Test("an explicit bucket is used for documents in other storage")
    func explicitBucket() async throws {
        let storage = try await makeMotoStorage()
        let uploaded = try await upload("From the configured bucket", to: storage)
        var configuration = try configuration()
        configuration.bucket = storage.configuration.bucket
        let extractor = TextractExtractor(configuration: configuration, logger: TestEnvironment.logger)
        let document = StoredDocument(key: uploaded.key, kind: .pdf, storage: NotS3Storage())
        #expect(try await extractor.extractText(from: document) == "From the configured bucket")
    }

    @Test("the limiter bounds concurrent jobs")
    func concurrencyLimit() async throws {
        let storage = try await makeMotoStorage()
        let transport = RecordingTransport()
        let extractor = TextractExtractor(
            configuration: try configuration(concurrentJobs: 2), transport: transport, logger: TestEnvironment.logger)
        var documents: [StoredDocument] = []
        for index in 0..<6 { documents.append(try await upload("Document \(index)", to: storage)) }
        let texts = try await withThrowingTaskGroup(of: String.self) { group in
            for document in documents { group.addTask { try await extractor.extractText(from: document) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(texts) == Set((0..<6).map { "Document \($0)" }))
        #expect(await transport.mostOpenJobs == 2)
    }

    @Test("Textract errors and credentials never contain the secret key")
    func errorsHideSecrets() async throws {
        let moto = try TestEnvironment.motoSignatureChecking
        let wrongSecret = "textract-wrong-secret-\(UUID().uuidString)"
        let credentials = AWSCredentials(accessKeyID: moto.accessKeyID, secretAccessKey: wrongSecret, sessionToken: "token-\(UUID().uuidString)")
        var configuration = try configuration(url: moto.url, credentials: credentials)
        configuration.bucket = "any-bucket"
        let extractor = TextractExtractor(configuration: configuration, logger: TestEnvironment.logger)
        let document = StoredDocument(key: uniqueStorageKey(), kind: .pdf, storage: NotS3Storage())
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await extractor.extractText(from: document) })
        #expect(error.code == .rejected)
        #expect(!error.isTransient)
        let token = try #require(credentials.sessionToken)
        for text in [error.message, "\(error)", "\(extractor.configuration.credentials)"] {
            #expect(!text.contains(wrongSecret))
            #expect(!text.contains(token))
            #expect(!text.contains("Signature="))
        }
    }

    @Test("signed correctly, moto's signature check accepts start, poll and pages")
    func signatureChecked() async throws {
        let moto = try TestEnvironment.motoSignatureChecking
        let credentials = AWSCredentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)
        let storage = try await makeMotoStorage(credentials: credentials, url: moto.url)
        let document = try await upload("Signed\nand\nchecked", to: storage)
        let extractor = TextractExtractor(
            configuration: try configuration(url: moto.url, credentials: credentials, blocksPerPage: 2), logger: TestEnvironment.logger)
        #expect(try await extractor.extractText(from: document) == "Signed\nand\nchecked")
    }
}
