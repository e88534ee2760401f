import Foundation
import Postgres

/// A candidate's seniority, as the seed's enum (`JUNIOR|MID|SENIOR|LEAD`).
public enum SeniorityLevel: String, Sendable, Hashable, CaseIterable, Codable {
    case junior = "JUNIOR", mid = "MID", senior = "SENIOR", lead = "LEAD"

    /// Parses a level case-insensitively in ASCII only (`senior`, `Senior`, `SENIOR`; not `ſenior`,
    /// which Unicode case mapping would turn into `SENIOR`).
    public init?(caseInsensitive text: String) {
        self.init(rawValue: ASCIICase.uppercased(text.trimmingCharacters(in: .whitespaces)))
    }
}

/// Where an application is in the pipeline: `PENDING → PROCESSING → COMPLETED | FAILED`.
public enum ApplicationStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case pending = "PENDING", processing = "PROCESSING", completed = "COMPLETED", failed = "FAILED"

    /// Parses a status case-insensitively in ASCII only (`pending`; not `pendıng`).
    public init?(caseInsensitive text: String) {
        self.init(rawValue: ASCIICase.uppercased(text))
    }
}

/// Case mapping of ASCII letters only, for matching enum names: Unicode's `uppercased()` maps
/// `ſ` (long s) to `S` and `ı` (dotless i) to `I`, so `ſenior` would pass as `SENIOR`.
public enum ASCIICase {
    /// `text` with `a`…`z` upper-cased and every other scalar kept as it is.
    public static func uppercased(_ text: some StringProtocol) -> String {
        String(decoding: text.utf8.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }, as: UTF8.self)
    }
}

/// A row of `job_posts`.
public struct JobPost: Sendable, Hashable {
    /// Primary key.
    public var id: UUID
    /// Title shown to recruiters.
    public var title: String
    /// The text résumés are matched against.
    public var description: String
    /// Seniority sought.
    public var seniorityLevel: SeniorityLevel
    /// Cached embedding of `title + description` (filled lazily by the pipeline), if any.
    public var embedding: [Float]?
    /// The embedder that made ``embedding`` (its `name`); `nil` for one stored before migration 3.
    public var embeddingModel: String?
    /// Creation time.
    public var createdAt: Date
    /// Last change.
    public var updatedAt: Date

    /// Creates a value.
    public init(
        id: UUID, title: String, description: String, seniorityLevel: SeniorityLevel, embedding: [Float]? = nil,
        embeddingModel: String? = nil, createdAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.embeddingModel = embeddingModel
        self.id = id
        self.title = title
        self.description = description
        self.seniorityLevel = seniorityLevel
        self.embedding = embedding
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// What the pipeline embeds for the post: title, a blank line, description.
    public var embeddingText: String { title + "\n\n" + description }

    /// The columns ``init(row:)`` reads.
    public static let columns = "id, title, description, seniority_level, embedding, embedding_model, created_at, updated_at"

    /// ``columns`` of table alias `table`, each renamed `post_<name>` (for a join with another
    /// table); `embedding`, when given, is the SQL selected instead of the embedding column.
    public static func prefixedColumns(table: String, embedding: String? = nil) -> String {
        columns.split(separator: ",").map { name in
            let name = name.trimmingCharacters(in: .whitespaces)
            if name == "embedding", let embedding { return "\(embedding) AS post_embedding" }
            return "\(table).\(name) AS post_\(name)"
        }.joined(separator: ", ")
    }

    /// Decodes a row selected with ``columns`` (or ``prefixedColumns(table:)`` with `prefix` `post_`).
    public init(row: PostgresRow, prefix: String = "") throws(PostgresError) {
        let level: String = try row.decode(prefix + "seniority_level")
        self.init(
            id: try row.decode(prefix + "id"), title: try row.decode(prefix + "title"), description: try row.decode(prefix + "description"),
            seniorityLevel: SeniorityLevel(rawValue: level) ?? .mid, embedding: try row.decode(prefix + "embedding"),
            embeddingModel: try row.decode(prefix + "embedding_model"), createdAt: try row.decode(prefix + "created_at"), updatedAt: try row.decode(prefix + "updated_at")
        )
    }
}

/// A row of `applications`: one uploaded résumé and what the pipeline made of it.
public struct Application: Sendable, Hashable {
    /// Primary key (also the queue job's first argument).
    public var id: UUID
    /// The job post applied to.
    public var jobPostID: UUID
    /// Candidate's name.
    public var candidateName: String
    /// Candidate's e-mail.
    public var email: String
    /// Candidate's seniority.
    public var seniorityLevel: SeniorityLevel
    /// Pipeline status.
    public var status: ApplicationStatus
    /// The file name the client sent (display only; never used as a path).
    public var originalFilename: String?
    /// Content type decided from the file's magic bytes.
    public var contentType: String?
    /// Size in bytes.
    public var fileSize: Int?
    /// Hex SHA-256 of the file.
    public var fileSHA256: String?
    /// Where the file is stored (generated key).
    public var storageKey: String?
    /// Text extracted from the file.
    public var extractedText: String?
    /// Embedding of the text.
    public var embedding: [Float]?
    /// The embedder that made ``embedding`` (its `name`); `nil` for one stored before migration 3.
    public var embeddingModel: String?
    /// Cosine similarity with the job post's embedding.
    public var matchScore: Double?
    /// Why processing failed, readable.
    public var errorMessage: String?
    /// How many times processing started.
    public var attempts: Int
    /// Creation time.
    public var createdAt: Date
    /// Last change.
    public var updatedAt: Date
    /// When processing completed.
    public var processedAt: Date?

