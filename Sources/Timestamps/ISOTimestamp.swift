import Foundation

/// ISO 8601 timestamps with microseconds, in UTC (`2026-11-29T05:40:00.123456Z`): how the API
/// writes every date and reads `created_after` (rounded to the microsecond; the queue formats'
/// ``WireTime`` truncates, as RQ does).
public enum ISOTimestamp {
    /// `date` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    /// Dates outside years 0001–9999 are shown as the nearest end of that range (never a trap).
    public static func format(_ date: Date) -> String {
        let micros = Int64((WireTime.clamped(date).timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), fraction)
    }

    /// Parses RFC 3339 / ISO 8601 (`2026-11-29T05:40:00Z`, with optional fraction and offset).
    public static func parse(_ text: String) -> Date? {
        guard text.utf8.count <= 40 else { return nil }
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: text)
    }
}
