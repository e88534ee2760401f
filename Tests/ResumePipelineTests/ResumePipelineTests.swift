import ApplicationStore
import AppConfig
import ClientSupport
import Crypto
import Foundation
import LocalProviders
import NativeQueue
import Postgres
import Providers
import Redis
import ResumeJobs
import ResumePipeline
import RQ
import Synchronization
import Testing
import TestSupport
import JobProcessing
import WorkerRuntime

/// The sample résumés and what each must become (`Fixtures/resumes/expected.json`).
struct PipelineFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/resumes")

    struct File {
        var name: String
        var kind: DocumentKind
        var outcome: String
        var excerpts: [String]
    }

    static let jobPostText: String = load().0
    static let files: [File] = load().1

    static func load() -> (String, [File]) {
        let data = FileManager.default.contents(atPath: directory.appendingPathComponent("expected.json").path)!
        let json = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        let files = (json["files"] as! [String: [String: Any]]).map { name, entry in
            File(name: name, kind: DocumentKind(rawValue: entry["kind"] as! String)!, outcome: entry["outcome"] as! String,
                 excerpts: entry["excerpts"] as? [String] ?? [])
        }
        return (json["jobPost"] as! String, files.sorted { $0.name < $1.name })
    }

    static func bytes(_ name: String) -> Data {
        FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) ?? Data()
    }
}

/// A migrated temporary database, a temporary storage folder and the local providers.
struct PipelineHarness {
    let postgres: PostgresClient
    let repository: ApplicationRepository
    let providers: ResumeProviders
    let processor: ResumeProcessor

    static func with<T: Sendable>(_ body: (PipelineHarness) async throws -> T) async throws -> T {
        try await withTemporaryDatabase(maximumConnections: 8) { postgres, _ in
            _ = try await PostgresMigrator(migrations: ResumeSchema.migrations, logger: TestEnvironment.logger).migrate(postgres)
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: root) }
            let providers = ResumeProviders(
                storage: LocalFolderStorage(configuration: LocalFolderStorageConfiguration(root: root)),
                extractor: LocalExtractor(logger: TestEnvironment.logger), embedder: LocalEmbedder())
            let repository = ApplicationRepository(client: postgres)
            let harness = PipelineHarness(
                postgres: postgres, repository: repository, providers: providers,
                processor: ResumeProcessor(repository: repository, providers: providers, logger: TestEnvironment.logger))
            return try await body(harness)
        }
    }

    func makeJobPost() async throws -> JobPost {
        let post = JobPost(id: UUID(), title: "Senior Backend Software Engineer", description: PipelineFixtures.jobPostText, seniorityLevel: .senior)
        try await repository.insert(post)
        return post
    }

    /// Stores `file` and inserts a `PENDING` application for it, as the API does.
    func upload(_ file: PipelineFixtures.File, to post: JobPost) async throws -> Application {
        let id = UUID()
        let data = PipelineFixtures.bytes(file.name)
        let key = StorageKey.make(for: id, kind: file.kind)
        try await providers.storage.put(key: key, data: data, contentType: file.kind.contentType)
        let application = Application(
            id: id, jobPostID: post.id, candidateName: file.name, email: "\(id.uuidString.prefix(8))@example.com",
            seniorityLevel: .senior, originalFilename: file.name, contentType: file.kind.contentType, fileSize: data.count,
            fileSHA256: SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined(), storageKey: key)
        try await repository.insert(application)
        return application
    }
}

