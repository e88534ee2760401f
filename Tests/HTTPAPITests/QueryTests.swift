import ApplicationStore
import Foundation
import HTTPAPI
import Postgres
import TestSupport
import Testing

@Suite("HTTP API reads and listings", .serialized)
struct QueryTests {
    /// Inserts `count` applications for `jobPostID`, one microsecond-distinct second apart.
    func insertApplications(
        _ server: APITestServer, jobPostID: UUID, count: Int, status: ApplicationStatus = .pending, email: (Int) -> String = { "c\($0)@example.com" },
        start: Date = Date(timeIntervalSince1970: 1_800_000_000)
    ) async throws -> [Application] {
        var rows: [Application] = []
        for index in 0..<count {
            let when = start.addingTimeInterval(Double(index))
            let application = Application(
                id: UUID(), jobPostID: jobPostID, candidateName: "Candidate \(index)", email: email(index), seniorityLevel: .mid,
                status: status, createdAt: when, updatedAt: when)
            try await server.repository.insert(application)
            rows.append(application)
        }
        return rows
    }

    @Test func resumeDetailNotFoundAndMalformed() async throws {
        try await APITestServer.with { server in
            let jobPostID = try await server.makeJobPost()
            let application = try await insertApplications(server, jobPostID: jobPostID, count: 1)[0]
            let text = String(repeating: "Swift engineer. ", count: 50)
            try await server.postgres.query(
                "UPDATE applications SET status = 'COMPLETED', extracted_text = $1, match_score = 0.75, processed_at = now() WHERE id = $2",
                [text, application.id])
            let detail = try await RawHTTP.getJSON(port: server.port, "/resumes/\(application.id.uuidString.lowercased())")
            #expect(detail.status == 200)
            #expect(detail.json?["status"] as? String == "COMPLETED")
            #expect(detail.json?["match_score"] as? Double == 0.75)
            #expect(detail.json?["text_length"] as? Int == text.count)
            #expect((detail.json?["text_preview"] as? String)?.count == 300)
            #expect(detail.json?["processed_at"] is String)

            let missing = try await RawHTTP.getJSON(port: server.port, "/resumes/\(UUID().uuidString)")
            #expect(missing.status == 404)
            #expect(missing.errorCode == "not_found")
            let malformed = try await RawHTTP.getJSON(port: server.port, "/resumes/not-a-uuid")
            #expect(malformed.status == 422)
            #expect(malformed.errorFields["application_id"] != nil)
        }
    }

