import Foundation
import Postgres

/// A position in a keyset-paginated listing: the sort key of the last row returned.
///
/// Timestamps travel as whole microseconds since the Unix epoch (PostgreSQL's own precision), so a
/// cursor compares exactly with the stored value; `Date` would round.
public struct ListingPosition: Sendable, Hashable {
    /// `created_at` of the last row, in microseconds since 1970 (for time-ordered listings).
    public var createdAtMicros: Int64
    /// `match_score` of the last row (for ranked listings).
    public var score: Double?
    /// `id` of the last row: the tie-breaker.
    public var id: UUID

    /// Creates a position.
    public init(createdAtMicros: Int64, score: Double? = nil, id: UUID) {
        self.createdAtMicros = createdAtMicros
        self.score = score
        self.id = id
    }
}

/// One page of a listing plus where the next one starts (`nil` on the last page).
public struct ListingPage<Item: Sendable>: Sendable {
    /// The rows, in listing order.
    public var items: [Item]
    /// The position after the last item when more rows may follow.
    public var next: ListingPosition?

    /// Creates a page.
    public init(items: [Item], next: ListingPosition?) {
        self.items = items
        self.next = next
    }
}

/// Filters of ``ApplicationRepository/listApplications(_:limit:after:)``; `nil` means "any".
public struct ApplicationFilter: Sendable, Hashable {
    /// Only this status.
    public var status: ApplicationStatus?
    /// Only applications to this job post.
    public var jobPostID: UUID?
    /// Only this e-mail (exact match).
    public var email: String?
    /// Only rows created strictly after this instant.
    public var createdAfter: Date?

    /// Creates a filter.
    public init(status: ApplicationStatus? = nil, jobPostID: UUID? = nil, email: String? = nil, createdAfter: Date? = nil) {
        self.status = status
        self.jobPostID = jobPostID
        self.email = email
        self.createdAfter = createdAfter
    }
}

/// The listing queries of the HTTP API. Every statement is parameterised; the only text pasted into
/// SQL is chosen here from fixed fragments, never taken from a request.
extension ApplicationRepository {
    /// The expression giving `created_at` as whole microseconds since 1970.
    static let createdMicros = "(extract(epoch FROM created_at) * 1000000)::bigint AS created_us"
    /// The SQL turning a `$n` bigint of microseconds back into a `timestamptz`, exactly.
    static func timestamp(_ parameter: Int) -> String { "(timestamptz 'epoch' + $\(parameter)::bigint * interval '1 microsecond')" }

    /// Job posts, newest first, keyset-paginated on `(created_at, id)`.
    public func listJobPosts(limit: Int, after: ListingPosition?) async throws -> ListingPage<JobPost> {
        var sql = "SELECT \(JobPost.columns), \(Self.createdMicros) FROM job_posts"
        var parameters: [any PostgresBindable] = []
        if let after {
            // `created_at <= x` lets the index bound the scan; the row comparison breaks ties by id.
            sql += " WHERE created_at <= \(Self.timestamp(1)) AND (created_at, id) < (\(Self.timestamp(1)), $2::uuid)"
            parameters = [Int(after.createdAtMicros), after.id]
        }
        sql += " ORDER BY created_at DESC, id DESC LIMIT \(max(1, limit) + 1)"
        let result = try await client.query(sql, parameters)
        return try page(result, limit: limit) { row throws(PostgresError) in
            let post = try JobPost(row: row)
            return (post, ListingPosition(createdAtMicros: Int64(try row.decode("created_us", as: Int.self)), id: post.id))
        }
    }

