import AppConfig
import ApplicationStore
import ArgumentParser
import Foundation
import Gemini
import HTTPAPI
import LocalProviders
import Logging
import Postgres
import Providers
import Redis
import ResumePipeline
import ServiceLifecycle
import Synchronization
import JobProcessing
import WorkerRuntime

#if canImport(Glibc)
import Glibc
#endif

/// `bench pipeline`: the whole résumé pipeline in one process — the HTTP API on a loopback port,
/// an RQ worker with the résumé handler, a private Redis and a temporary PostgreSQL database —
/// fed through real `POST /resumes/upload` requests.
///
/// 1. Local providers (local folder, `pdftotext`/DOCX/TXT, local embedder) at concurrency C: the
///    valid `Fixtures/resumes` set R times, résumés/s and upload-to-`processed_at` latency.
/// 2. One one-page PDF (`alice_chen.pdf`) at a time: p50 upload-to-`processed_at`.
/// 3. Simulated provider latency at concurrency 50: a fake Gemini server in this process answering
///    after 200 ms and a stand-in for a remote extractor (Textract) answering the prepared text
///    after 200 ms; achieved résumés/s against the ideal, and when the completions came.
struct PipelineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Résumé pipeline end to end (HTTP upload → RQ worker → PostgreSQL): local throughput and latency, simulated-latency efficiency."
    )

    @Option(help: "PostgreSQL URL whose role may create databases (default: DB_URL).")
    var dbURL: String?

    @Option(help: "Redis URL; by default a private redis-server is started on a free loopback port.")
    var url: String?

    @Option(help: "Worker concurrency with the local providers.")
    var concurrency = 8

    @Option(help: "Times the valid Fixtures/resumes set is uploaded in the local throughput run.")
    var rounds = 20

    @Option(help: "Concurrent upload connections.")
    var uploaders = 4

    @Option(help: "One-page PDFs processed one at a time (serial latency run).")
    var serial = 40

    @Option(help: "Résumés in the simulated-latency run.")
    var simulatedJobs = 500

    @Option(help: "Simulated-latency drains; the median is reported.")
    var simulatedRounds = 3

    @Option(help: "Worker concurrency in the simulated-latency run.")
    var simulatedConcurrency = 50

    @Option(help: "Simulated latency of one extraction and of one Gemini call, in milliseconds.")
    var simulatedMilliseconds = 200

    func validate() throws {
        guard concurrency >= 1, simulatedConcurrency >= 1, uploaders >= 1 else { throw ValidationError("concurrencies must be at least 1") }
        guard rounds >= 1, serial >= 1, simulatedJobs >= 1, simulatedRounds >= 1 else { throw ValidationError("counts must be at least 1") }
    }

    func run() async throws {
        guard let baseURL = dbURL ?? ProcessInfo.processInfo.environment["DB_URL"] else {
            throw ValidationError("set DB_URL or --db-url (e.g. source .data/services/env)")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let validSet = try Fixture.validSet(in: root.appendingPathComponent("Fixtures/resumes"))
        guard let onePage = validSet.first(where: { $0.name == "alice_chen.pdf" }) else {
            throw ValidationError("Fixtures/resumes/alice_chen.pdf is missing")
        }

        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let server = try url == nil ? PrivateRedisServer.start() : nil
        defer { server?.stop() }
        let redisURL = url ?? server!.url
        let admin = PostgresClient(configuration: try PostgresConfiguration(url: baseURL), logger: logger)
        let database = "bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin.query("CREATE DATABASE \(database)")  // generated from hex digits only
        let databaseURL = "\(baseURL[..<(baseURL.lastIndex(of: "/") ?? baseURL.endIndex)])/\(database)"
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("bench-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let files = work.appendingPathComponent("files").path

        // The API: its own clients, run by its own service group.
        var apiRedisConfiguration = try RedisConfiguration(url: redisURL)
        apiRedisConfiguration.maximumConnections = uploaders + 4
        let apiRedis = RedisClient(configuration: apiRedisConfiguration, logger: logger)
        let apiPostgres = PostgresClient(configuration: try PostgresConfiguration(url: databaseURL), logger: logger)
        // The worker's clients, sized as `worker run` sizes them (a Redis connection per job + 4).
        var workerRedisConfiguration = try RedisConfiguration(url: redisURL)
        workerRedisConfiguration.maximumConnections = max(concurrency, simulatedConcurrency) + 4
        let workerRedis = RedisClient(configuration: workerRedisConfiguration, logger: logger)
        let workerPostgres = PostgresClient(configuration: try PostgresConfiguration(url: databaseURL), logger: logger)
        let repository = ApplicationRepository(client: workerPostgres)
        var uploadClient: UploadClient?
        var apiGroup: RunningGroup?
        var workers: [RunningGroup] = []
        var fakeGemini: FakeGeminiServer?

        func cleanUp() async {
            for worker in workers { try? await worker.stop() }
            try? await apiGroup?.stop()
            fakeGemini?.stop()
            if url != nil { try? await Self.cleanRedis(workerRedis, ids: uploadClient?.uploadedIDs ?? []) }
            await workerRedis.shutdown()
            await workerPostgres.shutdown()
            _ = try? await admin.query("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            await admin.shutdown()
            try? FileManager.default.removeItem(at: work)
        }
        do {
            _ = try await PostgresMigrator(migrations: ResumeSchema.migrations, logger: logger).migrate(workerPostgres)
            let port = try freeLoopbackPort()
            let built = HTTPAPIBuilder.build(
                configuration: HTTPAPIConfiguration(port: port), mode: .rq, redis: apiRedis, postgres: apiPostgres,
                dataDirectory: files, logger: logger)
            apiGroup = RunningGroup(services: built.services, logger: logger)
            var up = false
            for _ in 0..<200 where !up {
                up = LoadGenerator.canConnect(port: port)
                if !up { try await Task.sleep(for: .milliseconds(25)) }
            }
            guard up else { throw ValidationError("the API did not start on port \(port)") }
            let client = UploadClient(port: port, uploaders: uploaders)
            uploadClient = client
            let storage = LocalFolderStorage(configuration: LocalFolderStorageConfiguration(root: files))
            let local = ResumeProviders(storage: storage, extractor: LocalExtractor(logger: logger), embedder: LocalEmbedder())
            print("bench pipeline: API on 127.0.0.1:\(port) (RQ mode), RQ worker in-process, Redis \(try RedisConfiguration(url: redisURL).redactedURL), temporary database")

            // 1. Local providers, concurrent uploads while the worker runs.
            let localWorker = try Self.startWorker(redis: workerRedis, repository: repository, providers: local, concurrency: concurrency, logger: logger)
            workers = [localWorker]
            let warmPost = try await Self.insertPost(repository)
            // Warm-up, every kind once; a file the API refuses is left out (and named).
            var fixtures: [Fixture] = []
            for fixture in validSet {
                do {
                    _ = try await client.uploadAll([fixture], jobPostID: warmPost)
                    fixtures.append(fixture)
                } catch {
                    print("left out \(fixture.name): \(error)")
                }
            }
            print("uploaded set: \(fixtures.map(\.name).joined(separator: ", "))")
            print("")
            _ = try await Self.waitForCompletion(repository, jobPostID: warmPost, count: fixtures.count, timeout: .seconds(60))
            let throughputPost = try await Self.insertPost(repository)
            let batch = Array((0..<rounds).flatMap { _ in fixtures })
            let uploaded = try await client.uploadAll(batch, jobPostID: throughputPost)
            let rows = try await Self.waitForCompletion(repository, jobPostID: throughputPost, count: batch.count, timeout: .seconds(600))
            let local1 = Figures(uploads: uploaded, rows: rows)

            // 2. One one-page PDF at a time.
            let serialPost = try await Self.insertPost(repository)
            _ = try await client.uploadAll([onePage], jobPostID: serialPost)  // caches the job post's embedding
            _ = try await Self.waitForCompletion(repository, jobPostID: serialPost, count: 1, timeout: .seconds(30))
            var serialLatencies: [Double] = [], serialSeen: [Double] = []
            for done in 2...(serial + 1) {
                let start = Date().timeIntervalSince1970
                _ = try await client.uploadAll([onePage], jobPostID: serialPost)
                let rows = try await Self.waitForCompletion(
                    repository, jobPostID: serialPost, count: done, timeout: .seconds(30), pollInterval: .milliseconds(2))
                serialSeen.append(Date().timeIntervalSince1970 - start)
                serialLatencies.append((rows.map(\.processedAt).max() ?? start) - start)
            }
            workers = []
            try await localWorker.stop()

            // 3. Simulated latency: fake Gemini + simulated remote extractor, queue filled first, then drained.
            let gemini = try FakeGeminiServer(delay: .milliseconds(simulatedMilliseconds), dimensions: 768)
            fakeGemini = gemini
            var geminiConfiguration = GeminiConfiguration(apiKey: "bench-fake-key")
            geminiConfiguration.baseURL = URL(string: "http://127.0.0.1:\(gemini.port)")!
            // The default bound (8 requests in flight) would cap 50 jobs at 8 / 0.2 s; a deployment at
            // concurrency 50 raises it likewise.
            geminiConfiguration.maximumConcurrentRequests = simulatedConcurrency
            // What the remote service answers for each file: computed here once, before the drains
            // (with Textract the text is made on AWS's machines, not on this one).
            var answers: [Data: String] = [:]
            for fixture in fixtures {
                let key = "bench/" + fixture.name
                try await storage.put(key: key, data: Data(fixture.bytes), contentType: fixture.contentType)
                answers[Data(fixture.bytes)] = try await LocalExtractor(logger: logger).extractText(
                    from: StoredDocument(key: key, kind: DocumentKind.detect(prefix: fixture.bytes) ?? .txt, storage: storage))
                try await storage.delete(key: key)
            }
            let simulated = ResumeProviders(
                storage: storage,
                extractor: SimulatedRemoteExtractor(answers: answers, delay: .milliseconds(simulatedMilliseconds)),
                embedder: GeminiEmbedder(configuration: geminiConfiguration, logger: logger))
            let simulatedBatch = (0..<simulatedJobs).map { fixtures[$0 % fixtures.count] }
            var drains: [Double] = []
            var completionProfiles: [String] = []
            for _ in 0..<simulatedRounds {
                // A new job post each round, so the first wave embeds it again.
                let simulatedPost = try await Self.insertPost(repository)
                _ = try await client.uploadAll(simulatedBatch, jobPostID: simulatedPost)
                let drainStart = Date().timeIntervalSince1970
                let simulatedWorker = try Self.startWorker(
                    redis: workerRedis, repository: repository, providers: simulated, concurrency: simulatedConcurrency, logger: logger)
                workers = [simulatedWorker]
                let simulatedRows = try await Self.waitForCompletion(repository, jobPostID: simulatedPost, count: simulatedJobs, timeout: .seconds(600))
                workers = []
                try await simulatedWorker.stop()
                drains.append((simulatedRows.map(\.processedAt).max() ?? drainStart) - drainStart)
                let offsets = simulatedRows.map { $0.processedAt - drainStart }
                completionProfiles.append([0.0, 0.1, 0.5, 0.9, 1.0].map { String(format: "%.2f", percentile(offsets, $0)) }.joined(separator: "/"))
            }
            let drainSeconds = percentile(drains, 0.5)
            let step = Double(simulatedMilliseconds) / 1000
            let waves = (simulatedJobs + simulatedConcurrency - 1) / simulatedConcurrency
            let idealSeconds = Double(waves) * 2 * step + step
            let achieved = Double(simulatedJobs) / drainSeconds, ideal = Double(simulatedJobs) / idealSeconds

            // Report.
            let serialP50 = percentile(serialLatencies, 0.5), serialP95 = percentile(serialLatencies, 0.95)
            print("| case | résumés | concurrency | résumés/s | p50 | p95 |")
            print("|---|---:|---:|---:|---:|---:|")
            print(String(format: "| local providers, %d uploads × %d rounds over HTTP | %d | %d | %.1f | %.0f ms | %.0f ms |",
                         fixtures.count, rounds, batch.count, concurrency, local1.rate,
                         local1.p50 * 1000, local1.p95 * 1000))
            print(String(format: "| local, one-page PDF (alice_chen.pdf) one at a time | %d | %d (1 in flight) | — | %.1f ms | %.1f ms |",
                         serial, concurrency, serialP50 * 1000, serialP95 * 1000))
            print(String(format: "| simulated %d ms extraction + %d ms Gemini, queue pre-filled (median of %d) | %d | %d | %.1f (ideal %.1f) | — | — |",
                         simulatedMilliseconds, simulatedMilliseconds, simulatedRounds, simulatedJobs, simulatedConcurrency, achieved, ideal))
            print("")
            print("Latency = upload start (bench clock, before the request is sent) → processed_at (PostgreSQL now() of the completing UPDATE), same host clock.")
            print(String(format: "Serial one-page PDF: the poll (every 2 ms) saw COMPLETED after p50 %.1f ms.", percentile(serialSeen, 0.5) * 1000))
            print("Simulated drains (s): " + drains.map { String(format: "%.2f", $0) }.joined(separator: ", "))
            print("Simulated completions after worker start, first/p10/p50/p90/last (s): " + completionProfiles.joined(separator: ", "))
            print(String(format: "Simulated: drain time from worker start to the last processed_at: median %.2f s; ideal %.2f s = %d waves × (%d + %d ms) + %d ms (first wave embeds the job post) → ideal %.1f résumés/s; achieved %.1f = %.1f %% of ideal.",
                         drainSeconds, idealSeconds, waves, simulatedMilliseconds, simulatedMilliseconds, simulatedMilliseconds,
                         ideal, achieved, achieved / ideal * 100))
            print("Simulated extraction: reads the stored file, waits \(simulatedMilliseconds) ms, answers the text prepared beforehand (no local extraction, as with Textract); Gemini: a fake HTTP/1.1 server in this process answering after \(simulatedMilliseconds) ms (\(gemini.requests) requests, \(gemini.connectionCount.withLock { $0 }) connections), embedder bound raised to \(simulatedConcurrency) requests.")
            print(String(format: "Goals: one-page PDF p50 < 150 ms: %@ (%.1f ms); simulated ≥ 90 %% of ideal: %@ (%.1f %%)",
                         serialP50 < 0.150 ? "met" : "NOT met", serialP50 * 1000,
                         achieved / ideal >= 0.9 ? "met" : "NOT met", achieved / ideal * 100))
            await cleanUp()
        } catch {
            await cleanUp()
            throw error
        }
    }

    /// One application's row once processed.
    struct Row: Sendable {
        var id: UUID
        var processedAt: Double
    }

    /// Throughput and latency of one batch: uploads paired with their rows.
    struct Figures {
        var rate: Double
        var p50: Double
        var p95: Double

        init(uploads: [UUID: Double], rows: [Row]) {
            let latencies = rows.compactMap { row in uploads[row.id].map { row.processedAt - $0 } }
            let first = uploads.values.min() ?? 0, last = rows.map(\.processedAt).max() ?? first
            rate = Double(rows.count) / max(last - first, 0.001)
            p50 = percentile(latencies, 0.5)
            p95 = percentile(latencies, 0.95)
        }
    }

    static func insertPost(_ repository: ApplicationRepository) async throws -> UUID {
        let post = JobPost(
            id: UUID(), title: "Senior Backend Software Engineer",
            description: "Swift on the server, PostgreSQL, Redis job queues, REST APIs, Docker and Kubernetes on AWS.",
            seniorityLevel: .senior)
        try await repository.insert(post)
        return post.id
    }

    static func startWorker(
        redis: RedisClient, repository: ApplicationRepository, providers: ResumeProviders, concurrency: Int, logger: Logger
    ) throws -> RunningGroup {
        var handlers = JobHandlerRegistry()
        ResumeJobHandler.register(into: &handlers, processor: ResumeProcessor(repository: repository, providers: providers, logger: logger))
        let worker = RQWorker(
            redis: redis, handlers: handlers,
            configuration: RQWorkerConfiguration(
                name: workerNamePrefix + UUID().uuidString.prefix(8).lowercased(), queues: ["resume_processing"],
                dequeueTimeout: .seconds(1), concurrency: concurrency),
            logger: logger)
        return RunningGroup(services: [worker], logger: logger)
    }

    /// Polls until `count` applications of `jobPostID` are `COMPLETED`; any `FAILED` one is an error.
    static func waitForCompletion(
        _ repository: ApplicationRepository, jobPostID: UUID, count: Int, timeout: Duration, pollInterval: Duration = .milliseconds(20)
    ) async throws -> [Row] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let progress = try await repository.progress(jobPostID: jobPostID)
            if progress.failed > 0 {
                throw ValidationError("\(progress.failed) application(s) FAILED: \(progress.firstFailure ?? "?")")
            }
            if progress.completed >= count {
                return try await repository.processedTimes(jobPostID: jobPostID).map { Row(id: $0.id, processedAt: $0.processedAt ?? 0) }
            }
            try await Task.sleep(for: pollInterval)
        }
        throw ValidationError("timed out waiting for \(count) COMPLETED applications")
    }

    /// The bench's RQ worker names start with this (their `rq:worker:` hashes are removed at the end).
    static let workerNamePrefix = "bench-pipeline-"

    /// With `--url`: removes the RQ keys of our jobs (job hashes, results, registry entries) and of
    /// our dead workers.
    static func cleanRedis(_ redis: RedisClient, ids: [UUID]) async throws {
        let ours = Set(ids.map { $0.uuidString.lowercased() })
        let connection = try await redis.makeDedicatedConnection()
        defer { connection.close() }
        var cursor = "0"
        repeat {
            let reply = try await connection.send("SCAN", RedisArgument(cursor), "MATCH", "rq:*", "COUNT", "10000").array ?? []
            cursor = reply.first?.string ?? "0"
            let keys = (reply.last?.array?.compactMap(\.string) ?? []).filter {
                ours.contains(String($0.suffix(36))) || $0.hasPrefix("rq:worker:" + workerNamePrefix)
            }
            if !keys.isEmpty { _ = try await connection.send(["UNLINK"] + keys.map { RedisArgument($0) }) }
        } while cursor != "0"
        for registry in ["finished", "failed", "started", "deferred", "scheduled"] where !ours.isEmpty {
            _ = try await connection.send(["ZREM", RedisArgument("rq:\(registry):resume_processing")] + ours.map { RedisArgument($0) })
        }
    }
}

