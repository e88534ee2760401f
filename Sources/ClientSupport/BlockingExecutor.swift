import Dispatch

/// Runs blocking C calls on a private serial dispatch queue, never on Swift's cooperative pool.
///
/// Each C connection handle (a `redisContext`, a `PGconn`) gets exactly one `BlockingExecutor`, which
/// makes the queue the handle's single owner: every call that touches the handle is a closure run
/// here, one at a time, in submission order.
public final class BlockingExecutor: Sendable {
    private let queue: DispatchQueue

    /// Creates an executor whose queue carries `label` (visible in debuggers and crash logs).
    public init(label: String) {
        self.queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the executor's queue and suspends the caller until it returns.
    ///
    /// The caller's task is suspended, not blocked: the cooperative thread is free meanwhile.
    public func run<Result: Sendable>(
        _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            self.queue.async {
                continuation.resume(with: Swift.Result { try body() })
            }
        }
    }

    /// Queues `body` on the executor's queue without waiting for it (used to free handles).
    public func submit(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }

    /// Runs `body` on the executor's queue and waits for it from synchronous code (used by `deinit`
    /// paths and shutdown, never from async code).
    public func runSync<Result>(_ body: () throws -> Result) rethrows -> Result {
        try queue.sync(execute: body)
    }
}