@Suite("Résumé pipeline on real PostgreSQL with the local providers", .timeLimit(.minutes(3)))
struct ResumePipelineTests {
    @Test func everyFixtureEndsCompletedOrFailedWithItsReason() async throws {
        try await PipelineHarness.with { harness in
            let post = try await harness.makeJobPost()
            var scores: [String: Double] = [:]
            for file in PipelineFixtures.files {
                let application = try await harness.upload(file, to: post)
                if file.outcome == "text" {
                    let outcome = try await harness.processor.process(applicationID: application.id, jobPostID: post.id)
                    let row = try #require(try await harness.repository.application(id: application.id))
                    #expect(row.status == .completed, "\(file.name)")
                    #expect(row.embedding?.count == 768)
                    #expect(row.processedAt != nil && row.errorMessage == nil)
                    let text = try #require(row.extractedText)
                    for excerpt in file.excerpts { #expect(text.contains(excerpt), "\(file.name): \(excerpt)") }
                    let score = try #require(row.matchScore)
                    #expect(outcome == .completed(score: score))
                    #expect(score > 0 && score <= 1)
                    scores[file.name] = score
                } else {
                    let error = await #expect(throws: PipelineError.self) {
                        try await harness.processor.process(applicationID: application.id)
                    }
                    #expect(error?.isTransient == false, "\(file.name) is not worth retrying")
                    let row = try #require(try await harness.repository.application(id: application.id))
                    #expect(row.status == .failed)
                    #expect(row.errorMessage?.contains(file.outcome) == true, "\(file.name): \(row.errorMessage ?? "nil")")
                }
            }
            // The job post was embedded once and cached.
            #expect(try await harness.repository.jobPost(id: post.id)?.embedding?.count == 768)
            // A backend résumé outranks the data engineer's for a backend post.
            #expect(scores["alice_chen.pdf", default: 0] > scores["priya_raman_three_pages.pdf", default: 1])
        }
    }

    @Test func runningTwiceLeavesOneCorrectRowAndForceReprocesses() async throws {
        try await PipelineHarness.with { harness in
            let post = try await harness.makeJobPost()
            let file = try #require(PipelineFixtures.files.first { $0.name == "alice_chen.pdf" })
            let application = try await harness.upload(file, to: post)
            let first = try await harness.processor.process(applicationID: application.id)
            let row = try #require(try await harness.repository.application(id: application.id))
            #expect(try await harness.processor.process(applicationID: application.id) == .alreadyCompleted)
            let again = try #require(try await harness.repository.application(id: application.id))
            #expect(again == row)
            #expect(try await harness.processor.process(applicationID: application.id, force: true) == first)
            let forced = try #require(try await harness.repository.application(id: application.id))
            #expect(forced.matchScore == row.matchScore && forced.extractedText == row.extractedText && forced.attempts == 2)
            #expect(try await harness.postgres.query("SELECT count(*) AS n FROM applications").first?.decode("n", as: Int.self) == 1)
        }
    }

