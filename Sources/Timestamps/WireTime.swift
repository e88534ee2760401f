import Foundation

/// The timestamps both queue formats write and read (`docs/rq-wire.md`, "Encodings"): RQ's
/// ISO text, Python float seconds, integer Unix seconds, all clamped to what Python's `datetime`
/// holds. The native format uses the same ISO text, so `HGETALL job:{id}` reads like RQ's hashes.
public enum WireTime {
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
        var text = String(value)  // Python's float repr: shortest round trip, `.0` when integral
        if !text.contains(".") && !text.contains("e") && !text.contains("n") && !text.contains("i") { text += ".0" }
        return text
    }

    /// Integer Unix seconds, as used for registry scores (`current_timestamp()`); saturated
    /// (`Int(Double)` would trap on a date from a hostile field).
    public static func unixSeconds(_ date: Date) -> Int {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard !seconds.isNaN else { return 0 }
        if seconds >= 9.223372036854775e18 { return Int.max }
        if seconds <= -9.223372036854775e18 { return Int.min }
        return Int(seconds)
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