/// `q`-quantile (nearest rank) of `values`; 0 when empty.
func percentile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
}

/// A service group running in a task until ``stop()``.
struct RunningGroup: Sendable {
    let group: ServiceGroup
    let task: Task<Void, any Error>

    init(services: [any Service], logger: Logger) {
        let group = ServiceGroup(services: services, logger: logger)
        self.group = group
        // Unstructured on purpose: the bench drives uploads while the API and worker run, and
        // `stop()` awaits this task after a graceful shutdown, so it never outlives the bench.
        task = Task { try await group.run() }
    }

    /// Graceful shutdown, then waits for the group.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// A valid résumé fixture (expected outcome `text`).
struct Fixture: Sendable {
    var name: String
    var contentType: String
    var bytes: [UInt8]

    static func validSet(in directory: URL) throws -> [Fixture] {
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("expected.json")))
        guard let files = (expected as? [String: Any])?["files"] as? [String: Any] else {
            throw ValidationError("Fixtures/resumes/expected.json has no files")
        }
        return try files.keys.sorted().compactMap { name in
            guard let entry = files[name] as? [String: Any], entry["outcome"] as? String == "text" else { return nil }
            let type = switch entry["kind"] as? String {
            case "pdf": "application/pdf"
            case "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            default: "text/plain"
            }
            return Fixture(name: name, contentType: type, bytes: Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }
}

/// Posts résumés to `POST /resumes/upload` over raw HTTP/1.1 keep-alive sockets, one thread per
/// connection, and records when each upload started (seconds since 1970, bench clock).
final class UploadClient: Sendable {
    let port: Int
    let uploaders: Int
    private let ids = Mutex<[UUID]>([])

