import Foundation
import Logging

extension RQWorkerDriver {
    /// `--with-scheduler`: every second, heartbeat the scheduler hash and its locks and move due
    /// jobs of the queues it owns; every 10 s try to take the locks it does not own (a dead
    /// scheduler's lock expires after 61 s). Locks are released when the worker stops.
    func runScheduler() async throws {
        let scheduler = RQScheduler(name: configuration.name, queues: configuration.queues, store: store)
        var owned = Set<String>()
        do {
            try await schedule(scheduler, owned: &owned)
        } catch {
            await Self.release(scheduler, owned: owned)
            throw error
        }
        await Self.release(scheduler, owned: owned)
    }

    /// `--burst --with-scheduler`, as RQ's worker: take the locks, move the due jobs once and
    /// release the locks, before the first dequeue, so a burst worker runs what is due.
    func runSchedulerOnce() async throws {
        let scheduler = RQScheduler(name: configuration.name, queues: configuration.queues, store: store)
        let owned = try await scheduler.acquireLocks(configuration.queues)
        do {
            for queue in owned.sorted() {
                let moved = try await scheduler.enqueueDueJobs(queue: queue)
                if !moved.isEmpty { logger.debug("scheduled jobs enqueued", metadata: ["rq.queue": "\(queue)", "jobs": "\(moved.count)"]) }
            }
        } catch {
            try? await scheduler.stop(owned: owned)
            throw error
        }
        try await scheduler.stop(owned: owned)
    }

    /// Releases the scheduler's locks and deletes its record before the worker goes on stopping.
    private static func release(_ scheduler: RQScheduler, owned: Set<String>) async {
        // Unstructured on purpose, and awaited: the worker is stopping, so this task is cancelled
        // and its own Redis calls would refuse to start; a separate task still reaches Redis, and
        // awaiting it means the process does not exit halfway (lock released, record left). Bounded
        // by the Redis client's reconnect budget; if it fails, the lock expires within 61 s.
        await Task { try? await scheduler.stop(owned: owned) }.value
    }

    /// The scheduler's ticks until cancelled; `owned` tracks the queues whose lock it holds.
    private func schedule(_ scheduler: RQScheduler, owned: inout Set<String>) async throws {
        var lastAcquire = ContinuousClock.now.advanced(by: .seconds(-60))
        while !Task.isCancelled {
            do {
                if owned.count < configuration.queues.count, ContinuousClock.now - lastAcquire >= .seconds(10) {
                    lastAcquire = .now
                    let acquired = try await scheduler.acquireLocks(configuration.queues.filter { !owned.contains($0) })
                    if !acquired.isEmpty { logger.info("scheduler lock acquired", metadata: ["rq.queues": "\(acquired.sorted())"]) }
                    owned.formUnion(acquired)
                }
                owned = try await scheduler.heartbeat(owned: owned)
                for queue in owned.sorted() {
                    let moved = try await scheduler.enqueueDueJobs(queue: queue)
                    if !moved.isEmpty { logger.debug("scheduled jobs enqueued", metadata: ["rq.queue": "\(queue)", "jobs": "\(moved.count)"]) }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("scheduler tick failed; retrying", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: .seconds(scheduler.interval))
        }
    }
}
