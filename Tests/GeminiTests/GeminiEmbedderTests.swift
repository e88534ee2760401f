import FakeGemini
import Foundation
import Gemini
import Logging
import Providers
import TestSupport
import Testing

@Suite("Gemini embedder against a local fake API")
struct GeminiEmbedderTests {
    private func configuration(_ server: FakeGeminiServer, _ change: (inout GeminiConfiguration) -> Void = { _ in }) -> GeminiConfiguration {
        var configuration = GeminiConfiguration(apiKey: server.apiKey, baseURL: server.baseURL)
        configuration.initialBackoff = .milliseconds(50)
        configuration.maximumBackoff = .seconds(3)
        // Generous: when CPU-bound suites fill the cooperative pool (2 threads on CI), requests can
        // wait a long time before they even leave; the timing tests set their own values.
        configuration.requestTimeout = .seconds(120)
        configuration.deadline = .seconds(300)
        change(&configuration)
        return configuration
    }

    private func embedder(_ server: FakeGeminiServer, _ change: (inout GeminiConfiguration) -> Void = { _ in }) -> GeminiEmbedder {
        GeminiEmbedder(configuration: configuration(server, change), logger: TestEnvironment.logger)
    }

    private func normalized(_ vector: [Double]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return vector.map { Float($0 / norm) }
    }

    private func normalized(_ vector: [Float]) -> [Float] { normalized(vector.map(Double.init)) }

