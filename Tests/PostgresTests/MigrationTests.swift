import ApplicationStore
import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Schema migrations", .timeLimit(.minutes(2)))
struct MigrationTests {
    private func migrator() -> PostgresMigrator {
        PostgresMigrator(migrations: ResumeSchema.migrations, logger: TestEnvironment.logger)
    }

    @Test func migrationsAreIdempotent() async throws {
        try await withTemporaryDatabase { postgres, _ async throws in
            #expect(try await migrator().appliedVersions(postgres) == [])
            #expect(try await migrator().migrate(postgres) == [1, 2, 3])
            #expect(try await migrator().migrate(postgres) == [])
            #expect(try await migrator().appliedVersions(postgres) == [1, 2, 3])
            // Migration 2: embeddings stored out of line without compression ('e' = EXTERNAL).
            let storage = try await postgres.query("""
                SELECT attrelid::regclass::text AS t, attstorage::text AS s FROM pg_attribute
                WHERE attname = 'embedding' AND attrelid IN ('applications'::regclass, 'job_posts'::regclass) ORDER BY 1
                """)
            #expect(try storage.map { try $0.decode("s", as: String.self) } == ["e", "e"])
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        try await withTemporaryDatabase { _, configuration async throws in
            let results = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        // Separate clients, as separate processes would have.
                        let client = PostgresClient(configuration: configuration, logger: TestEnvironment.logger)
                        do {
                            let applied = try await migrator().migrate(client)
                            await client.shutdown()
                            return applied
                        } catch {
                            await client.shutdown()
                            throw error
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 == [1, 2, 3] }.count == 1)
            #expect(results.filter { $0.isEmpty }.count == 3)
        }
    }

    @Test func failingMigrationRollsBackAndNamesItself() async throws {
        try await withTemporaryDatabase { postgres, _ async throws in
            let broken = PostgresMigrator(migrations: [
                PostgresMigration(version: 1, name: "good", sql: "CREATE TABLE a (id int)"),
                PostgresMigration(version: 2, name: "bad", sql: "CREATE TABLE b (id int); CREATE TABLE b (id int)"),
            ], logger: TestEnvironment.logger)
            await #expect {
                try await broken.migrate(postgres)
            } throws: { error in
                let error = error as? PostgresError
                return error?.code == .migration && error?.message.contains("migration 2 (bad)") == true && error?.sqlState == "42P07"
            }
            #expect(try await broken.appliedVersions(postgres) == [1])
            let tables = try await postgres.query("SELECT to_regclass('b') IS NULL AS absent")
            #expect(try tables[0].decode("absent", as: Bool.self))
        }
    }

    @Test func allTenSeedIndexesExist() async throws {
        try await withTemporaryDatabase { postgres, _ async throws in
            try await migrator().migrate(postgres)
            let rows = try await postgres.query(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('applications', 'job_posts') ORDER BY indexname"
            )
            let names = Set(try rows.map { try $0.decode("indexname", as: String.self) })
            let expected = Set(ResumeSchema.seedIndexNames + ["applications_pkey", "job_posts_pkey"])
            #expect(names == expected)
            #expect(names.count == 10)
            let definitions = try rows.map { try $0.decode("indexdef", as: String.self) }
            #expect(definitions.contains { $0.hasSuffix("(status, created_at)") })
            #expect(definitions.contains { $0.hasSuffix("(job_post_id, status)") })
            #expect(definitions.contains { $0.hasSuffix("(email, created_at)") })
            #expect(definitions.contains { $0.hasSuffix("(status, updated_at)") })
        }
    }

    @Test func statusQueryOrderedByCreationUsesTheCompositeIndex() async throws {
        try await withTemporaryDatabase { postgres, _ async throws in
            try await migrator().migrate(postgres)
            let post = UUID()
            try await postgres.query(
                "INSERT INTO job_posts (id, title, description, seniority_level) VALUES ($1, $2, $3, $4)",
                [post, "Backend engineer", "Swift and PostgreSQL", "SENIOR"]
            )
            // 20 000 applications shaped like production: most finished, 1 % still pending.
            try await postgres.query("""
                INSERT INTO applications (id, job_post_id, candidate_name, email, seniority_level, status, created_at, updated_at)
                SELECT gen_random_uuid(), $1, 'Candidate ' || n, 'c' || n || '@example.com', 'MID',
                       CASE n % 100 WHEN 0 THEN 'PENDING' WHEN 1 THEN 'PROCESSING' WHEN 2 THEN 'FAILED' ELSE 'COMPLETED' END,
                       now() - make_interval(secs => n), now() - make_interval(secs => n)
                FROM generate_series(1, 20000) AS n
                """, [post])
            try await postgres.query("ANALYZE applications")
            let plan = try await postgres.query(
                "EXPLAIN SELECT id, candidate_name FROM applications WHERE status = $1 ORDER BY created_at LIMIT 50", ["PENDING"]
            ).map { try $0.decode(0, as: String.self) }.joined(separator: "\n")
            #expect(plan.contains("ix_applications_status_created_at"), "plan was:\n\(plan)")
        }
    }
}