    init(port: Int, uploaders: Int) {
        self.port = port
        self.uploaders = uploaders
    }

    /// Hands out request indices to the connections.
    final class Counter: Sendable {
        private let value = Mutex(0)

        func next() -> Int {
            value.withLock { value in
                defer { value += 1 }
                return value
            }
        }
    }

    /// Uploads every fixture of `batch`; returns application id → upload start.
    func uploadAll(_ batch: [Fixture], jobPostID: UUID) async throws -> [UUID: Double] {
        let requests = batch.enumerated().map { index, fixture in Self.request(fixture, index: index, jobPostID: jobPostID) }
        let next = Counter()
        let port = port
        let results = try await withThrowingTaskGroup(of: [UUID: Double].self) { group in
            for _ in 0..<min(uploaders, requests.count) {
                group.addTask {
                    try await withCheckedThrowingContinuation { continuation in
                        Thread {
                            continuation.resume(with: Result { try Self.loop(port: port, requests: requests, next: next) })
                        }.start()
                    }
                }
            }
            var all: [UUID: Double] = [:]
            for try await part in group { all.merge(part) { first, _ in first } }
            return all
        }
        guard results.count == batch.count else { throw ValidationError("\(batch.count - results.count) uploads got no application id") }
        ids.withLock { $0 += results.keys }
        return results
    }

