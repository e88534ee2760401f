import Foundation
import Timestamps
import FuzzSupport
import FuzzTargets
import Pickle
import RQ
import Redis
import Testing

/// Job hashes whose numeric fields come from overflow ranges (the ±2⁶³ neighbourhood, values just
/// around ``RQLimits/maxSeconds``, duration strings with every unit, more digits than 64 bits hold):
/// each is decoded and, when it decodes, the TTL and score computations of success, failure, retry
/// and the abandoned-job paths are run. Never a trap; out-of-range values are field problems.
@Suite("RQ job-field overflow fuzzing")
struct RQOverflowFuzzTests {
    @Test func overflowingNumericFieldsNeverTrap() throws {
        let base = try JobFieldOverflow.baseHash()
        var random = SplitMix64(seed: 0x0ff1_0e00)
        var decoded = 0, flagged = 0, refused = 0
        let now = Date()
        for round in 0..<50_000 {
            let hash = JobFieldOverflow.hash(base, &random)
            let job: RQJob
            do {
                job = try RQJob(id: "fuzz-\(round)", hash: hash, serializer: .pickle)
            } catch {
                _ = error.code
                refused += 1
                continue
            }
            decoded += 1
            if !job.fieldProblems.isEmpty { flagged += 1 }
            for field in [job.timeout, job.resultTTL, job.failureTTL, job.ttl, job.retriesLeft] {
                if let field { #expect(RQLimits.accepted.contains(field)) }
            }
            try JobFieldOverflow.runComputations(job, now: now)
        }
        #expect(decoded + refused == 50_000)
        #expect(flagged > 1000)
        #expect(decoded - flagged > 1000)
    }

    /// The same computations on jobs built in code with any `Int` (not only what parsing lets through).
    @Test func computationsSaturateForAnyInt() throws {
        var random = SplitMix64(seed: 0xabad_cafe)
        let extremes: [Int] = [.max, .min, .max - 1, .min + 1, 0, -1, 1]
        for _ in 0..<5_000 {
            var job = RQJob(id: "code", call: RQCall("f"))
            job.origin = "q"
            func pick() -> Int {
                random.next() % 2 == 0 ? extremes[Int(random.next() % UInt64(extremes.count))] : Int(truncatingIfNeeded: random.next())
            }
            job.timeout = pick()
            job.resultTTL = pick()
            job.failureTTL = pick()
            job.ttl = pick()
            job.retriesLeft = pick()
            job.retryIntervals = [pick(), pick()]
            job.workerDeaths = pick()
            let date = Date(timeIntervalSince1970: [1e300, -1e300, .infinity, .nan, 0, 1.8e9][Int(random.next() % 6)])
            try JobFieldOverflow.runComputations(job, now: date)
            _ = WireTime.format(date)
            _ = WireTime.unixSeconds(date)
        }
    }

    @Test func parseCoversUnitsAndOverflow() {
        #expect(RQLimits.parse("106751991167301d") == .outOfRange)
        #expect(RQLimits.parse("9223372036854775807") == .outOfRange)
        #expect(RQLimits.parse("-9223372036854775808") == .outOfRange)
        #expect(RQLimits.parse("99999999999999999999999") == .outOfRange)
        #expect(RQLimits.parse("2d") == .value(172_800))
        #expect(RQLimits.parse("-1") == .value(-1))
        #expect(RQLimits.parse("1h") == .value(3600))
        #expect(RQLimits.parse("\(RQLimits.maxSeconds)") == .value(RQLimits.maxSeconds))
        #expect(RQLimits.parse("\(RQLimits.maxSeconds + 1)") == .outOfRange)
        #expect(RQLimits.parse("1.5") == .invalid)
        #expect(RQLimits.parse("") == .invalid)
        #expect(RQLimits.parse("d") == .invalid)
        #expect(RQLimits.score(Date(), plus: .max) == 1 << 53)
        #expect(RQLimits.expireSeconds(.max) == RQLimits.maxSeconds)
    }

    @Test func outOfRangeFieldsDecodeAndAreWrittenBackVerbatim() throws {
        var hash = try JobFieldOverflow.baseHash()
        hash["failure_ttl"] = Array("9223372036854775807".utf8)
        hash["timeout"] = Array("106751991167301d".utf8)
        hash["retry_intervals"] = Array("[9223372036854775807]".utf8)
        let job = try RQJob(id: "verbatim", hash: hash, serializer: .pickle)
        #expect(job.failureTTL == nil && job.timeout == nil && job.retryIntervals == nil)
        #expect(Set(job.fieldProblems.map(\.field)) == ["failure_ttl", "timeout", "retry_intervals"])
        let written = Dictionary(try job.hashFields(serializer: .pickle).map { ($0.0, $0.1) }, uniquingKeysWith: { $1 })
        #expect(written["failure_ttl"] == hash["failure_ttl"])
        #expect(written["timeout"] == hash["timeout"])
        #expect(written["retry_intervals"] == hash["retry_intervals"])
        var failed = job
        let commands = try RQTransitions.fail(&failed, excString: "x", workerName: "w", keys: .default, serializer: .pickle)
        // failure_ttl was unusable: one year, as RQ's default.
        let expire = commands.first { String(decoding: $0[0].bytes, as: UTF8.self) == "EXPIRE" }
        #expect(expire.map { String(decoding: $0[2].bytes, as: UTF8.self) } == String(RQTransitions.defaultFailureTTL))
    }
}
