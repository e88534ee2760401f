/// Capped exponential backoff with optional full jitter, as used for reconnects and retries.
public struct Backoff: Sendable, Hashable {
    /// Delay before the second attempt. Default: `.milliseconds(50)`.
    public var initialDelay: Duration
    /// Upper bound on any single delay. Default: `.seconds(2)`.
    public var maximumDelay: Duration
    /// Growth factor between attempts. Default: `2`.
    public var multiplier: Double
    /// Fraction of each delay that is randomised (0 = none, 1 = full jitter). Default: `0.2`.
    public var jitter: Double

    /// Creates a backoff policy; see the properties for the defaults.
    public init(
        initialDelay: Duration = .milliseconds(50),
        maximumDelay: Duration = .seconds(2),
        multiplier: Double = 2,
        jitter: Double = 0.2
    ) {
        precondition(initialDelay >= .zero && maximumDelay >= initialDelay, "Backoff needs 0 <= initial <= maximum")
        precondition(multiplier >= 1 && (0...1).contains(jitter), "Backoff needs multiplier >= 1 and jitter in 0...1")
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay to wait after failed attempt number `attempt` (0-based).
    public func delay(afterAttempt attempt: Int) -> Duration {
        let base = initialDelay.seconds * pow(multiplier, Double(min(attempt, 62)))
        let capped = min(base, maximumDelay.seconds)
        let randomised = capped * (1 - jitter * Double.random(in: 0...1))
        return .nanoseconds(Int64(randomised * 1_000_000_000))
    }
}

extension Duration {
    /// The duration as a floating-point number of seconds.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    /// The duration as a C `timeval`-style pair (whole seconds, microseconds).
    public var secondsAndMicroseconds: (seconds: Int, microseconds: Int) {
        let (s, atto) = components
        return (Int(s), Int(atto / 1_000_000_000_000))
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 {
        result *= base
        remaining -= 1
    }
    return result
}
