import ClientSupport
import Foundation

/// RQ's time encodings (`docs/rq-wire.md`, "Encodings").
public enum RQTime {
    /// `%Y-%m-%dT%H:%M:%S.%fZ` in UTC with six fractional digits, e.g. `2026-11-29T00:48:12.023616Z`.
    /// Dates outside years 0001–9999 (and NaN) are written as the nearest end of that range.
    public static func format(_ date: Date) -> String {
        let micros = Int64((clamped(date).timeIntervalSince1970 * 1_000_000).rounded(.down))
        return CivilDate.isoText(microsecondsSinceEpoch: micros, separator: "T") + "Z"
    }

    /// Parses what RQ parses: `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`. Anything else (offsets, a space,
    /// seven digits) is `nil`, as it is an error for Python.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ start: Int, _ width: Int) -> Int64? {
            var value: Int64 = 0
            for index in start..<(start + width) {
                let c = bytes[index]
                guard c >= 48 && c <= 57 else { return nil }
                value = value * 10 + Int64(c - 48)
            }
            return value
        }
        guard bytes[4] == 45, bytes[7] == 45, bytes[10] == 84, bytes[13] == 58, bytes[16] == 58,
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        var micros: Int64 = 0
        if bytes.count > 20 {
            guard bytes[19] == 46 else { return nil }
            let digits = bytes.count - 21
            guard (1...6).contains(digits), let fraction = number(20, digits) else { return nil }
            micros = fraction
            for _ in digits..<6 { micros *= 10 }
        }
        let days = CivilDate.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    /// Python `str(float)` of Unix seconds, as used in execution hashes and result fields.
    public static func floatSeconds(_ date: Date) -> String {
        let value = (date.timeIntervalSince1970 * 1_000_000).rounded() / 1_000_000
        return PythonFloat.repr(value)
    }

    /// Integer Unix seconds, as used for registry scores (`current_timestamp()`); saturated
    /// (`Int(Double)` would trap on a date from a hostile field).
    public static func unixSeconds(_ date: Date) -> Int {
        RQLimits.saturatingInt(date.timeIntervalSince1970.rounded(.down))
    }

    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z in Unix seconds (milliseconds: a microsecond bound rounds up into year 10000 in a `Double`): the dates RQ's format
    /// (and Python's `datetime`) can hold.
    public static let representable: ClosedRange<Double> = -62_135_596_800...253_402_300_799.999

    /// `date` moved into ``representable`` (NaN reads as the epoch), so that formatting it never
    /// traps in a conversion to an integer.
    public static func clamped(_ date: Date) -> Date {
        let seconds = date.timeIntervalSince1970
        guard !seconds.isNaN else { return Date(timeIntervalSince1970: 0) }
        return Date(timeIntervalSince1970: min(max(seconds, representable.lowerBound), representable.upperBound))
    }

    /// Unix seconds from a float field (`execution_started_at`, a stream entry id's milliseconds):
    /// `nil` unless finite and within ``representable``.
    public static func date(unixSeconds value: Double) -> Date? {
        guard value.isFinite, representable.contains(value) else { return nil }
        return Date(timeIntervalSince1970: value)
    }

}

/// Python's `float.__repr__` for the values RQ writes (timestamps): shortest round trip, `.0` for
/// integral values.
enum PythonFloat {
    static func repr(_ value: Double) -> String {
        var text = String(value)
        if !text.contains(".") && !text.contains("e") && !text.contains("n") && !text.contains("i") { text += ".0" }
        return text
    }
}

/// RQ job statuses (`docs/rq-wire.md`, "Job statuses").
public enum RQJobStatus: String, Sendable, Hashable, CaseIterable {
    case created, queued, started, finished, failed, deferred, scheduled, stopped, canceled
    /// RQ 3.0: waiting for a rate-limit slot (in no queue list). Read, never written.
    case rateLimited = "rate_limited"
    /// RQ 3.0: dependencies met, staged in `rq:ready:Q`. Read, never written.
    case readyToEnqueue = "ready_to_enqueue"
}
