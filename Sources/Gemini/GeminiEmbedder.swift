import Foundation
import Logging
import Providers

/// Embeddings from Google's Gemini API (`models/{model}:embedContent` and `:batchEmbedContents`).
///
/// - The key goes in the `x-goog-api-key` header, never in the URL, a log line or an error.
/// - Texts longer than ``GeminiConfiguration/maximumChunkCharacters`` are split into chunks; all
///   chunks of all texts go out in as few `batchEmbedContents` calls as possible (≤ 100 requests
///   each, sent concurrently under a ``ConcurrencyLimiter``); a single chunk uses `embedContent`.
///   A text's vector is the mean of its chunks' vectors weighted by chunk length, L2-normalised
///   (Gemini normalises only its 3072-dimension output). An empty text gets the zero vector
///   without a request, as with the local embedder.
/// - HTTP 429, 500, 502, 503, 504 and lost connections are retried with capped exponential backoff
///   and jitter, waiting `RetryInfo.retryDelay` or `Retry-After` (seconds) when the server names a
///   wait; other 4xx fail at once with the API's message. Everything stops at the deadline.
/// - ``EmbeddingTask`` becomes `taskType`: `RETRIEVAL_DOCUMENT` for résumés, `RETRIEVAL_QUERY` for job posts.
public struct GeminiEmbedder: Embedder {
    /// The model name, e.g. `gemini-embedding-001`.
    public var name: String { configuration.modelName }
    /// ``GeminiConfiguration/dimensions``.
    public var dimensions: Int { configuration.dimensions }

    private let configuration: GeminiConfiguration
    private let transport: any HTTPTransport
    private let limiter: ConcurrencyLimiter
    private let logger: Logger

    /// Creates an embedder sending through `transport` (default: a new ``URLSessionTransport``).
    public init(configuration: GeminiConfiguration, transport: (any HTTPTransport)? = nil, logger: Logger) {
        self.configuration = configuration
        self.transport = transport ?? URLSessionTransport()
        self.limiter = ConcurrencyLimiter(limit: configuration.maximumConcurrentRequests)
        self.logger = logger
    }

    /// One L2-normalised vector of ``dimensions`` floats per text, in order.
    ///
    /// Errors: ``ProviderError/Code/rejected`` (bad key, bad input, permission; permanent),
    /// ``ProviderError/Code/configuration`` (unknown model: 404), ``ProviderError/Code/rateLimited``
    /// and ``ProviderError/Code/unavailable`` (still failing after the retries; transient),
    /// ``ProviderError/Code/timeout`` (deadline or cancellation), ``ProviderError/Code/badResponse``.
    public func embed(_ texts: [String], task: EmbeddingTask) async throws(ProviderError) -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        guard !configuration.apiKey.isEmpty else { throw ProviderError(.configuration, "GEMINI_API_KEY is empty") }
        let deadline = ContinuousClock.now.advanced(by: configuration.deadline)
        // Every chunk of every text, remembering whose it is.
        var chunks: [(owner: Int, text: String)] = []
        for (index, text) in texts.enumerated() {
            for chunk in Self.chunks(of: text, maximumCharacters: configuration.maximumChunkCharacters) {
                chunks.append((index, chunk))
            }
        }
        var sums = [[Double]](repeating: [Double](repeating: 0, count: dimensions), count: texts.count)
        guard !chunks.isEmpty else { return sums.map { $0.map(Float.init) } }