    @Test func jobPostsCreateGetAndPaginate() async throws {
        try await APITestServer.with { server in
            var ids: [String] = []
            for index in 0..<5 {
                let body = Array(#"{"title": "Post \#(index)", "description": "Swift", "seniority_level": "lead"}"#.utf8)
                let created = try await RawHTTP.send(port: server.port, "POST", "/job-posts", headers: [("Content-Type", "application/json")], body: body)
                #expect(created.status == 201, "\(created.text)")
                #expect(created.json?["seniority_level"] as? String == "LEAD")
                ids.append(try #require(created.json?["id"] as? String))
            }
            let one = try await RawHTTP.getJSON(port: server.port, "/job-posts/\(ids[0])")
            #expect(one.json?["title"] as? String == "Post 0")
            #expect(try await RawHTTP.getJSON(port: server.port, "/job-posts/\(UUID().uuidString)").status == 404)
            #expect(try await RawHTTP.getJSON(port: server.port, "/job-posts/123").status == 422)

            var seen: [String] = []
            var cursor: String?
            repeat {
                let path = "/job-posts?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await RawHTTP.getJSON(port: server.port, path)
                #expect(page.status == 200)
                let items = try #require(page.json?["items"] as? [[String: Any]])
                #expect(items.count <= 2)
                seen += items.compactMap { $0["id"] as? String }
                cursor = page.json?["next_cursor"] as? String
            } while cursor != nil
            #expect(Set(seen) == Set(ids))
            #expect(seen.count == 5)
            #expect(seen == Array(ids.reversed()))  // newest first
        }
    }

    @Test func candidatesAreRankedByScoreWithAKeysetCursor() async throws {
        try await APITestServer.with { server in
            let jobPostID = try await server.makeJobPost()
            let other = try await server.makeJobPost(title: "Other")
            let rows = try await insertApplications(server, jobPostID: jobPostID, count: 12)
            _ = try await insertApplications(server, jobPostID: other, count: 3, status: .completed)
            // 10 COMPLETED with scores (two ties), 1 FAILED, 1 PENDING.
            let scores: [Double] = [0.10, 0.90, 0.55, 0.55, 0.30, 0.99, 0.42, 0.75, 0.05, 0.66]
            for (index, score) in scores.enumerated() {
                try await server.postgres.query(
                    "UPDATE applications SET status = 'COMPLETED', match_score = $1, processed_at = now() WHERE id = $2", [score, rows[index].id])
            }
            try await server.postgres.query("UPDATE applications SET status = 'FAILED', match_score = 0.999 WHERE id = $1", [rows[10].id])

            var ranked: [(String, Double)] = []
            var cursor: String?
            var pages = 0
            repeat {
                let path = "/job-posts/\(jobPostID.uuidString.lowercased())/candidates?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await RawHTTP.getJSON(port: server.port, path)
                #expect(page.status == 200, "\(page.text)")
                for item in try #require(page.json?["items"] as? [[String: Any]]) {
                    ranked.append((try #require(item["application_id"] as? String), try #require(item["match_score"] as? Double)))
                }
                cursor = page.json?["next_cursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 4)
            #expect(ranked.map(\.1) == scores.sorted(by: >))
            #expect(Set(ranked.map(\.0)).count == 10)
            let expectedIDs = Set(rows.prefix(10).map { $0.id.uuidString.lowercased() })
            #expect(Set(ranked.map(\.0)) == expectedIDs)

            #expect(try await RawHTTP.getJSON(port: server.port, "/job-posts/\(UUID().uuidString)/candidates").status == 404)
            // A cursor of another listing is refused.
            let postsPage = try await RawHTTP.getJSON(port: server.port, "/job-posts?limit=1")
            let foreign = try #require(postsPage.json?["next_cursor"] as? String)
            let refused = try await RawHTTP.getJSON(port: server.port, "/job-posts/\(jobPostID.uuidString)/candidates?cursor=\(foreign)")
            #expect(refused.status == 422)
            #expect(refused.errorFields["cursor"] != nil)
        }
    }

    @Test func applicationsFilterAndPaginate() async throws {
        try await APITestServer.with { server in
            let postA = try await server.makeJobPost(), postB = try await server.makeJobPost(title: "B")
            let a = try await insertApplications(server, jobPostID: postA, count: 7, email: { $0 < 3 ? "same@example.com" : "a\($0)@example.com" })
            let b = try await insertApplications(
                server, jobPostID: postB, count: 4, status: .completed, start: Date(timeIntervalSince1970: 1_800_001_000))
            // Same created_at for two rows: the id breaks the tie and nothing is skipped or repeated.
            let tie = Date(timeIntervalSince1970: 1_800_002_000)
            for _ in 0..<2 {
                try await server.repository.insert(Application(
                    id: UUID(), jobPostID: postA, candidateName: "Tie", email: "tie@example.com", seniorityLevel: .junior, createdAt: tie, updatedAt: tie))
            }

            func all(_ query: String) async throws -> [String] {
                var ids: [String] = []
                var cursor: String?
                var pages = 0
                repeat {
                    let separator = query.isEmpty ? "?" : "?\(query)&"
                    let page = try await RawHTTP.getJSON(port: server.port, "/applications\(separator)limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                    #expect(page.status == 200, "\(page.text)")
                    ids += (page.json?["items"] as? [[String: Any]] ?? []).compactMap { $0["application_id"] as? String }
                    cursor = page.json?["next_cursor"] as? String
                    pages += 1
                } while cursor != nil && pages < 50
                return ids
            }
            let everything = try await all("")
            #expect(everything.count == 13)
            #expect(Set(everything).count == 13)
            let completed = try await all("status=COMPLETED")
            #expect(completed == b.reversed().map { $0.id.uuidString.lowercased() })
            #expect(try await all("status=completed").count == 4)
            let byPost = try await all("job_post_id=\(postA.uuidString.lowercased())")
            #expect(byPost.count == 9)
            let byEmail = try await all("email=same%40example.com")
            #expect(byEmail == a.prefix(3).reversed().map { $0.id.uuidString.lowercased() })
            let after = try await all("created_after=2027-01-15T08:00:03Z")  // 1_800_000_003 = 2027-01-15T08:00:03Z
            #expect(after.count == 3 + 4 + 2)
            let combined = try await all("status=PENDING&job_post_id=\(postA.uuidString)&email=tie%40example.com")
            #expect(combined.count == 2)

            for bad in ["status=DONE", "job_post_id=xyz", "created_after=yesterday", "limit=0", "limit=101", "limit=abc", "cursor=garbage",
                        "cursor=" + String(repeating: "A", count: 300), "unknown=1", "status=PENDING&status=FAILED", "email=%ZZ"] {
                let response = try await RawHTTP.getJSON(port: server.port, "/applications?\(bad)")
                #expect(response.status == 422, "\(bad): \(response.status) \(response.text)")
                #expect(response.errorCode == "validation_failed")
            }
        }
    }

    /// The listing query uses one of the seed's `ix_applications_*` indexes for each filter.
    @Test(arguments: [
        ApplicationFilter(),
        ApplicationFilter(status: .pending),
        ApplicationFilter(email: "c5@example.com"),
        ApplicationFilter(jobPostID: UUID()),
        ApplicationFilter(status: .completed, createdAfter: Date(timeIntervalSince1970: 1_800_000_100)),
    ])
    func listingUsesTheSeedIndexes(_ filter: ApplicationFilter) async throws {
        try await withTemporaryDatabase { postgres, _ in
            _ = try await PostgresMigrator(migrations: ResumeSchema.migrations, logger: TestEnvironment.logger).migrate(postgres)
            let post = JobPost(id: filter.jobPostID ?? UUID(), title: "t", description: "d", seniorityLevel: .mid)
            try await ApplicationRepository(client: postgres).insert(post)
            try await postgres.query(
                """
                INSERT INTO applications (id, job_post_id, candidate_name, email, seniority_level, status, created_at, updated_at)
                SELECT gen_random_uuid(), $1, 'c' || g, 'c' || (g % 500) || '@example.com', 'MID',
                       (ARRAY['PENDING','PROCESSING','COMPLETED','FAILED'])[1 + g % 4],
                       timestamptz '2027-01-15 08:00:00+00' + g * interval '1 second', now()
                FROM generate_series(1, 20000) AS g
                """, [post.id])
            try await postgres.query("ANALYZE applications")
            let cursor = ListingPosition(createdAtMicros: 1_800_005_000_000_000, id: UUID())
            for after in [nil, cursor] {
                let query = ApplicationRepository.applicationListingQuery(filter, limit: 20, after: after)
                let plan = try await postgres.withConnection { connection in
                    try await connection.query("SET enable_seqscan = off")
                    let result = try await connection.query("EXPLAIN " + query.sql, query.parameters)
                    try await connection.query("RESET enable_seqscan")
                    return result.compactMap { try? $0.decode(0, as: String.self) }.joined(separator: "\n")
                }
                #expect(plan.contains("ix_applications_"), "\(filter) after \(String(describing: after)):\n\(plan)")
            }
        }
    }
}