    /// The rows the one-statement start refuses take the long way and fail with the reason; none
    /// of them counts an attempt or goes `PROCESSING`.
    @Test func refusedStartsFailWithTheirReason() async throws {
        try await PipelineHarness.with { harness in
            let post = try await harness.makeJobPost()
            let other = try await harness.makeJobPost()
            let file = try #require(PipelineFixtures.files.first { $0.name == "alice_chen.pdf" })
            let application = try await harness.upload(file, to: post)
            let mismatch = await #expect(throws: PipelineError.self) {
                try await harness.processor.process(applicationID: application.id, jobPostID: other.id)
            }
            #expect(mismatch?.code == .unknownJobPost && mismatch?.isTransient == false)
            var row = try #require(try await harness.repository.application(id: application.id))
            #expect(row.status == .failed && row.attempts == 0)
            #expect(row.errorMessage?.contains("does not match") == true)
            // The right post then processes it (a FAILED row may be retried).
            #expect(try await harness.processor.process(applicationID: application.id, jobPostID: post.id) != .alreadyCompleted)
            row = try #require(try await harness.repository.application(id: application.id))
            #expect(row.status == .completed && row.attempts == 1)

            let noFile = Application(
                id: UUID(), jobPostID: post.id, candidateName: "No File", email: "nofile@example.com", seniorityLevel: .junior)
            try await harness.repository.insert(noFile)
            let missing = await #expect(throws: PipelineError.self) { try await harness.processor.process(applicationID: noFile.id) }
            #expect(missing?.code == .missingFile && missing?.isTransient == false)
            row = try #require(try await harness.repository.application(id: noFile.id))
            #expect(row.status == .failed && row.attempts == 0 && row.errorMessage?.hasPrefix("missing_file") == true)
        }
    }

    @Test func unknownApplicationIsAPermanentFailure() async throws {
        try await PipelineHarness.with { harness in
            let error = await #expect(throws: PipelineError.self) {
                try await harness.processor.process(applicationID: UUID())
            }
            #expect(error?.code == .unknownApplication && error?.isTransient == false)
        }
    }

    @Test(arguments: [QueueMode.native, QueueMode.rq])
    func endToEndThroughTheWorker(mode: QueueMode) async throws {
        try await PipelineHarness.with { harness in
            try await withTestRedis(maximumConnections: 16) { redis in
                let post = try await harness.makeJobPost()
                let good = try #require(PipelineFixtures.files.first { $0.name == "lucia_fernandez.docx" })
                let bad = try #require(PipelineFixtures.files.first { $0.name == "empty.txt" })
                let completed = try await harness.upload(good, to: post)
                let failed = try await harness.upload(bad, to: post)
                let queueName = "pipeline-" + UUID().uuidString.prefix(8).lowercased()
                let enqueuer: any JobEnqueuer
                switch mode {
                case .native: enqueuer = NativeJobEnqueuer(redis: redis, keys: NativeQueueKeys(queue: queueName))
                case .rq:
                    var rq = RQJobEnqueuer(store: RQStore(redis: redis))
                    rq.queueName = queueName
                    enqueuer = rq
                }
                // The good one twice (a duplicate delivery), the bad one once.
                for application in [completed, completed, failed] {
                    _ = try await enqueuer.enqueue(applicationID: application.id, jobPostID: post.id)
                }
                var handlers = JobHandlerRegistry.builtIns
                ResumeJobHandler.register(into: &handlers, processor: harness.processor)
                switch mode {
                case .native:
                    let worker = NativeWorker(
                        redis: redis, queue: NativeQueueClient(redis: redis, keys: NativeQueueKeys(queue: queueName)), handlers: handlers,
                        configuration: NativeWorkerConfiguration(concurrency: 2, burst: true), logger: TestEnvironment.logger)
                    try await worker.run()
                case .rq:
                    let worker = RQWorker(
                        redis: redis, handlers: handlers,
                        configuration: RQWorkerConfiguration(queues: [queueName], burst: true, concurrency: 2), logger: TestEnvironment.logger)
                    try await worker.run()
                }
                let done = try #require(try await harness.repository.application(id: completed.id))
                #expect(done.status == .completed && done.matchScore != nil && done.extractedText?.contains("Lucía") == true)
                let broken = try #require(try await harness.repository.application(id: failed.id))
                #expect(broken.status == .failed)
                #expect(broken.errorMessage?.contains("no_text") == true)
                let status = try await enqueuer.status(jobID: resumeJobID(for: completed.id))?.status
                #expect(status == "finished")
                #expect(try await harness.postgres.query("SELECT count(*) AS n FROM applications").first?.decode("n", as: Int.self) == 2)
            }
        }
    }

    @Test func sweeperRequeuesPendingRowsWithoutALiveJob() async throws {
        try await PipelineHarness.with { harness in
            try await withTestRedis { redis in
                let post = try await harness.makeJobPost()
                let file = try #require(PipelineFixtures.files.first { $0.name == "zoe_mueller.txt" })
                let stranded = try await harness.upload(file, to: post)
                _ = try await harness.postgres.query(
                    "UPDATE applications SET created_at = now() - interval '10 minutes' WHERE id = $1", [stranded.id])
                let fresh = try await harness.upload(file, to: post)
                var rq = RQJobEnqueuer(store: RQStore(redis: redis))
                rq.queueName = "sweep-" + UUID().uuidString.prefix(8).lowercased()
                let sweeper = PendingSweeper(repository: harness.repository, enqueuer: rq, logger: TestEnvironment.logger)
                #expect(try await sweeper.sweep() == [stranded.id])
                #expect(try await rq.status(jobID: resumeJobID(for: stranded.id))?.status == "queued")
                #expect(try await rq.status(jobID: resumeJobID(for: fresh.id)) == nil)
                // Its job is live now: the next sweep leaves it alone.
                #expect(try await sweeper.sweep() == [])
                #expect(try await RQStore(redis: redis).queue(rq.queueName).count() == 1)
            }
        }
    }
}

/// The local embedder, counting calls per task; query embeddings take `queryDelay`, so concurrent
/// callers overlap.
final class CountingEmbedder: Embedder {
    let base = LocalEmbedder()
    let queryDelay: Duration
    let failQueries: Bool
    private let counts = Mutex<[EmbeddingTask: Int]>([:])

    init(queryDelay: Duration, failQueries: Bool = false) {
        self.queryDelay = queryDelay
        self.failQueries = failQueries
    }

    var name: String { base.name }
    var dimensions: Int { base.dimensions }
    func calls(_ task: EmbeddingTask) -> Int { counts.withLock { $0[task, default: 0] } }