        let batchSize = max(1, min(100, configuration.maximumBatchSize))
        let batches = stride(from: 0, to: chunks.count, by: batchSize).map { Array(chunks[$0..<min($0 + batchSize, chunks.count)]) }
        let results: [[[Float]]]
        do {
            results = try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
                for (number, batch) in batches.enumerated() {
                    let texts = batch.map(\.text)
                    group.addTask { [self] in
                        let vectors = try await limiter.run { () async throws(ProviderError) -> [[Float]] in
                            try await send(texts, task: task, deadline: deadline)
                        }
                        return (number, vectors)
                    }
                }
                var collected = [[[Float]]](repeating: [], count: batches.count)
                for try await (number, vectors) in group { collected[number] = vectors }
                return collected
            }
        } catch let error as ProviderError {
            throw error
        } catch {
            throw ProviderError(.timeout, "Gemini embedding was cancelled")
        }
        for (batch, vectors) in zip(batches, results) {
            for (chunk, vector) in zip(batch, vectors) {
                let weight = Double(chunk.text.count)
                for index in 0..<dimensions { sums[chunk.owner][index] += weight * Double(vector[index]) }
            }
        }
        return sums.map(Self.normalized)
    }

    // MARK: Requests

    private struct Part: Codable { var text: String }
    private struct Content: Codable { var parts: [Part] }
    private struct EmbedRequest: Codable {
        var model: String
        var content: Content
        var taskType: String
        var outputDimensionality: Int
    }
    private struct BatchRequest: Codable { var requests: [EmbedRequest] }
    private struct Values: Codable { var values: [Float] }
    private struct EmbedResponse: Codable { var embedding: Values }
    private struct BatchResponse: Codable { var embeddings: [Values] }

    /// Embeds `texts` (≤ 100 chunks) in one call, with retries; one vector each, unnormalised.
    private func send(_ texts: [String], task: EmbeddingTask, deadline: ContinuousClock.Instant) async throws(ProviderError) -> [[Float]] {
        let model = "models/\(configuration.modelName)"
        let requests = texts.map {
            EmbedRequest(model: model, content: Content(parts: [Part(text: $0)]), taskType: task.rawValue,
                         outputDimensionality: configuration.dimensions)
        }
        let method = requests.count == 1 ? "embedContent" : "batchEmbedContents"
        let body: Data
        do {
            body = requests.count == 1 ? try JSONEncoder().encode(requests[0]) : try JSONEncoder().encode(BatchRequest(requests: requests))
        } catch {
            throw ProviderError(.badResponse, "cannot encode the Gemini request")
        }
        let base = configuration.baseURL.absoluteString.hasSuffix("/")
            ? String(configuration.baseURL.absoluteString.dropLast()) : configuration.baseURL.absoluteString
        guard let url = URL(string: "\(base)/\(configuration.apiVersion)/\(model):\(method)") else {
            throw ProviderError(.configuration, "invalid Gemini base URL or model name")
        }
        let response = try await withRetries(method: method, deadline: deadline) { timeout throws(ProviderError) in
            let request = HTTPRequest(
                method: "POST", url: url,
                headers: [("Content-Type", "application/json"), ("x-goog-api-key", configuration.apiKey)],
                body: body, timeout: timeout)
            return try await transport.send(request)
        }
        let vectors: [[Float]]
        do {
            if let fast = EmbeddingResponseReader.vectors(in: response.body, batch: requests.count != 1) {
                vectors = fast
            } else if requests.count == 1 {
                vectors = [try JSONDecoder().decode(EmbedResponse.self, from: response.body).embedding.values]
            } else {
                vectors = try JSONDecoder().decode(BatchResponse.self, from: response.body).embeddings.map(\.values)
            }
        } catch {
            throw ProviderError(.badResponse, "Gemini \(method) answered JSON without embeddings")
        }
        guard vectors.count == texts.count else {
            throw ProviderError(.badResponse, "Gemini \(method) returned \(vectors.count) embeddings for \(texts.count) texts")
        }
        for vector in vectors where vector.count != configuration.dimensions || !vector.allSatisfy(\.isFinite) {
            throw ProviderError(.badResponse, "Gemini \(method) returned a vector of \(vector.count) values, not \(configuration.dimensions)")
        }
        return vectors
    }

    /// Runs `attempt` until it gets a 2xx, a permanent failure, the attempt limit or the deadline.
    private func withRetries(
        method: String, deadline: ContinuousClock.Instant,
        _ attempt: (Duration) async throws(ProviderError) -> HTTPResponse
    ) async throws(ProviderError) -> HTTPResponse {
        let clock = ContinuousClock()
        var number = 0
        while true {
            number += 1
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw ProviderError(.timeout, "Gemini \(method): no answer within the \(configuration.deadline) deadline")
            }
            var serverWait: Duration?
            let failure: ProviderError
            do throws(ProviderError) {
                let response = try await attempt(min(configuration.requestTimeout, remaining))
                if (200..<300).contains(response.status) { return response }
                let error = Self.error(from: response, method: method, apiKey: configuration.apiKey)
                guard error.isTransient else { throw error }
                failure = error
                serverWait = Self.serverWait(response)
            } catch {
                guard error.isTransient else { throw error }
                if Task.isCancelled { throw ProviderError(.timeout, "Gemini \(method) was cancelled") }
                failure = error
            }
            guard number < max(1, configuration.maximumAttempts) else { throw failure }
            let wait = min(serverWait ?? backoff(attempt: number), configuration.maximumBackoff)
            guard clock.now.advanced(by: wait) < deadline else {
                throw ProviderError(failure.code, "\(failure.message); the next retry would pass the \(configuration.deadline) deadline")
            }
            logger.debug("retrying Gemini request", metadata: [
                "gemini.method": "\(method)", "gemini.attempt": "\(number)", "gemini.error": "\(failure.code.rawValue)",
                "gemini.wait_ms": "\(Int(wait.seconds * 1000))",
            ])
            do {
                try await Task.sleep(for: wait)
            } catch {
                throw ProviderError(.timeout, "Gemini \(method) was cancelled")
            }
        }
    }

    /// Exponential backoff from ``GeminiConfiguration/initialBackoff`` with jitter: a random wait
    /// between half and all of `initial · 2^(attempt-1)`, capped.
    private func backoff(attempt: Int) -> Duration {
        let base = min(configuration.initialBackoff.seconds * pow(2, Double(attempt - 1)), configuration.maximumBackoff.seconds)
        return .milliseconds(Int(Double.random(in: (base / 2)...max(base / 2, base)) * 1000))
    }

    /// The wait a 429/503 names: `RetryInfo.retryDelay` in the body (e.g. `"38s"`, `"1.5s"`), else
    /// a `Retry-After` header in seconds.
    static func serverWait(_ response: HTTPResponse) -> Duration? {
        if let json = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
           let error = json["error"] as? [String: Any], let details = error["details"] as? [[String: Any]] {
            for detail in details where (detail["@type"] as? String)?.hasSuffix("google.rpc.RetryInfo") == true {
                if let delay = detail["retryDelay"] as? String, delay.hasSuffix("s"), let seconds = Double(delay.dropLast()), seconds >= 0 {
                    return .milliseconds(Int(seconds * 1000))
                }
            }
        }
        if let header = response.headers["retry-after"], let seconds = Double(header.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            return .milliseconds(Int(seconds * 1000))
        }
        return nil
    }

    /// Maps a non-2xx answer to an error carrying Google's status and message (the key, should the
    /// message ever quote it, is replaced by `***`).
    static func error(from response: HTTPResponse, method: String, apiKey: String) -> ProviderError {
        var detail = ""
        if let json = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
           let error = json["error"] as? [String: Any] {
            let status = error["status"] as? String ?? ""
            let message = (error["message"] as? String ?? "").prefix(500)
            detail = [status, String(message)].filter { !$0.isEmpty }.joined(separator: ": ")
        }
        if !apiKey.isEmpty { detail = detail.replacingOccurrences(of: apiKey, with: "***") }
        let text = "Gemini \(method) HTTP \(response.status)" + (detail.isEmpty ? "" : " \(detail)")
        switch response.status {
        case 429: return ProviderError(.rateLimited, text)
        case 500, 502, 503, 504: return ProviderError(.unavailable, text)
        case 408: return ProviderError(.timeout, text)
        case 404: return ProviderError(.configuration, text)
        case 400..<500: return ProviderError(.rejected, text)
        default: return ProviderError(.badResponse, text, isTransient: response.status >= 500)
        }
    }

    // MARK: Chunks and vectors

    /// `text` cut into pieces of at most `maximumCharacters` characters, at a line break or space in
    /// the second half of each window when there is one; whitespace-only pieces are dropped.
    static func chunks(of text: String, maximumCharacters: Int) -> [String] {
        let limit = max(1, maximumCharacters)
        var result: [String] = []
        // Most texts fit in one chunk: a UTF-8 byte count within the limit bounds the characters too.
        if text.utf8.count <= limit {
            let trimmed = trimmingWhitespace(Substring(text))
            return trimmed.isEmpty ? [] : [trimmed]
        }
        var rest = Substring(text)
        while !rest.isEmpty {
            var piece = rest.prefix(limit)
            if piece.count == limit && rest.count > limit {
                let half = piece.index(piece.startIndex, offsetBy: limit / 2)
                if let cut = piece[half...].lastIndex(where: { $0 == "\n" }) ?? piece[half...].lastIndex(where: \.isWhitespace) {
                    piece = piece[..<piece.index(after: cut)]
                }
            }
            rest = rest[piece.endIndex...]
            let trimmed = trimmingWhitespace(piece)
            if !trimmed.isEmpty { result.append(trimmed) }
        }
        return result
    }

    /// `trimmingCharacters(in: .whitespacesAndNewlines)` on the scalars at both ends only (the
    /// Foundation call copies the whole text first).
    static func trimmingWhitespace(_ text: Substring) -> String {
        let scalars = text.unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end, CharacterSet.whitespacesAndNewlines.contains(scalars[start]) { start = scalars.index(after: start) }
        while end > start, CharacterSet.whitespacesAndNewlines.contains(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        return String(scalars[start..<end])
    }

    static func normalized(_ vector: [Double]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return vector.map { _ in 0 } }
        return vector.map { Float($0 / norm) }
    }
}

extension Duration {
    /// The duration in seconds.
    fileprivate var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
