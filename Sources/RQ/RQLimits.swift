import Foundation
import Timestamps

/// The ranges the numbers of an RQ job must lie in, and the checked arithmetic that turns them into
/// Redis arguments (`EXPIRE` seconds, sorted-set scores), so that no value read from Redis, a
/// header or a form can trap the process.
///
/// Every duration and count of a job hash (`timeout`, `result_ttl`, `failure_ttl`, `ttl`,
/// `retries_left`, `retry_intervals`, …) must lie within ±``maxSeconds`` (2⁵², about 142 million
/// years): such a value plus any Unix time is exact in a `Double` (a `ZADD` score) and, as
/// milliseconds, far below what `EXPIRE` accepts (its limit is about 2⁶³ / 1000 seconds from now).
/// A value outside is an ``RQFieldProblem``: the job hash still decodes (so readers can show it),
/// and the worker fails the job with the problem as its reason instead of running it.
public enum RQLimits {
    /// The largest magnitude of a job's duration or count: 2⁵².
    public static let maxSeconds = 1 << 52

    /// `-maxSeconds...maxSeconds`.
    public static let accepted: ClosedRange<Int> = -maxSeconds...maxSeconds

    /// How a job field's text reads as a number.
    public enum Parsed: Sendable, Hashable {
        /// A number within ``accepted``.
        case value(Int)
        /// A well-formed number outside ``accepted`` (including beyond 64 bits).
        case outOfRange
        /// Not a number.
        case invalid
    }

    /// Parses a decimal integer (`[+-]?[0-9]+`, any length) or one of RQ's duration strings
    /// (`"30s"`, `"5m"`, `"1h"`, `"2d"`, as `parse_timeout` accepts), with checked multiplication.
    public static func parse(_ text: String) -> Parsed {
        var digits = Substring(text)
        var unit = 1
        switch digits.last {
        case "s": unit = 1
        case "m": unit = 60
        case "h": unit = 3600
        case "d": unit = 86_400
        default: unit = 0
        }
        if unit != 0 { digits = digits.dropLast() }
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return .invalid }
        guard let magnitude = Int(digits) else { return .outOfRange }  // digits only: too many of them
        let (scaled, overflow) = magnitude.multipliedReportingOverflow(by: max(unit, 1))
        guard !overflow, scaled <= maxSeconds else { return .outOfRange }
        return .value(negative ? -scaled : scaled)
    }

    /// `base + seconds`, saturating at the ends of `Int` (never traps).
    public static func adding(_ base: Int, _ seconds: Int) -> Int {
        let (sum, overflow) = base.addingReportingOverflow(seconds)
        guard overflow else { return sum }
        return seconds > 0 ? Int.max : Int.min
    }

    /// A sorted-set score `now + seconds` (Unix seconds), saturated into ±2⁵³ so that it is an exact
    /// `Double` (what Redis stores) and its text is an integer Redis parses.
    public static func score(_ now: Date, plus seconds: Int) -> Int {
        let limit = 1 << 53
        return min(max(adding(WireTime.unixSeconds(now), seconds), -limit), limit)
    }

    /// A TTL for `EXPIRE`, clamped into `1...maxSeconds` (callers send `EXPIRE` only for positive
    /// TTLs; beyond `maxSeconds` Redis would refuse the command and abort its transaction).
    public static func expireSeconds(_ ttl: Int) -> Int {
        min(max(ttl, 1), maxSeconds)
    }

    /// Whole seconds of `value` as an `Int`, saturated (`Int(Double)` traps outside `Int`'s range
    /// and on NaN; NaN reads as 0).
    public static func saturatingInt(_ value: Double) -> Int {
        guard !value.isNaN else { return 0 }
        if value >= 9.223372036854775e18 { return Int.max }
        if value <= -9.223372036854775e18 { return Int.min }
        return Int(value)
    }
}

/// A numeric job field whose value is outside ``RQLimits/accepted``: the hash decodes, the field's
/// bytes are kept verbatim (written back unchanged), and a worker fails the job with ``description``.
public struct RQFieldProblem: Sendable, Hashable, CustomStringConvertible {
    /// The hash field, e.g. `failure_ttl`.
    public var field: String
    /// Its text (at most 64 characters).
    public var text: String

    /// Creates a problem record.
    public init(field: String, text: String) {
        self.field = field
        self.text = String(text.prefix(64))
    }

    /// `failure_ttl = 9223372036854775807 is out of range (accepted: -4503599627370496...4503599627370496)`.
    public var description: String {
        "\(field) = \(text) is out of range (accepted: \(RQLimits.accepted.lowerBound)...\(RQLimits.accepted.upperBound))"
    }
}
