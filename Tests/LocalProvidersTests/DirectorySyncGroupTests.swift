import Foundation
@testable import LocalProviders
import Testing

/// The folder-`fsync` group commit: every writer gets a flush that started after it asked, and
/// concurrent writers share flushes.
@Suite struct DirectorySyncGroupTests {
    /// A log of flushes (start and end instants) and of each writer's call and return.
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var flushes: [(start: ContinuousClock.Instant, end: ContinuousClock.Instant)] = []
        private var calls: [(start: ContinuousClock.Instant, end: ContinuousClock.Instant)] = []
        func flushed(_ start: ContinuousClock.Instant, _ end: ContinuousClock.Instant) { lock.withLock { flushes.append((start, end)) } }
        func called(_ start: ContinuousClock.Instant, _ end: ContinuousClock.Instant) { lock.withLock { calls.append((start, end)) } }
        var snapshot: (flushes: [(start: ContinuousClock.Instant, end: ContinuousClock.Instant)], calls: [(start: ContinuousClock.Instant, end: ContinuousClock.Instant)]) {
            lock.withLock { (flushes, calls) }
        }
    }

    @Test func sequentialWritersEachFlush() {
        let log = Log()
        let group = DirectorySyncGroup { _ in
            let start = ContinuousClock.now
            log.flushed(start, .now)
        }
        for _ in 0..<3 { group.sync("/tmp/a") }
        #expect(group.flushCount == 3)
        #expect(log.snapshot.flushes.count == 3)
    }

    @Test func concurrentWritersShareFlushesThatStartAfterThem() async {
        let log = Log()
        let group = DirectorySyncGroup { _ in
            let start = ContinuousClock.now
            usleep(20_000)
            log.flushed(start, .now)
        }
        let writers = 24
        await withTaskGroup(of: Void.self) { tasks in
            for index in 0..<writers {
                tasks.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        Thread {
                            usleep(UInt32(index % 6) * 7_000)  // arrive while flushes are running
                            let start = ContinuousClock.now
                            group.sync("/tmp/shared")
                            log.called(start, .now)
                            done.resume()
                        }.start()
                    }
                }
            }
        }
        let (flushes, calls) = log.snapshot
        #expect(calls.count == writers)
        #expect(flushes.count == group.flushCount)
        #expect(flushes.count < writers, "\(flushes.count) flushes for \(writers) writers")
        for call in calls {
            #expect(flushes.contains { $0.start >= call.start && $0.end <= call.end }, "a writer returned without a flush that started after it")
        }
    }

    @Test func foldersAreIndependent() {
        let log = Log()
        let group = DirectorySyncGroup { _ in log.flushed(.now, .now) }
        group.sync("/tmp/x")
        group.sync("/tmp/y")
        #expect(group.flushCount == 2)
    }
}