    func embed(_ texts: [String], task: EmbeddingTask) async throws(ProviderError) -> [[Float]] {
        counts.withLock { $0[task, default: 0] += 1 }
        if task == .query {
            try? await Task.sleep(for: queryDelay)
            if failQueries { throw ProviderError(.unavailable, "query embeddings are down") }
        }
        return try await base.embed(texts, task: task)
    }
}

@Suite("Job post embedding shared by concurrent jobs", .timeLimit(.minutes(2)))
struct JobPostEmbeddingFlightTests {
    @Test func concurrentJobsOfANewPostEmbedItOnce() async throws {
        try await PipelineHarness.with { harness in
            let embedder = CountingEmbedder(queryDelay: .milliseconds(300))
            let providers = ResumeProviders(storage: harness.providers.storage, extractor: harness.providers.extractor, embedder: embedder)
            let processor = ResumeProcessor(repository: harness.repository, providers: providers, logger: TestEnvironment.logger)
            let post = try await harness.makeJobPost()
            let file = try #require(PipelineFixtures.files.first { $0.name == "lucia_fernandez.docx" })
            var ids: [UUID] = []
            for _ in 0..<12 { ids.append(try await harness.upload(file, to: post).id) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in ids { group.addTask { _ = try await processor.process(applicationID: id) } }
                try await group.waitForAll()
            }
            #expect(embedder.calls(.document) == 12)
            #expect(embedder.calls(.query) == 1, "each job embedded the post: \(embedder.calls(.query)) requests")
            let cached = try #require(try await harness.repository.jobPost(id: post.id)?.embedding)
            for id in ids {
                let row = try #require(try await harness.repository.application(id: id))
                #expect(row.status == .completed)
                #expect(row.matchScore == cosineSimilarity(try #require(row.embedding), cached))
            }
            // A later job reads the cached row: no further request.
            _ = try await processor.process(applicationID: try await harness.upload(file, to: post).id)
            #expect(embedder.calls(.query) == 1)
        }
    }

    /// The post's vector is remembered per `updated_at`: a changed post is read again.
    @Test func aChangedPostIsReadAgain() async throws {
        try await PipelineHarness.with { harness in
            let post = try await harness.makeJobPost()
            let file = try #require(PipelineFixtures.files.first { $0.name == "lucia_fernandez.docx" })
            let first = try await harness.upload(file, to: post)
            _ = try await harness.processor.process(applicationID: first.id)
            let original = try #require(try await harness.repository.jobPost(id: post.id)?.embedding)
            let second = try await harness.upload(file, to: post)
            _ = try await harness.processor.process(applicationID: second.id)
            var row = try #require(try await harness.repository.application(id: second.id))
            #expect(row.matchScore == cosineSimilarity(try #require(row.embedding), original))
            // Another vector in the row, as an edit or another embedder would leave it.
            let replaced = original.enumerated().map { $0.offset % 2 == 0 ? -$0.element : $0.element }
            try await harness.postgres.query("UPDATE job_posts SET embedding = $2, updated_at = now() WHERE id = $1", [post.id, replaced])
            let third = try await harness.upload(file, to: post)
            _ = try await harness.processor.process(applicationID: third.id)
            row = try #require(try await harness.repository.application(id: third.id))
            let score = try #require(row.matchScore)
            #expect(score == cosineSimilarity(try #require(row.embedding), replaced))
            #expect(abs(score - cosineSimilarity(try #require(row.embedding), original)) > 1e-6)
        }
    }

    @Test func aFailedLeaderLeavesEachWaiterToTryItself() async throws {
        let flights = SingleFlight<String, Int>()
        final class Attempts: Sendable { let count = Mutex(0) }
        let attempts = Attempts()
        struct Down: Error {}
        let results = await withTaskGroup(of: Result<Int, any Error>.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    do {
                        return .success(try await flights.value(for: "post") {
                            let attempt = attempts.count.withLock { $0 += 1; return $0 }
                            try await Task.sleep(for: .milliseconds(200))
                            if attempt == 1 { throw Down() }
                            return attempt
                        })
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        // The leader failed; nobody got its (absent) value, and no waiter was failed by it.
        #expect(results.filter { if case .failure = $0 { true } else { false } }.count == 1)
        #expect(results.count == 5)
        #expect(attempts.count.withLock { $0 } >= 2)
        // Once landed, the key is free: a new caller computes again.
        #expect(try await flights.value(for: "post") { 42 } == 42)
    }
}