    /// The application ids uploaded so far (for cleaning Redis).
    var uploadedIDs: [UUID] { ids.withLock { $0 } }

    static func request(_ fixture: Fixture, index: Int, jobPostID: UUID) -> [UInt8] {
        let boundary = "----bench-pipeline-4b1e9a"
        var body: [UInt8] = []
        func part(_ disposition: String, _ value: [UInt8], contentType: String? = nil) {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; \(disposition)\r\n".utf8)
            if let contentType { body += Array("Content-Type: \(contentType)\r\n".utf8) }
            body += Array("\r\n".utf8) + value + Array("\r\n".utf8)
        }
        part("name=\"file\"; filename=\"\(fixture.name)\"", fixture.bytes, contentType: fixture.contentType)
        part("name=\"candidate_name\"", Array("Candidate \(index)".utf8))
        part("name=\"candidate_email\"", Array("candidate\(index)@example.com".utf8))
        part("name=\"job_post_id\"", Array(jobPostID.uuidString.lowercased().utf8))
        part("name=\"seniority_level\"", Array("SENIOR".utf8))
        body += Array("--\(boundary)--\r\n".utf8)
        let head = "POST /resumes/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=\(boundary)\r\nContent-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// One connection: takes the next request until none is left (blocking; runs on its own thread).
    static func loop(port: Int, requests: [[UInt8]], next: Counter) throws -> [UUID: Double] {
        var started: [UUID: Double] = [:]
        var fd: Int32 = -1
        defer { if fd >= 0 { close(fd) } }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let index = next.next()
            guard index < requests.count else { return started }
            if fd < 0 {
                fd = LoadGenerator.connectSocket(port: port)
                guard fd >= 0 else { throw ValidationError("cannot connect to the API on port \(port)") }
            }
            let start = Date().timeIntervalSince1970
            let request = requests[index]
            var offset = 0
            while offset < request.count {
                let sent = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { throw ValidationError("upload send failed") }
                offset += sent
            }
            var data: [UInt8] = []
            var keepAlive = true
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                guard count > 0 else { throw ValidationError("upload: connection closed before the answer") }
                data += buffer[0..<count]
                guard let end = LoadGenerator.find(data, [13, 10, 13, 10]) else { continue }
                let head = String(decoding: data[0..<end], as: UTF8.self).lowercased()
                var length = 0
                for line in head.split(separator: "\r\n") {
                    if line.hasPrefix("content-length:") { length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0 }
                    if line.hasPrefix("connection:") && line.contains("close") { keepAlive = false }
                }
                guard data.count >= end + 4 + length else { continue }
                let body = Data(data[(end + 4)..<(end + 4 + length)])
                guard head.hasPrefix("http/1.1 202"),
                      let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
                      let text = object["application_id"] as? String, let id = UUID(uuidString: text)
                else {
                    throw ValidationError("upload answered \(head.prefix(20)): \(String(decoding: body.prefix(300), as: UTF8.self))")
                }
                started[id] = start
                break
            }
            if !keepAlive {
                close(fd)
                fd = -1
            }
        }
    }
}

