import Foundation
import Redis

extension RQStore {
    /// What RQ does once an abandoned or stuck job's outcome is committed (3.0's
    /// `StartedJobRegistry.cleanup`, `handle_job_failure`): a job failed for good releases the
    /// children that allow a failed parent (`enqueue_dependents`), and every handled job gives back
    /// its rate limit slot unless it is queued again. Errors are the caller's to log; maintenance
    /// frees a leaked slot later.
    func afterAbandonment(failed: [String], handled: [RQJob]) async throws {
        for id in failed {
            try await releaseDependents(of: id, parentStatus: .failed)
        }
        for job in handled {
            guard let key = job.rateLimitKey else { continue }
            _ = try await releaseRateLimitSlot(jobID: job.id, key: key, status: job.status)
        }
    }

    /// Releases `parentID`'s children as its end would (``releaseDependentsCommands(of:parentStatus:on:now:)``
    /// under `WATCH` of its dependents set, retried when the set changed meanwhile).
    public func releaseDependents(of parentID: String, parentStatus: RQJobStatus) async throws {
        let dependentsKey = RedisArgument(keys.dependents(parentID))
        for _ in 0..<16 {
            let done = try await redis.withConnection { connection -> Bool in
                _ = try await connection.send("WATCH", dependentsKey)
                do {
                    let commands = try await releaseDependentsCommands(of: parentID, parentStatus: parentStatus, on: connection)
                    guard !commands.isEmpty else {
                        _ = try await connection.send("UNWATCH")
                        return true
                    }
                    return try await connection.transaction(commands) != nil
                } catch {
                    _ = try? await connection.send("UNWATCH")
                    throw error
                }
            }
            if done { return }
        }
        throw RQError(.invalidArgument, "dependents of \(parentID) kept changing while releasing them")
    }
}
