import Foundation
import Redis

extension RQTransitions {
    /// RQ's `Repeat.schedule` after a successful run with `repeats_left > 0`: one repeat used,
    /// then back on the queue at once (status `queued`, new `enqueued_at`) or, after the interval,
    /// into `rq:scheduled:Q` (status `scheduled`). The interval follows the RQ version's rule:
    /// 2.12 takes `repeat_intervals[repeats_left - 1]` (the last one past the end), 3.0 takes the
    /// first and drops it while more than one is left. The job is not expired (RQ's `cleanup` is
    /// skipped while it repeats).
    public static func repeatCommands(
        _ job: inout RQJob, rule: RQRecordVersion, now: Date = Date(), keys: RQKeys, serializer: RQSerializer
    ) throws(RQError) -> [RedisCommand] {
        guard let origin = job.origin else { throw RQError(.malformedJob, "job \(job.id) has no origin") }
        let left = job.repeatsLeft ?? 0
        var interval = 0
        if let intervals = job.repeatIntervals, !intervals.isEmpty {
            switch rule {
            case .rq2:
                let index = max(0, left - 1)
                interval = index < intervals.count ? intervals[index] : intervals[intervals.count - 1]
            case .rq3:
                interval = intervals[0]
                if intervals.count > 1 { job.repeatIntervals = Array(intervals.dropFirst()) }
            }
        }
        job.repeatsLeft = left - 1
        return try requeueCommands(&job, origin: origin, after: interval, atFront: false, ttl: nil, now: now, keys: keys, serializer: serializer)
    }
}
