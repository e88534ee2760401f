import ApplicationStore
import ClientSupport
import Foundation
import Logging
import Postgres
import Providers
import Synchronization

/// Why processing one application failed, and whether the queue should retry it.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    /// Stable codes for `error_message` prefixes and metrics.
    public enum Code: String, Sendable {
        /// The application id is not in the database.
        case unknownApplication = "unknown_application"
        /// The application's job post is gone.
        case unknownJobPost = "unknown_job_post"
        /// The row has no stored file.
        case missingFile = "missing_file"
        /// A provider failed (storage, extraction, embedding); see the message.
        case provider = "provider"
        /// PostgreSQL failed.
        case database = "database"
    }

    /// The code.
    public var code: Code
    /// The readable reason stored in `error_message`.
    public var message: String
    /// Whether a retry may succeed.
    public var isTransient: Bool

    /// Creates an error.
    public init(_ code: Code, _ message: String, isTransient: Bool) {
        self.code = code
        self.message = message
        self.isTransient = isTransient
    }

    /// `"<code>: <message>"`.
    public var description: String { "\(code.rawValue): \(message)" }
}

/// What one run of the pipeline did.
public enum PipelineOutcome: Sendable, Equatable {
    /// The row went to `COMPLETED` with this score.
    case completed(score: Double)
    /// The row was already `COMPLETED` and `force` was not set: nothing changed.
    case alreadyCompleted
}

/// The résumé pipeline for one application: `PENDING → PROCESSING → COMPLETED | FAILED`.
///
/// Load the row, fetch the stored file, extract its text, embed it, embed the job post once
/// (cached in its row), score by cosine similarity, and write text, embedding, score and
/// `processed_at` with `COMPLETED` in one statement. Failures set `FAILED` with a readable
/// `error_message` and are thrown so the queue's retry policy applies (transient ones — timeouts,
/// 429, 5xx, lost connections — are marked so). Idempotent: running it again gives the same row,
/// and a `COMPLETED` row is left alone unless `force`.
public struct ResumeProcessor: Sendable {
    /// Where the rows are.
    public let repository: ApplicationRepository
    /// The providers.
    public let providers: ResumeProviders
    let logger: Logger
    /// Job post embeddings being computed, by post id.
    private let postEmbeddings: SingleFlight<UUID, [Float]>
    /// Job post embeddings read from their rows, by post id and `updated_at`.
    private let postVectors = JobPostVectors()

    /// Creates a processor.
    public init(repository: ApplicationRepository, providers: ResumeProviders, logger: Logger) {
        self.postEmbeddings = SingleFlight()
        self.repository = repository
        self.providers = providers
        self.logger = logger
    }

    /// Processes application `applicationID`. `jobPostID`, when given, must match the row's.
    @discardableResult
    public func process(applicationID: UUID, jobPostID: UUID? = nil, force: Bool = false) async throws(PipelineError) -> PipelineOutcome {
        // The usual case in one statement: the row is ours to process; mark it and read its post.
        if let start = try await database({ try await repository.beginProcessing(id: applicationID, jobPostID: jobPostID, force: force) }) {
            do throws(PipelineError) {
                guard let post = start.post else {
                    throw PipelineError(.unknownJobPost, "job post \(start.application.jobPostID) no longer exists", isTransient: false)
                }
                return try await run(start.application, post: post, storedPostDimensions: start.postEmbeddingDimensions)
            } catch {
                await recordFailure(applicationID, error)
                throw error
            }
        }
        // Otherwise read the row to say why (or, after a race, to go the long way).
        let existing = try await database { try await repository.application(id: applicationID) }
        guard let existing else {
            throw PipelineError(.unknownApplication, "no application \(applicationID.uuidString.lowercased())", isTransient: false)
        }
        if existing.status == .completed && !force { return .alreadyCompleted }
        do throws(PipelineError) {
            if let jobPostID, jobPostID != existing.jobPostID {
                throw PipelineError(.unknownJobPost, "job post \(jobPostID) does not match the application's", isTransient: false)
            }
            guard existing.storageKey != nil else { throw PipelineError(.missingFile, "the application has no stored file", isTransient: false) }
            _ = try await database { try await repository.startProcessing(id: existing.id) }
            guard let post = try await database({ try await repository.jobPost(id: existing.jobPostID) }) else {
                throw PipelineError(.unknownJobPost, "job post \(existing.jobPostID) no longer exists", isTransient: false)
            }
            return try await run(existing, post: post, storedPostDimensions: post.embedding?.count)
        } catch {
            await recordFailure(applicationID, error)
            throw error
        }
    }

    /// Records a failure on the row; a failure to record is logged, not hidden.
    private func recordFailure(_ applicationID: UUID, _ error: PipelineError) async {
        do {
            try await repository.fail(id: applicationID, reason: error.description)
        } catch {
            logger.error("could not record the failure", metadata: ["application.id": "\(applicationID)", "error": "\(error)"])
        }
    }