    /// Creates a new `PENDING` application.
    public init(
        id: UUID, jobPostID: UUID, candidateName: String, email: String, seniorityLevel: SeniorityLevel,
        status: ApplicationStatus = .pending, originalFilename: String? = nil, contentType: String? = nil,
        fileSize: Int? = nil, fileSHA256: String? = nil, storageKey: String? = nil, extractedText: String? = nil,
        embedding: [Float]? = nil, matchScore: Double? = nil, errorMessage: String? = nil, attempts: Int = 0,
        createdAt: Date = Date(), updatedAt: Date = Date(), processedAt: Date? = nil, embeddingModel: String? = nil
    ) {
        self.embeddingModel = embeddingModel
        self.id = id
        self.jobPostID = jobPostID
        self.candidateName = candidateName
        self.email = email
        self.seniorityLevel = seniorityLevel
        self.status = status
        self.originalFilename = originalFilename
        self.contentType = contentType
        self.fileSize = fileSize
        self.fileSHA256 = fileSHA256
        self.storageKey = storageKey
        self.extractedText = extractedText
        self.embedding = embedding
        self.matchScore = matchScore
        self.errorMessage = errorMessage
        self.attempts = attempts
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.processedAt = processedAt
    }

    /// The columns ``init(row:)`` reads.
    public static let columns = """
        id, job_post_id, candidate_name, email, seniority_level, status, original_filename, content_type, \
        file_size, file_sha256, storage_key, extracted_text, embedding, match_score, error_message, attempts, \
        created_at, updated_at, processed_at, embedding_model
        """

    /// Decodes a row selected with ``columns``.
    public init(row: PostgresRow) throws(PostgresError) {
        let level: String = try row.decode("seniority_level")
        let status: String = try row.decode("status")
        self.init(
            id: try row.decode("id"), jobPostID: try row.decode("job_post_id"),
            candidateName: try row.decode("candidate_name"), email: try row.decode("email"),
            seniorityLevel: SeniorityLevel(rawValue: level) ?? .mid, status: ApplicationStatus(rawValue: status) ?? .pending,
            originalFilename: try row.decode("original_filename"), contentType: try row.decode("content_type"),
            fileSize: try row.decode("file_size"), fileSHA256: try row.decode("file_sha256"),
            storageKey: try row.decode("storage_key"), extractedText: try row.decode("extracted_text"),
            embedding: try row.decode("embedding"), matchScore: try row.decode("match_score"),
            errorMessage: try row.decode("error_message"), attempts: Int(try row.decode("attempts", as: Int32.self)),
            createdAt: try row.decode("created_at"), updatedAt: try row.decode("updated_at"),
            processedAt: try row.decode("processed_at"), embeddingModel: try row.decode("embedding_model")
        )
    }
}
