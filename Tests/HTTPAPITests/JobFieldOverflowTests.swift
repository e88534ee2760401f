import AppConfig
import Foundation
import HTTPAPI
import Redis
import ResumeJobs
import RQ
import Testing

/// `GET /jobs/{id}` of job hashes whose numeric fields overflow (near ±2⁶³, beyond 64 bits, RQ
/// duration strings whose seconds overflow): the API answers 200 with the job, never traps and never
/// answers 5xx for a hash that decodes (issue #14, point 2).
@Suite("GET /jobs with overflowing job fields")
struct JobFieldOverflowTests {
    static let rqCases: [(String, String)] = [
        ("failure_ttl", "9223372036854775807"), ("failure_ttl", "-9223372036854775808"),
        ("result_ttl", "9223372036854775807"), ("result_ttl", "-9223372036854775808"), ("result_ttl", "9223372036854775808"),
        ("timeout", "106751991167301d"), ("timeout", "9223372036854806400"), ("ttl", "9223372036854775807"),
        ("retry_intervals", "[9223372036854775807]"), ("retry_intervals", "[-9223372036854775809]"),
        ("retries_left", "9223372036854775807"), ("number_of_retries", "-9223372036854775808"),
        (RQJob.workerDeathsField, "9223372036854775807"),
    ]

    @Test(arguments: rqCases.indices)
    func rqJobWithAnOverflowingFieldIsShown(_ index: Int) async throws {
        let (field, value) = Self.rqCases[index]
        try await APITestServer.with(mode: .rq) { server in
            let id = UUID().uuidString.lowercased()
            let store = RQStore(redis: server.redis)
            _ = try await store.queue("overflow-\(id.prefix(8))").enqueue(RQCall("resume_processor.jobs.echo"), options: RQEnqueueOptions(jobID: id))
            _ = try await server.redis.send("HSET", RedisArgument("rq:job:\(id)"), RedisArgument(field), RedisArgument(value))
            let response = try await RawHTTP.getJSON(port: server.port, "/jobs/\(id)")
            #expect(response.status == 200, "\(field)=\(value): \(response.status) \(response.text)")
            #expect(response.json?["status"] as? String == "queued")
            _ = try await server.redis.send("DEL", RedisArgument("rq:queue:overflow-\(id.prefix(8))"), RedisArgument("rq:results:\(id)"))
            await server.cleanUpJob(id)
        }
    }

    /// A result entry with an id and execution times far beyond any date (explicit `XADD` ids may be
    /// up to 2⁶⁴−1 ms): shown with clamped timestamps.
    @Test func rqResultWithHugeTimesIsShown() async throws {
        try await APITestServer.with(mode: .rq) { server in
            let id = UUID().uuidString.lowercased()
            let store = RQStore(redis: server.redis)
            _ = try await store.queue("overflow-\(id.prefix(8))").enqueue(RQCall("resume_processor.jobs.echo"), options: RQEnqueueOptions(jobID: id))
            _ = try await server.redis.send("XADD", RedisArgument("rq:results:\(id)"), "18446744073709551615-0", "type", "2",
                                            "exc_string", "eA==", "execution_started_at", "1e308", "execution_ended_at", "inf")
            let response = try await RawHTTP.getJSON(port: server.port, "/jobs/\(id)")
            #expect(response.status == 200, "\(response.status) \(response.text)")
            let shown = (response.json?["latest_result"] as? [String: Any])?["created_at"] as? String
            #expect(shown?.hasPrefix("9999-12-31T23:59:59.") == true, "\(shown ?? "nil")")
            _ = try await server.redis.send("DEL", RedisArgument("rq:queue:overflow-\(id.prefix(8))"), RedisArgument("rq:results:\(id)"))
            await server.cleanUpJob(id)
        }
    }

    static let nativeCases: [(String, String)] = [
        ("attempts", "9223372036854775807"), ("attempts", "-9223372036854775808"), ("attempts", "99999999999999999999999"),
        ("max_attempts", "9223372036854775807"), ("max_attempts", "-1"), ("worker_deaths", "9223372036854775807"),
        ("created_at", "9999-12-31T23:59:59.999999Z"), ("started_at", "0000-01-01T00:00:00Z"),
    ]

    @Test(arguments: nativeCases.indices)
    func nativeJobWithAnOverflowingFieldIsShown(_ index: Int) async throws {
        let (field, value) = Self.nativeCases[index]
        try await APITestServer.with(mode: .native) { server in
            let id = UUID().uuidString.lowercased()
            _ = try await server.redis.send(
                "HSET", RedisArgument("job:\(id)"), "id", RedisArgument(id), "function", "resume_processor.jobs.echo", "args", "[]",
                "kwargs", "{}", "status", "queued", "attempts", "0", "max_attempts", "3", RedisArgument(field), RedisArgument(value))
            let response = try await RawHTTP.getJSON(port: server.port, "/jobs/\(id)")
            #expect(response.status == 200, "\(field)=\(value): \(response.status) \(response.text)")
            #expect(response.json?["status"] as? String == "queued")
            await server.cleanUpJob(id)
        }
    }
}
