import ClientSupport
import Foundation
import Postgres
import Testing
import TestSupport

@Suite("PostgreSQL client against a real server", .timeLimit(.minutes(2)))
struct PostgresClientTests {
    @Test func decodesEveryType() async throws {
        try await withTemporaryDatabase { postgres, _ async throws in
            let id = UUID()
            let instant = Date(timeIntervalSince1970: 1_764_384_489.123456)
            let vector: [Float] = [0.25, -1.5, 3.0e-8, 1e20, .infinity, -.infinity]
            let bytes: [UInt8] = [0, 1, 2, 255, 0x5c, 0x78]
            let rows = try await postgres.query("""
                SELECT $1::text AS t, $2::int8 AS i, $3::bool AS b, $4::uuid AS u, $5::timestamptz AS ts,
                       $6::float8 AS f, $7::real[] AS v, $8::bytea AS bin, NULL::text AS missing,
                       42::int4 AS small, 'NaN'::float8 AS nan, '{}'::real[] AS empty,
                       '2026-11-29 12:00:00+05:30'::timestamptz AS offset_time
                """,
                ["héllo wörld 🌍 — \"quoted\" 'single'", Int.min, true, id, instant, -0.1, vector, PostgresBytes(bytes)]
            )
            let row = try #require(rows.first)
            #expect(try row.decode("t", as: String.self) == "héllo wörld 🌍 — \"quoted\" 'single'")
            #expect(try row.decode("i", as: Int.self) == Int.min)
            #expect(try row.decode("b", as: Bool.self) == true)
            #expect(try row.decode("u", as: UUID.self) == id)
            let decodedInstant = try row.decode("ts", as: Date.self)
            #expect(abs(decodedInstant.timeIntervalSince1970 - instant.timeIntervalSince1970) < 0.000_001)
            #expect(try row.decode("f", as: Double.self) == -0.1)
            #expect(try row.decode("v", as: [Float].self) == vector)
            #expect(try row.decode("bin", as: PostgresBytes.self).bytes == bytes)
            #expect(try row.decode("missing", as: String?.self) == nil)
            #expect(try row.decode("small", as: Int.self) == 42)
            #expect(try row.decode("nan", as: Double.self).isNaN)
            #expect(try row.decode("empty", as: [Float].self) == [])
            let offsetTime = try row.decode("offset_time", as: Date.self)
            #expect(offsetTime == Date(timeIntervalSince1970: 1_795_933_800))
            #expect(throws: PostgresError.self) { try row.decode("missing", as: String.self) }
            #expect(throws: PostgresError.self) { try row.decode("t", as: Int.self) }
            #expect(throws: PostgresError.self) { try row.decode("nope", as: Int.self) }
        }
    }