    /// Extraction, embedding, scoring and `COMPLETED`, for a row already marked `PROCESSING`.
    private func run(_ existing: Application, post: JobPost, storedPostDimensions: Int?) async throws(PipelineError) -> PipelineOutcome {
        let id = existing.id
        guard let key = existing.storageKey else { throw PipelineError(.missingFile, "the application has no stored file", isTransient: false) }
        let kind = Self.kind(of: existing)
        let text = try await provider { () async throws(ProviderError) -> String in
            try await providers.extractor.extractText(from: StoredDocument(key: key, kind: kind, storage: providers.storage))
        }
        let vectors = try await provider { () async throws(ProviderError) -> [[Float]] in
            try await providers.embedder.embed([text], task: .document)
        }
        guard let vector = vectors.first, vector.count == providers.embedder.dimensions else {
            throw PipelineError(.provider, "the embedder returned no vector", isTransient: true)
        }
        let postVector = try await jobPostEmbedding(post, storedDimensions: storedPostDimensions)
        guard postVector.count == vector.count else {
            throw PipelineError(.provider, "job post embedding has \(postVector.count) dimensions, résumé \(vector.count)", isTransient: false)
        }
        let score = cosineSimilarity(vector, postVector)
        try await database { try await repository.complete(id: id, text: text, embedding: vector, model: providers.embedder.name, score: score) }
        return .completed(score: score)
    }

    /// The job post's embedding: cached in its row, computed once (query task) when missing or
    /// made by another embedder (its name or length differs). Jobs of the same post that need it at the same
    /// time share one computation (``SingleFlight``): a new post's first 50 résumés make one request.
    /// The row's value is also kept in memory under the post's `updated_at` (any change to the post
    /// bumps it), so a résumé does not read 768 numbers back from PostgreSQL each time.
    private func jobPostEmbedding(_ post: JobPost, storedDimensions: Int?) async throws(PipelineError) -> [Float] {
        let embedder = providers.embedder
        if let cached = post.embedding(madeBy: embedder) {
            postVectors.store(cached, for: post)
            return cached
        }
        // The row's model is known even when its vector was left out of the read.
        if post.embeddingModel == embedder.name {
            if let remembered = postVectors.vector(for: post), remembered.count == embedder.dimensions { return remembered }
            if storedDimensions == embedder.dimensions, let stored = try await database({ try await repository.jobPost(id: post.id) }),
               let vector = stored.embedding(madeBy: embedder) {
                postVectors.store(vector, for: stored)
                return vector
            }
        }
        do {
            return try await postEmbeddings.value(for: post.id) { try await computeJobPostEmbedding(post) }
        } catch let error as PipelineError {
            throw error
        } catch {
            throw PipelineError(.provider, "\(error)", isTransient: true)  // not reached: the body throws PipelineError only
        }
    }

    private func computeJobPostEmbedding(_ post: JobPost) async throws(PipelineError) -> [Float] {
        // A job that read the post before another job's flight cached the vector can start its
        // own flight after that one ended: the row has the vector by then. One read per flight.
        if let stored = try await database({ try await repository.jobPost(id: post.id) }), let vector = stored.embedding(madeBy: providers.embedder) {
            postVectors.store(vector, for: stored)
            return vector
        }
        let text = post.embeddingText
        let vectors = try await provider { () async throws(ProviderError) -> [[Float]] in
            try await providers.embedder.embed([text], task: .query)
        }
        guard let vector = vectors.first else { throw PipelineError(.provider, "the embedder returned no vector", isTransient: true) }
        let model = providers.embedder.name
        return try await database { try await repository.cacheEmbedding(jobPostID: post.id, embedding: vector, model: model) }
    }

    /// The document kind recorded at upload (content type), else the key's extension.
    static func kind(of application: Application) -> DocumentKind {
        if let type = application.contentType, let kind = DocumentKind.allCases.first(where: { type.hasPrefix($0.contentType.split(separator: ";")[0]) }) {
            return kind
        }
        let ext = application.storageKey?.split(separator: ".").last.map(String.init) ?? ""
        return DocumentKind(rawValue: ext) ?? ["jpg": .jpeg, "tif": .tiff][ext] ?? .pdf
    }

    private func database<T>(_ body: () async throws -> T) async throws(PipelineError) -> T {
        do {
            return try await body()
        } catch let error as PostgresError {
            throw PipelineError(.database, error.description, isTransient: error.isTransient)
        } catch {
            throw PipelineError(.database, "\(error)", isTransient: true)
        }
    }

    private func provider<T>(_ body: () async throws(ProviderError) -> T) async throws(PipelineError) -> T {
        do {
            return try await body()
        } catch {
            throw PipelineError(.provider, error.description, isTransient: error.isTransient)
        }
    }
}

/// Job post embeddings as last read from their rows, keyed by post id and valid for one
/// `updated_at`; at most `limit` posts (all forgotten when full: posts are few, résumés many).
final class JobPostVectors: Sendable {
    private let entries = Mutex<[UUID: (updatedAt: Date, vector: [Float])]>([:])
    private let limit = 1_024

    /// The vector read for this version of `post`, if any.
    func vector(for post: JobPost) -> [Float]? {
        entries.withLock { entries in entries[post.id].flatMap { $0.updatedAt == post.updatedAt ? $0.vector : nil } }
    }

    /// Remembers `vector` for this version of `post`.
    func store(_ vector: [Float], for post: JobPost) {
        entries.withLock { entries in
            if entries.count >= limit && entries[post.id] == nil { entries.removeAll() }
            entries[post.id] = (post.updatedAt, vector)
        }
    }
}

extension JobPost {
    /// The cached vector if `embedder` made it (same name, same length), else `nil`: vectors of
    /// different models are never compared.
    func embedding(madeBy embedder: any Embedder) -> [Float]? {
        guard embeddingModel == embedder.name, let embedding, embedding.count == embedder.dimensions else { return nil }
        return embedding
    }
}