    private func close(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 }
    }

    private func failure(_ body: () async throws(ProviderError) -> [[Float]]) async -> ProviderError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error
        }
    }

    @Test func aKeepAliveServerAnswersManyRequestsOnFewConnections() async throws {
        // The mode `bench pipeline` uses: the same checks, connections reused.
        let server = try FakeGeminiServer(keepAlive: true)
        defer { server.stop() }
        let gemini = embedder(server)
        for index in 0..<12 {
            let vectors = try await gemini.embed(["text \(index % 3)"], task: .query)
            #expect(close(vectors[0], normalized(FakeGeminiServer.vector(for: "text \(index % 3)", dimensions: 768))))
        }
        #expect(server.violations.isEmpty, "\(server.violations)")
        #expect(server.requestCount == 12)
        #expect(server.connectionCount < 12)
    }

    @Test func oneTextUsesEmbedContentExactlyAsDocumented() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        let gemini = embedder(server)
        #expect(gemini.name == "gemini-embedding-001")
        #expect(gemini.dimensions == 768)
        let vectors = try await gemini.embed(["Senior Swift engineer"], task: .document)
        #expect(server.violations.isEmpty, "\(server.violations)")
        let request = try #require(server.requests.first)
        #expect(server.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.target == "/v1beta/models/gemini-embedding-001:embedContent")
        #expect(request.headers["x-goog-api-key"] == server.apiKey)
        #expect(request.headers["content-type"] == "application/json")
        let json = try #require(request.json)
        #expect(Set(json.keys) == ["model", "content", "taskType", "outputDimensionality"])
        #expect(json["model"] as? String == "models/gemini-embedding-001")
        #expect(json["taskType"] as? String == "RETRIEVAL_DOCUMENT")
        #expect(json["outputDimensionality"] as? Int == 768)
        let content = try #require(json["content"] as? [String: Any])
        #expect((content["parts"] as? [[String: String]]) == [["text": "Senior Swift engineer"]])
        // Gemini's 768-dimension output is not unit length; ours is.
        let raw = FakeGeminiServer.vector(for: "Senior Swift engineer", dimensions: 768)
        #expect(abs(raw.reduce(0) { $0 + $1 * $1 }.squareRoot() - 1) > 0.5)
        #expect(close(vectors[0], normalized(raw)))
    }

    @Test func severalTextsGoInOneBatchInOrder() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        let texts = ["Backend engineer, Swift and PostgreSQL", "Zoë Müller — frontend", "Data engineer, Spark"]
        let vectors = try await embedder(server, { $0.dimensions = 256 }).embed(texts, task: .query)
        #expect(server.violations.isEmpty, "\(server.violations)")
        #expect(server.requests.count == 1)
        let request = try #require(server.requests.first)
        #expect(request.target == "/v1beta/models/gemini-embedding-001:batchEmbedContents")
        let items = try #require(request.json?["requests"] as? [[String: Any]])
        #expect(items.count == 3)
        for (item, text) in zip(items, texts) {
            #expect(item["model"] as? String == "models/gemini-embedding-001")
            #expect(item["taskType"] as? String == "RETRIEVAL_QUERY")
            #expect(item["outputDimensionality"] as? Int == 256)
            #expect(((item["content"] as? [String: Any])?["parts"] as? [[String: String]]) == [["text": text]])
        }
        for (vector, text) in zip(vectors, texts) {
            #expect(close(vector, normalized(FakeGeminiServer.vector(for: text, dimensions: 256))))
        }
    }

    /// Whitespace and newlines (Unicode's, as Foundation's `whitespacesAndNewlines` has them) are
    /// trimmed from both ends of each chunk and nowhere else; a blank text is not sent.
    @Test func chunksAreTrimmedAtBothEndsOnly() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        let texts = [" \n\t Senior  Swift\u{2003}engineer\r\n\u{2003}\u{85}", "\u{A0}Zoë — 🌍 \n"]
        _ = try await embedder(server).embed(texts, task: .query)
        let items = try #require(server.requests.first?.json?["requests"] as? [[String: Any]])
        let sent = items.compactMap { (($0["content"] as? [String: Any])?["parts"] as? [[String: String]])?.first?["text"] }
        #expect(sent == texts.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(sent == ["Senior  Swift\u{2003}engineer", "Zoë — 🌍"])
        let blank = try await embedder(server).embed([" \n\u{2003} "], task: .query)
        #expect(blank == [[Float](repeating: 0, count: 768)])
        #expect(server.requests.count == 1)
    }

    @Test func longTextIsChunkedInOneBatchAveragedAndNormalised() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        let paragraph = String(repeating: "Built distributed job queues in Swift. ", count: 10)  // 390 characters
        let text = [paragraph, paragraph.uppercased(), paragraph.lowercased()].joined(separator: "\n")
        let vectors = try await embedder(server, { $0.maximumChunkCharacters = 400 }).embed([text, "short"], task: .document)
        #expect(server.violations.isEmpty, "\(server.violations)")
        #expect(server.requests.count == 1)
        let items = try #require(server.requests.first?.json?["requests"] as? [[String: Any]])
        let chunks = items.compactMap { (($0["content"] as? [String: Any])?["parts"] as? [[String: String]])?.first?["text"] }
        #expect(chunks.count == 4)  // three chunks of the long text, then "short"
        #expect(chunks.allSatisfy { $0.count <= 400 && !$0.isEmpty })
        #expect(chunks.last == "short")
        #expect(chunks.dropLast().joined(separator: " ").split(separator: " ") == text.split(whereSeparator: \.isWhitespace))
        // The long text's vector: the chunk vectors weighted by length, averaged, normalised.
        var sum = [Double](repeating: 0, count: 768)
        for chunk in chunks.dropLast() {
            for (index, value) in FakeGeminiServer.vector(for: chunk, dimensions: 768).enumerated() {
                sum[index] += Double(chunk.count) * Double(value)
            }
        }
        #expect(close(vectors[0], normalized(sum)))
        #expect(close(vectors[1], normalized(FakeGeminiServer.vector(for: "short", dimensions: 768))))
    }

    @Test func moreThanOneHundredChunksAreSplitIntoBatches() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        let texts = (0..<250).map { "candidate \($0) knows Swift" }
        let vectors = try await embedder(server).embed(texts, task: .document)
        #expect(server.violations.isEmpty, "\(server.violations)")
        let sizes = server.requests.compactMap { ($0.json?["requests"] as? [Any])?.count }.sorted()
        #expect(sizes == [50, 100, 100])
        #expect(vectors.count == 250)
        #expect(close(vectors[249], normalized(FakeGeminiServer.vector(for: texts[249], dimensions: 768))))
    }

    @Test func emptyInputNeedsNoRequest() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        #expect(try await embedder(server).embed([], task: .document).isEmpty)
        let vectors = try await embedder(server).embed(["  \n "], task: .document)
        #expect(vectors == [[Float](repeating: 0, count: 768)])
        #expect(server.requests.isEmpty)
    }

    @Test func rateLimitWaitsForRetryAfter() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        server.script(.respond(status: 429, headers: ["Retry-After": "1"],
                               body: FakeGeminiServer.errorBody(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")))
        let started = ContinuousClock.now
        let vectors = try await embedder(server).embed(["retry me"], task: .document)
        let elapsed = ContinuousClock.now - started
        #expect(server.requests.count == 2)
        #expect(elapsed >= .milliseconds(950))  // the backoff alone would be ~50 ms
        #expect(elapsed < .seconds(120))  // generous: other suites may load the machine
        #expect(close(vectors[0], normalized(FakeGeminiServer.vector(for: "retry me", dimensions: 768))))
    }

    @Test func rateLimitHonoursRetryInfoInTheBody() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        let details = #"[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.7s"}]"#
        server.script(.respond(status: 429, headers: ["Retry-After": "600"],
                               body: FakeGeminiServer.errorBody(429, "RESOURCE_EXHAUSTED", "quota", details: details)))
        let started = ContinuousClock.now
        _ = try await embedder(server, { $0.maximumBackoff = .seconds(900) }).embed(["retry me"], task: .document)
        let elapsed = ContinuousClock.now - started
        #expect(server.requests.count == 2)
        #expect(elapsed >= .milliseconds(650) && elapsed < .seconds(300))  // RetryInfo (0.7 s) wins over Retry-After (600 s)
    }

    @Test func serverErrorsAndDroppedConnectionsAreRetried() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        server.script(
            .respond(status: 500, headers: [:], body: FakeGeminiServer.errorBody(500, "INTERNAL", "internal error")),
            .close,
            .truncate,
            .respond(status: 503, headers: [:], body: FakeGeminiServer.errorBody(503, "UNAVAILABLE", "overloaded")))
        let vectors = try await embedder(server, { $0.maximumAttempts = 5 }).embed(["persist"], task: .document)
        #expect(server.requests.count == 5)
        #expect(close(vectors[0], normalized(FakeGeminiServer.vector(for: "persist", dimensions: 768))))
    }

    @Test func persistentFailureGivesUpAfterTheAttemptsAsTransient() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        let body = FakeGeminiServer.errorBody(503, "UNAVAILABLE", "The model is overloaded.")
        server.script(.respond(status: 503, headers: [:], body: body), .respond(status: 503, headers: [:], body: body),
                      .respond(status: 503, headers: [:], body: body), .respond(status: 503, headers: [:], body: body))
        let error = await failure { () async throws(ProviderError) in
            try await embedder(server, { $0.maximumAttempts = 3 }).embed(["x"], task: .document)
        }
        #expect(error?.code == .unavailable)
        #expect(error?.isTransient == true)
        #expect(error?.message.contains("The model is overloaded.") == true)
        #expect(server.requests.count == 3)
    }

    @Test func invalidKeyIsPermanentAndNeverLeaksTheKey() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        let wrongKey = "AIzaWRONG-\(UUID().uuidString)"
        let gemini = GeminiEmbedder(
            configuration: configuration(server, { $0.apiKey = wrongKey }), logger: TestEnvironment.logger)
        let error = await failure { () async throws(ProviderError) in try await gemini.embed(["x"], task: .document) }
        #expect(error?.code == .rejected)
        #expect(error?.isTransient == false)
        #expect(error?.message.contains("API key not valid") == true)
        #expect(error.map { "\($0)".contains(wrongKey) } == false)
        #expect(server.requests.count == 1)  // not retried
        #expect(server.requests.allSatisfy { !$0.target.contains(wrongKey) && !$0.target.contains("key=") })
        #expect(!"\(configuration(server, { $0.apiKey = wrongKey }))".contains(wrongKey))
        let noKey = GeminiEmbedder(configuration: configuration(server, { $0.apiKey = "" }), logger: TestEnvironment.logger)
        let missing = await failure { () async throws(ProviderError) in try await noKey.embed(["x"], task: .document) }
        #expect(missing?.code == .configuration)
        #expect(server.requests.count == 1)
    }

    @Test func unknownModelIsAConfigurationError() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        let error = await failure { () async throws(ProviderError) in
            try await embedder(server, { $0.model = "models/text-embedding-004" }).embed(["x"], task: .document)
        }
        #expect(error?.code == .configuration)
        #expect(error?.isTransient == false)
        #expect(server.requests.first?.target == "/v1beta/models/text-embedding-004:embedContent")
    }

    @Test func slowAnswersHitTheRequestTimeoutAndTheDeadline() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        server.setSlow(.seconds(600))
        let started = ContinuousClock.now
        let error = await failure { () async throws(ProviderError) in
            try await embedder(server, {
                $0.requestTimeout = .milliseconds(400)
                $0.deadline = .seconds(2)
                $0.maximumAttempts = 100
            }).embed(["slow"], task: .document)
        }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .timeout)
        // The deadline (2 s), not a 600 s answer or 100 attempts of 0.4 s plus up to 3 s of backoff
        // (over 200 s); the bound is generous for a loaded machine.
        #expect(elapsed >= .seconds(1) && elapsed < .seconds(150))
    }

    @Test func wrongDimensionsAreABadResponse() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        server.script(.respond(status: 200, headers: [:], body: #"{"embedding": {"values": [0.1, 0.2]}}"#),
                      .respond(status: 200, headers: [:], body: #"{"unexpected": true}"#))
        let short = await failure { () async throws(ProviderError) in try await embedder(server).embed(["x"], task: .document) }
        #expect(short?.code == .badResponse)
        let missing = await failure { () async throws(ProviderError) in try await embedder(server).embed(["x"], task: .document) }
        #expect(missing?.code == .badResponse)
    }

    @Test func concurrentRequestsStayWithinTheLimit() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        server.setSlow(.milliseconds(150))
        let gemini = embedder(server, { $0.maximumConcurrentRequests = 2 })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<8 {
                group.addTask {
                    let vectors = try await gemini.embed(["text \(index)"], task: .document)
                    #expect(close(vectors[0], normalized(FakeGeminiServer.vector(for: "text \(index)", dimensions: 768))))
                }
            }
            try await group.waitForAll()
        }
        #expect(server.requests.count == 8)
        #expect(server.peakConcurrency == 2)
    }

    @Test func cancellationStopsWaiting() async throws {
        let server = try FakeGeminiServer()
        defer { server.stop() }
        server.setSlow(.seconds(600))
        let gemini = embedder(server, { $0.requestTimeout = .seconds(600); $0.deadline = .seconds(900) })
        let task = Task { try await gemini.embed(["never"], task: .document) }
        try await waitUntil(.seconds(120), "the request reached the fake") { !server.requests.isEmpty }
        let started = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(throws: ProviderError.self) { try result.get() }
        #expect(ContinuousClock.now - started < .seconds(120))  // not the 600 s answer
    }
}
