/// The reconnect rule the Redis and PostgreSQL connections share: try, and while the failure is
/// one a new attempt may cure, wait the backoff's next delay and try again — until the next wait
/// would end past `budget`, when the last error is thrown.
public struct ReconnectLoop: Sendable {
    /// How long reconnecting may take in all.
    public var budget: Duration
    /// The delays between attempts.
    public var backoff: Backoff

    /// Creates a loop.
    public init(budget: Duration, backoff: Backoff) {
        self.budget = budget
        self.backoff = backoff
    }

    /// Runs `connect` until it succeeds, `isRetryable` refuses its error, or the budget is spent;
    /// `onRetry` hears each failed attempt (its number from 1, and the error) before the wait.
    public func run<Failure: Error>(
        _ connect: () async throws -> Void, isRetryable: (Failure) -> Bool, onRetry: (Int, Failure) -> Void
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: budget)
        var attempt = 0
        while true {
            do {
                return try await connect()
            } catch let error as Failure where isRetryable(error) {
                let delay = backoff.delay(afterAttempt: attempt)
                attempt += 1
                if clock.now.advanced(by: delay) >= deadline { throw error }
                onRetry(attempt, error)
                try await Task.sleep(for: delay)
            }
        }
    }
}