    /// Embedding-sized `real[]` values come back bit for bit: a `[Float]` parameter travels in
    /// PostgreSQL's binary array format, a `[Double]` one as text, and the array reader splits the
    /// text answer on its bytes (NULL elements refused).
    @Test func floatVectorsRoundTripExactly() async throws {
        try await withTemporaryDatabase { postgres, _ async throws in
            var generator = SystemRandomNumberGenerator()
            let edges: [Float] = [.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, -0.0, 3.4028235e38, 0.1, -1]
            let vector = edges + (0..<761).map { _ in
                Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator) & 0xBFFF_FFFF)  // finite: exponent < 255
            }
            #expect(vector.count == 768)
            let rows = try await postgres.query("SELECT $1::real[] AS v, $1::real[] = $2::float8[]::real[] AS same", [vector, vector.map(Double.init)])
            let back = try rows[0].decode("v", as: [Float].self)
            #expect(back.map(\.bitPattern) == vector.map(\.bitPattern))
            #expect(try rows[0].decode("same", as: Bool.self))
            // `[Float]` travels in binary (array_recv); an empty one and a NaN too.
            #expect([Float]([1.5]).postgresBinary?.count == 20 + 8)
            let odd = try await postgres.query("SELECT $1::real[] AS e, cardinality($1::real[]) AS n, $2::real[] AS nan", [[Float](), [Float.nan, 2]])
            #expect(try odd[0].decode("e", as: [Float].self) == [])
            #expect(try odd[0].decode("n", as: Int.self) == 0)
            let nan = try odd[0].decode("nan", as: [Float].self)
            #expect(nan.count == 2 && nan[0].isNaN && nan[1] == 2)
            let withNull = try await postgres.query("SELECT '{1.5,NULL}'::real[] AS v")
            #expect(throws: PostgresError.self) { try withNull[0].decode("v", as: [Float].self) }
        }
    }

    @Test func parametersAreNeverParsedAsSQL() async throws {
        try await withTemporaryDatabase { postgres, _ async throws in
            try await postgres.query("CREATE TABLE notes (body text)")
            let hostile = "'); DROP TABLE notes; --"
            try await postgres.query("INSERT INTO notes (body) VALUES ($1)", [hostile])
            let rows = try await postgres.query("SELECT body FROM notes")
            #expect(try rows.map { try $0.decode("body", as: String.self) } == [hostile])
        }
    }

    @Test func nullParameters() async throws {
        try await withTemporaryDatabase { postgres, _ async throws in
            let missing: Int? = nil
            let rows = try await postgres.query("SELECT $1::int8 IS NULL AS is_null, $2::text AS s", [missing, String?.none])
            #expect(try rows[0].decode("is_null", as: Bool.self))
            #expect(try rows[0].decode("s", as: String?.self) == nil)
        }
    }

    @Test func transactionRollsBackOnError() async throws {
        struct Boom: Error {}
        try await withTemporaryDatabase { postgres, _ async throws in
            try await postgres.query("CREATE TABLE items (id int PRIMARY KEY)")
            await #expect(throws: Boom.self) {
                try await postgres.withTransaction { connection in
                    try await connection.query("INSERT INTO items VALUES (1)")
                    throw Boom()
                }
            }
            #expect(try await postgres.query("SELECT count(*) AS n FROM items")[0].decode("n", as: Int.self) == 0)
            // A server error inside the transaction rolls back the earlier statements too.
            await #expect(throws: PostgresError.self) {
                try await postgres.withTransaction { connection in
                    try await connection.query("INSERT INTO items VALUES (2)")
                    try await connection.query("INSERT INTO items VALUES (2)")
                }
            }
            #expect(try await postgres.query("SELECT count(*) AS n FROM items")[0].decode("n", as: Int.self) == 0)
            // And a good transaction commits.
            try await postgres.withTransaction { connection in
                try await connection.query("INSERT INTO items VALUES (3)")
            }
            #expect(try await postgres.query("SELECT id FROM items")[0].decode("id", as: Int.self) == 3)
        }
    }

    @Test func serverErrorsCarrySQLState() async throws {
        try await withTemporaryDatabase { postgres, _ async throws in
            try await postgres.query("CREATE TABLE uniq (id int PRIMARY KEY)")
            try await postgres.query("INSERT INTO uniq VALUES (1)")
            await #expect {
                try await postgres.query("INSERT INTO uniq VALUES (1)")
            } throws: { error in
                let error = error as? PostgresError
                return error?.code == .server && error?.sqlState == "23505"
            }
            await #expect {
                try await postgres.query("SELEC 1")
            } throws: { error in
                (error as? PostgresError)?.sqlState == "42601"
            }
            // The connection is still usable afterwards.
            #expect(try await postgres.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
        }
    }

    @Test func wrongPasswordFailsFastWithoutLeakingIt() async throws {
        let url = try TestEnvironment.postgresURL
        let secret = "Very-Secret-\(UUID().uuidString.prefix(6))"
        let userEnd = try #require(url.firstRange(of: "://")).upperBound
        let at = try #require(url.lastIndex(of: "@"))
        let user = url[userEnd..<at].prefix { $0 != ":" }
        let badURL = "postgresql://\(user):\(secret)@\(url[url.index(after: at)...])"
        let configuration = try PostgresConfiguration(url: badURL)
        #expect(!configuration.description.contains(secret))
        let clock = ContinuousClock()
        let start = clock.now
        await #expect {
            _ = try await PostgresConnection.connect(configuration: configuration, logger: TestEnvironment.logger)
        } throws: { error in
            let text = "\(error) \(String(reflecting: error))"
            return (error as? PostgresError)?.code == .connectionFailed && !text.contains(secret)
                && text.contains("password authentication failed")
        }
        // Retrying would take the 10 s reconnect budget; the bound leaves room for a starved machine.
        #expect(clock.now - start < .seconds(8))
    }

    /// A statement with parameters is prepared once per connection and reused; a pooler's
    /// `DEALLOCATE ALL`, a changed table and a new session each lead to preparing it again.
    @Test func statementsArePreparedOnceAndPreparedAgainWhenGone() async throws {
        try await withTemporaryDatabase { _, configuration async throws in
            let connection = try await PostgresConnection.connect(configuration: configuration, logger: TestEnvironment.logger)
            defer { connection.close() }
            // Without parameters (as here) a statement is not prepared, so these reads see only ours.
            func prepared() async throws -> [String] {
                try await connection.query("SELECT statement FROM pg_prepared_statements ORDER BY name").map { try $0.decode("statement", as: String.self) }
            }
            for value in 1...10 {
                #expect(try await connection.query("SELECT $1::int + 1 AS n", [value])[0].decode("n", as: Int.self) == value + 1)
            }
            #expect(try await prepared() == ["SELECT $1::int + 1 AS n"])
            // Gone: a pooler cleared the session's statements behind our back.
            try await connection.executeScript("DEALLOCATE ALL")
            #expect(try await connection.query("SELECT $1::int + 1 AS n", [41])[0].decode("n", as: Int.self) == 42)
            #expect(try await prepared() == ["SELECT $1::int + 1 AS n"])
            // Stale: the table's shape changed under a prepared `SELECT *`.
            try await connection.executeScript("CREATE TABLE shapes (a int)")
            try await connection.query("INSERT INTO shapes (a) VALUES ($1)", [1])
            #expect(try await connection.query("SELECT * FROM shapes WHERE a = $1", [1]).columns.names == ["a"])
            try await connection.executeScript("ALTER TABLE shapes ADD COLUMN b int DEFAULT 7")
            let widened = try await connection.query("SELECT * FROM shapes WHERE a = $1", [1])
            #expect(widened.columns.names == ["a", "b"])
            #expect(try widened[0].decode("b", as: Int.self) == 7)
            // Off: every call parses and plans afresh, nothing stays prepared.
            var plain = configuration
            plain.preparedStatements = false
            let unprepared = try await PostgresConnection.connect(configuration: plain, logger: TestEnvironment.logger)
            defer { unprepared.close() }
            #expect(try await unprepared.query("SELECT $1::int * 2 AS n", [21])[0].decode("n", as: Int.self) == 42)
            #expect(try await unprepared.query("SELECT count(*) AS n FROM pg_prepared_statements")[0].decode("n", as: Int.self) == 0)
        }
    }

    @Test func reconnectsAfterBackendTerminated() async throws {
        try await withTemporaryDatabase(maximumConnections: 1) { postgres, configuration async throws in
            let pid = try await postgres.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
            let admin = PostgresClient(configuration: configuration, logger: TestEnvironment.logger)
            try await admin.query("SELECT pg_terminate_backend($1::int)", [pid])
            await admin.shutdown()
            try await waitUntil(.seconds(5), "the backend to exit") {
                let probe = try await PostgresConnection.connect(configuration: configuration, logger: TestEnvironment.logger)
                defer { probe.close() }
                return try await probe.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1::int", [pid])[0].decode("n", as: Int.self) == 0
            }
            let newPID = try await postgres.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
            #expect(newPID != pid)
        }
    }

    @Test func cancellingALongQueryStopsIt() async throws {
        try await withTemporaryDatabase { postgres, _ async throws in
            let task = Task { try await postgres.query("SELECT pg_sleep(30)") }
            try await waitUntil(.seconds(5), "pg_sleep to start") {
                try await postgres.query(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'"
                )[0].decode("n", as: Int.self) == 1
            }
            let clock = ContinuousClock()
            let start = clock.now
            task.cancel()
            let result = await task.result
            // Uncancelled, pg_sleep(30) runs 30 s; the bound leaves room for a starved machine.
            #expect(clock.now - start < .seconds(10))
            #expect { try result.get() } throws: { error in
                (error as? PostgresError)?.sqlState == "57014" || error is CancellationError
            }
            #expect(try await postgres.query("SELECT 2 AS two")[0].decode("two", as: Int.self) == 2)
        }
    }

    @Test func manyConcurrentQueriesShareABoundedPool() async throws {
        try await withTemporaryDatabase(maximumConnections: 5) { postgres, _ async throws in
            let total = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<200 {
                    group.addTask { try await postgres.query("SELECT $1::int8 AS n", [index])[0].decode("n", as: Int.self) }
                }
                return try await group.reduce(0, +)
            }
            #expect(total == (0..<200).reduce(0, +))
            let statistics = postgres.poolStatistics
            #expect(statistics.open <= 5)
            #expect(statistics.waiters == 0)
            let database = try await postgres.query("SELECT current_database() AS d")[0].decode("d", as: String.self)
            let connections = try await postgres.query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'resume-processor'", [database]
            )[0].decode("n", as: Int.self)
            #expect(connections == statistics.open)
        }
    }

    @Test func acceptsAsyncpgURL() throws {
        let configuration = try PostgresConfiguration(url: "postgresql+asyncpg://user:pw@db.internal:5433/app")
        #expect(configuration.url == "postgresql://user:pw@db.internal:5433/app")
        #expect(configuration.redactedURL == "postgresql://user:***@db.internal:5433/app")
        #expect(throws: PostgresError.self) { try PostgresConfiguration(url: "mysql://u:p@h/db") }
        #expect(throws: PostgresError.self) { try PostgresConfiguration(url: "no scheme") }
    }
}