/// A ``TextExtractor`` standing in for a remote extraction service such as Textract: it reads the
/// stored file (as the service would fetch it), waits `delay` (the service's latency) and answers
/// the text the service would send back, prepared beforehand. No extraction runs on this machine;
/// a file with no prepared answer is an error.
struct SimulatedRemoteExtractor: TextExtractor {
    let answers: [Data: String]
    let delay: Duration

    var name: String { "simulated-remote" }

    func extractText(from document: StoredDocument) async throws(ProviderError) -> String {
        let bytes = try await document.storage.get(key: document.key)
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw ProviderError(.timeout, "cancelled")
        }
        guard let text = answers[bytes] else { throw ProviderError(.unreadableDocument, "no prepared answer for \(document.key)") }
        return text
    }
}

/// A minimal HTTP/1.1 server on a loopback port answering Gemini's `:embedContent` and
/// `:batchEmbedContents` with deterministic unit vectors after `delay`; one thread per connection.
final class FakeGeminiServer: Sendable {
    let port: Int
    private let listener: Int32
    private let counter = Mutex(0)
    let connectionCount = Mutex(0)
    /// Answers by request text: the fixtures repeat, and formatting 768 floats is not what is measured.
    private let cache = Mutex<[String: String]>([:])

    /// Requests answered so far.
    var requests: Int { counter.withLock { $0 } }

