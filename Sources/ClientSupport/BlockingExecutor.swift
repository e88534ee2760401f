import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A dedicated thread that owns one C connection handle and runs its blocking calls, never on Swift's
/// cooperative pool.
///
/// Every call that touches the handle is a closure run here, one at a time, in submission order, so
/// the handle has exactly one owner. Callers on other threads suspend (not block) while their
/// closure runs.
///
/// The executor is also a `TaskExecutor`: code that runs many commands on one connection can pin
/// itself to the connection's thread with `withTaskExecutorPreference(connection.taskExecutor)`.
/// Calls made from that thread run inline, with no thread hop at all, which is what makes
/// single-connection round trips as fast as a C client's.
public final class BlockingExecutor: TaskExecutor, @unchecked Sendable {
    // `@unchecked`: all mutable state lives in `Queue`, guarded by its condition variable.
    fileprivate enum Work {
        case closure(@Sendable () -> Void)
        case job(UnownedJob)
    }

    /// The work queue and the thread's identity, shared by the executor and its thread (the thread
    /// must not keep the executor itself alive, or it could never be released).
    fileprivate final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var work: [Work] = []
        var stopping = false
        var threadID: pthread_t?
        weak var owner: BlockingExecutor?
    }

    private let queue = Queue()

    /// Starts the executor's thread, named `label` (visible in debuggers).
    public init(label: String) {
        let queue = self.queue
        queue.owner = self
        let thread = Thread { Self.loop(queue) }
        thread.name = label
        queue.condition.lock()
        thread.start()
        while queue.threadID == nil { queue.condition.wait() }
        queue.condition.unlock()
    }

    deinit {
        shutdown()
    }

    /// Whether the caller is running on this executor's thread.
    public var isCurrent: Bool {
        queue.condition.lock()
        defer { queue.condition.unlock() }
        return queue.threadID.map { pthread_equal($0, pthread_self()) != 0 } ?? false
    }

    /// Runs `body` on the executor's thread and returns its result. From the executor's own thread
    /// it runs inline; from anywhere else the caller's task suspends until it is done.
    public func run<Result: Sendable>(
        _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        if isCurrent { return try body() }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            submit { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    /// Queues `body` on the executor's thread without waiting for it (used to free handles).
    public func submit(_ body: @escaping @Sendable () -> Void) {
        append(.closure(body))
    }

    /// Finishes the queued work, then lets the thread end.
    public func shutdown() {
        queue.condition.lock()
        queue.stopping = true
        queue.condition.broadcast()
        queue.condition.unlock()
    }

    /// `TaskExecutor` conformance: runs a task's partial job on the executor's thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        append(.job(UnownedJob(job)))
    }

    /// This executor as a `TaskExecutor`, for `withTaskExecutorPreference`.
    public var taskExecutor: any TaskExecutor { self }

    private func append(_ item: Work) {
        queue.condition.lock()
        queue.work.append(item)
        queue.condition.signal()
        queue.condition.unlock()
    }

    private static func loop(_ queue: Queue) {
        queue.condition.lock()
        queue.threadID = pthread_self()
        queue.condition.broadcast()
        queue.condition.unlock()
        while true {
            queue.condition.lock()
            while queue.work.isEmpty && !queue.stopping { queue.condition.wait() }
            if queue.work.isEmpty && queue.stopping {
                queue.condition.unlock()
                return
            }
            let batch = queue.work
            queue.work.removeAll(keepingCapacity: true)
            queue.condition.unlock()
            for item in batch {
                switch item {
                case .closure(let body):
                    body()
                case .job(let job):
                    // A task that prefers this executor keeps it alive while its jobs are queued.
                    if let owner = queue.owner { job.runSynchronously(on: owner.asUnownedTaskExecutor()) }
                }
            }
        }
    }
}
