import Foundation

/// Settings for ``GeminiEmbedder``. Every field but the key has a default that suits the
/// résumé pipeline; the key is never printed (``description`` redacts it).
public struct GeminiConfiguration: Sendable, CustomStringConvertible {
    /// The API key, sent as the `x-goog-api-key` header (never in the URL). From `GEMINI_API_KEY`.
    public var apiKey: String
    /// The embedding model. Default: `gemini-embedding-001` (`text-embedding-004` was shut down in
    /// January 2026). A leading `models/` is accepted and ignored.
    public var model: String
    /// `outputDimensionality`: the vector length, 128–3072 for `gemini-embedding-001`. Default: 768,
    /// the local embedder's length, which fits a PLAIN `real[]` column.
    public var dimensions: Int
    /// The API's origin; tests point it at a local fake. Default: `https://generativelanguage.googleapis.com`.
    public var baseURL: URL
    /// The path's API version. Default: `v1beta`.
    public var apiVersion: String
    /// Texts longer than this many characters are split into chunks (at whitespace where possible)
    /// whose vectors are averaged. Default: 6 000 (about 1 500 tokens; the model takes 2 048).
    public var maximumChunkCharacters: Int
    /// Requests per `batchEmbedContents` call; the API allows at most 100. Default: 100.
    public var maximumBatchSize: Int
    /// One HTTP request's timeout. Default: 30 s.
    public var requestTimeout: Duration
    /// The whole ``GeminiEmbedder/embed(_:task:)`` call's deadline, retries included. Default: 120 s.
    public var deadline: Duration
    /// Attempts per request, the first included, for HTTP 429/500/502/503/504 and lost connections.
    /// Default: 5.
    public var maximumAttempts: Int
    /// The first backoff; it doubles per attempt, with jitter (a random wait between half and all of
    /// it). Default: 1 s.
    public var initialBackoff: Duration
    /// The longest single wait, also capping `Retry-After` and `RetryInfo.retryDelay`. Default: 60 s.
    public var maximumBackoff: Duration
    /// Requests in flight at once from this embedder. Default: 8.
    public var maximumConcurrentRequests: Int

    /// Creates a configuration with the documented defaults.
    public init(
        apiKey: String,
        model: String = "gemini-embedding-001",
        dimensions: Int = 768,
        baseURL: URL = URL(string: "https://generativelanguage.googleapis.com")!,
        apiVersion: String = "v1beta",
        maximumChunkCharacters: Int = 6_000,
        maximumBatchSize: Int = 100,
        requestTimeout: Duration = .seconds(30),
        deadline: Duration = .seconds(120),
        maximumAttempts: Int = 5,
        initialBackoff: Duration = .seconds(1),
        maximumBackoff: Duration = .seconds(60),
        maximumConcurrentRequests: Int = 8
    ) {
        self.apiKey = apiKey
        self.model = model
        self.dimensions = dimensions
        self.baseURL = baseURL
        self.apiVersion = apiVersion
        self.maximumChunkCharacters = maximumChunkCharacters
        self.maximumBatchSize = maximumBatchSize
        self.requestTimeout = requestTimeout
        self.deadline = deadline
        self.maximumAttempts = maximumAttempts
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.maximumConcurrentRequests = maximumConcurrentRequests
    }

    /// The model's bare name, without `models/`.
    var modelName: String { model.hasPrefix("models/") ? String(model.dropFirst("models/".count)) : model }

    /// The settings with the key shown as `***`.
    public var description: String {
        "GeminiConfiguration(apiKey: ***, model: \(modelName), dimensions: \(dimensions), baseURL: \(baseURL.absoluteString), "
            + "apiVersion: \(apiVersion), maximumChunkCharacters: \(maximumChunkCharacters), maximumBatchSize: \(maximumBatchSize), "
            + "requestTimeout: \(requestTimeout), deadline: \(deadline), maximumAttempts: \(maximumAttempts), "
            + "initialBackoff: \(initialBackoff), maximumBackoff: \(maximumBackoff), maximumConcurrentRequests: \(maximumConcurrentRequests))"
    }
}