    init(delay: Duration, dimensions: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket() failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 256) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw ValidationError("the fake Gemini server cannot listen")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let microseconds = useconds_t(delay.components.seconds * 1_000_000 + delay.components.attoseconds / 1_000_000_000_000)
        Thread { [self] in
            while true {
                let connection = accept(fd, nil, nil)
                guard connection >= 0 else { return }
                self.connectionCount.withLock { $0 += 1 }
                Thread { self.serve(connection, delay: microseconds, dimensions: dimensions) }.start()
            }
        }.start()
    }

    /// Stops accepting; open connections end when their clients close them (or after 10 s idle).
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve(_ fd: Int32, delay: useconds_t, dimensions: Int) {
        defer { close(fd) }
        var time = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var data: [UInt8] = []
        while true {
            // One request: head, then Content-Length bytes of body.
            var request: (head: String, body: [UInt8])?
            while request == nil {
                if let end = LoadGenerator.find(data, [13, 10, 13, 10]) {
                    let head = String(decoding: data[0..<end], as: UTF8.self)
                    let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if data.count >= end + 4 + length {
                        request = (head, Array(data[(end + 4)..<(end + 4 + length)]))
                        data.removeFirst(end + 4 + length)
                        continue
                    }
                }
                let count = recv(fd, &buffer, buffer.count, 0)
                guard count > 0 else { return }
                data += buffer[0..<count]
            }
            guard let (head, body) = request else { return }
            usleep(delay)
            counter.withLock { $0 += 1 }
            let json: String
            let key = String(head.prefix(while: { $0 != "\r" })) + String(decoding: body, as: UTF8.self)
            if let cached = cache.withLock({ $0[key] }) {
                json = cached
            } else if head.hasPrefix("POST ") && head.contains(":batchEmbedContents") {
                let texts = Self.texts(body, batch: true)
                json = "{\"embeddings\":[" + texts.map { "{\"values\":\(Self.vector($0, dimensions: dimensions))}" }.joined(separator: ",") + "]}"
            } else if head.hasPrefix("POST ") && head.contains(":embedContent") {
                json = "{\"embedding\":{\"values\":\(Self.vector(Self.texts(body, batch: false).first ?? "", dimensions: dimensions))}}"
            } else {
                json = "{\"error\":{\"code\":404,\"message\":\"not found\",\"status\":\"NOT_FOUND\"}}"
            }
            cache.withLock { $0[key] = json }
            let status = json.hasPrefix("{\"error\"") ? "404 Not Found" : "200 OK"
            let answer = Array("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)".utf8)
            var offset = 0
            while offset < answer.count {
                let sent = answer[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { return }
                offset += sent
            }
        }
    }

    /// The texts of an `embedContent` body or of each request of a batch.
    static func texts(_ body: [UInt8], batch: Bool) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return [] }
        let requests = batch ? (object["requests"] as? [[String: Any]] ?? []) : [object]
        return requests.map { request in
            let parts = (request["content"] as? [String: Any])?["parts"] as? [[String: Any]] ?? []
            return parts.compactMap { $0["text"] as? String }.joined()
        }
    }

    /// A unit vector derived from the text's FNV-1a hash (SplitMix64 stream), as a JSON array.
    static func vector(_ text: String, dimensions: Int) -> String {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var values: [Double] = []
        values.reserveCapacity(dimensions)
        for _ in 0..<dimensions {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            z ^= z >> 31
            values.append(Double(z >> 11) / Double(1 << 53) * 2 - 1)
        }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        // Printed as Gemini prints them (a Float's shortest digits, up to 9 significant).
        return "[" + values.map { "\(Float($0 / norm))" }.joined(separator: ",") + "]"
    }
}

/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ValidationError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard ok else { throw ValidationError("cannot bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

