import Foundation
import Pickle
import RQ
import Redis
import Testing

/// Issue #14, point 3 (RQ mode): the abandoned-job transition counts worker deaths in the job hash
/// (`rp_worker_deaths`) and fails the job at the second, even with retries left.
@Suite("RQ poison jobs")
struct PoisonJobTests {
    static func decoded(_ job: RQJob) throws -> RQJob {
        let fields = Dictionary(try job.hashFields(serializer: .pickle).map { ($0.0, $0.1) }, uniquingKeysWith: { $1 })
        return try RQJob(id: job.id, hash: fields, serializer: .pickle)
    }

    @Test func secondDeathFailsAJobWithRetriesLeft() throws {
        var job = RQJob(id: "poison", call: RQCall("resume_processor.jobs.sleep", args: [.int(60)]))
        job.origin = "q"
        job.status = .started
        job.retriesLeft = 5
        let first = try RQTransitions.retryOrFail(&job, excString: RQTransitions.abandonedText(now: Date()), keys: .default, serializer: .pickle)
        #expect(first.retried && job.workerDeaths == 1 && job.retriesLeft == 4)
        job = try Self.decoded(job)  // the count survives the hash
        #expect(job.workerDeaths == 1)
        job.status = .started
        let second = try RQTransitions.retryOrFail(&job, excString: RQTransitions.abandonedText(now: Date()), keys: .default, serializer: .pickle)
        #expect(!second.retried && job.status == .failed && job.workerDeaths == 2 && job.retriesLeft == 4)
        let text = second.commands.compactMap { command -> String? in
            command.first.map { String(decoding: $0.bytes, as: UTF8.self) } == "XADD" ? command.map { String(decoding: $0.bytes, as: UTF8.self) }.joined(separator: " ") : nil
        }
        #expect(text.count == 1)
        #expect(RQTransitions.workerDiedTwiceText("x").hasSuffix("PoisonJobError: worker died twice while running it"))
    }
}