    /// `COMPLETED` applications of `jobPostID` ranked by `match_score` (highest first, ties by id),
    /// keyset-paginated on `(match_score, id)`. Only rows embedded by the model of the post's
    /// cached vector are ranked: scores of different models are not comparable.
    public func candidates(jobPostID: UUID, limit: Int, after: ListingPosition?) async throws -> ListingPage<Application> {
        var sql = """
            SELECT \(Application.columns), \(Self.createdMicros) FROM applications
            WHERE job_post_id = $1 AND status = 'COMPLETED' AND match_score IS NOT NULL
                AND embedding_model IS NOT DISTINCT FROM (SELECT embedding_model FROM job_posts WHERE id = $1)
            """
        var parameters: [any PostgresBindable] = [jobPostID]
        if let after, let score = after.score {
            sql += " AND (match_score, id) < ($2::double precision, $3::uuid)"
            parameters += [score, after.id]
        }
        sql += " ORDER BY match_score DESC, id DESC LIMIT \(max(1, limit) + 1)"
        let result = try await client.query(sql, parameters)
        return try page(result, limit: limit) { row throws(PostgresError) in
            let application = try Application(row: row)
            let position = ListingPosition(
                createdAtMicros: Int64(try row.decode("created_us", as: Int.self)), score: application.matchScore, id: application.id)
            return (application, position)
        }
    }

    /// The statement and parameters ``listApplications(_:limit:after:)`` runs (exposed for `EXPLAIN`).
    public static func applicationListingQuery(
        _ filter: ApplicationFilter, limit: Int, after: ListingPosition?
    ) -> (sql: String, parameters: [any PostgresBindable]) {
        var conditions: [String] = []
        var parameters: [any PostgresBindable] = []
        func add(_ value: any PostgresBindable) -> Int {
            parameters.append(value)
            return parameters.count
        }
        if let status = filter.status { conditions.append("status = $\(add(status.rawValue))") }
        if let jobPostID = filter.jobPostID { conditions.append("job_post_id = $\(add(jobPostID))") }
        if let email = filter.email { conditions.append("email = $\(add(email))") }
        if let createdAfter = filter.createdAfter { conditions.append("created_at > $\(add(createdAfter))") }
        if let after {
            let micros = add(Int(after.createdAtMicros))
            let id = add(after.id)
            conditions.append("created_at <= \(timestamp(micros))")
            conditions.append("(created_at, id) < (\(timestamp(micros)), $\(id)::uuid)")
        }
        var sql = "SELECT \(Application.columns), \(createdMicros) FROM applications"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY created_at DESC, id DESC LIMIT \(max(1, limit) + 1)"
        return (sql, parameters)
    }

    /// Applications matching `filter`, newest first, keyset-paginated on `(created_at, id)` so a
    /// page costs the same however deep it is; the filters line up with the seed's indexes
    /// (`ix_applications_status_created_at`, `ix_applications_email_created_at`,
    /// `ix_applications_job_post_id`, `ix_applications_created_at`).
    public func listApplications(_ filter: ApplicationFilter, limit: Int, after: ListingPosition?) async throws -> ListingPage<Application> {
        let query = Self.applicationListingQuery(filter, limit: limit, after: after)
        let result = try await client.query(query.sql, query.parameters)
        return try page(result, limit: limit) { row throws(PostgresError) in
            let application = try Application(row: row)
            return (application, ListingPosition(createdAtMicros: Int64(try row.decode("created_us", as: Int.self)), id: application.id))
        }
    }

    /// How many applications exist (all statuses).
    public func countApplications() async throws -> Int {
        try await client.query("SELECT count(*) FROM applications").first?.decode(0, as: Int.self) ?? 0
    }

    private func page<Item>(
        _ result: PostgresResult, limit: Int, _ decode: (PostgresRow) throws(PostgresError) -> (Item, ListingPosition)
    ) throws -> ListingPage<Item> {
        let limit = max(1, limit)
        var items: [Item] = []
        var last: ListingPosition?
        for row in result.prefix(limit) {
            let (item, position) = try decode(row)
            items.append(item)
            last = position
        }
        return ListingPage(items: items, next: result.count > limit ? last : nil)
    }
}
