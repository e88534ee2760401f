import Foundation
import FuzzSupport
import Pickle
import RQ

/// The job-field overflow fuzz target: RQ job hashes whose numeric fields come from overflow ranges
/// (the ±2⁶³ neighbourhood, values around ``RQLimits/maxSeconds``, duration strings with every
/// unit, more digits than 64 bits hold), decoded and, when they decode, run through the TTL and
/// score computations of success, failure, retry and the abandoned-job paths. A trap ends the
/// process; everything else is an outcome. Shared by `bench fuzz` and `RQOverflowFuzzTests`.
public enum JobFieldOverflow {
    /// The numeric fields the target overwrites.
    public static let numericFields = ["timeout", "result_ttl", "failure_ttl", "ttl", "retries_left", "number_of_retries",
                                       "repeats_left", "rate_limit_concurrency", RQJob.workerDeathsField]

    /// A number from the interesting ranges, as text (sometimes with an RQ duration unit).
    public static func number(_ random: inout SplitMix64) -> String {
        let anchors: [Int] = [.max, .min, .max / 1000, .min / 1000, RQLimits.maxSeconds, -RQLimits.maxSeconds,
                              .max / 86_400, .max / 3600, .max / 60, 0, 1, -1, 31_536_000]
        let anchor = anchors[Int(random.next() % UInt64(anchors.count))]
        let offset = Int(truncatingIfNeeded: random.next() % 2001) - 1000
        let value = anchor.addingReportingOverflow(offset).partialValue
        switch random.next() % 6 {
        case 0: return String(value) + ["s", "m", "h", "d"][Int(random.next() % 4)]
        case 1: return String(value.magnitude) + String(random.next() % 100_000)  // beyond 64 bits
        case 2: return "106751991167301d"
        default: return String(value)
        }
    }

    /// A well-formed echo job's hash, the base the target mutates.
    public static func baseHash() throws -> [String: [UInt8]] {
        var job = RQJob(id: "fuzz", call: RQCall("resume_processor.jobs.echo", args: [.int(1)]))
        job.origin = "fuzzq"
        return Dictionary(try job.hashFields(serializer: .pickle).map { ($0.0, $0.1) }, uniquingKeysWith: { $1 })
    }

    /// `base` with one to four numeric fields (and sometimes `retry_intervals`) from the overflow ranges.
    public static func hash(_ base: [String: [UInt8]], _ random: inout SplitMix64) -> [String: [UInt8]] {
        var hash = base
        for _ in 0..<(1 + random.next() % 4) {
            hash[numericFields[Int(random.next() % UInt64(numericFields.count))]] = Array(number(&random).utf8)
        }
        if random.next() % 3 == 0 {
            let items = (0..<(1 + random.next() % 3)).map { _ in number(&random).filter { $0.isNumber || $0 == "-" } }
            hash["retry_intervals"] = Array("[\(items.joined(separator: ", "))]".utf8)
        }
        return hash
    }

    /// What a worker and the cleanups compute from a job: none of it may trap.
    public static func runComputations(_ job: RQJob, now: Date) throws {
        let keys = RQKeys.default
        var failed = job
        _ = try RQTransitions.fail(&failed, excString: "x", workerName: "w", now: now, keys: keys, serializer: .pickle)
        var retried = job
        _ = try RQTransitions.retry(&retried, now: now, keys: keys, serializer: .pickle)
        var abandoned = job
        _ = try RQTransitions.retryOrFail(&abandoned, excString: "x", now: now, keys: keys, serializer: .pickle)
        _ = RQTransitions.retryInterval(job)
        let resultTTL = job.resultTTL ?? 500
        _ = RQLimits.score(now, plus: resultTTL)
        _ = RQTransitions.expireCommands(job.id, ttl: resultTTL, keys: keys)
        _ = RQTransitions.resultCommands(job.id, fields: [], ttl: resultTTL, keys: keys)
        _ = try job.hashFields(serializer: .pickle)
    }
}
