import Foundation
import Pickle
import Timestamps

/// One of a job's RQ webhooks (`webhooks=[Webhook(url, job_status, method, headers, timeout)]`,
/// the job hash's `webhooks` field, JSON): an HTTP request sent when the job ends `finished` or
/// `failed` (`docs/rq-interop.md`, "Webhooks").
public struct RQWebhook: Sendable, Hashable {
    /// An `http://` or `https://` URL with a host.
    public var url: URL
    /// `finished` or `failed`.
    public var jobStatus: String
    /// `GET` or `POST`.
    public var method: String
    /// Extra request headers.
    public var headers: [(String, String)]
    /// Seconds the request may take. RQ's default: 10.
    public var timeout: Int

    public static func == (lhs: RQWebhook, rhs: RQWebhook) -> Bool {
        lhs.url == rhs.url && lhs.jobStatus == rhs.jobStatus && lhs.method == rhs.method && lhs.timeout == rhs.timeout
            && lhs.headers.map(\.0) == rhs.headers.map(\.0) && lhs.headers.map(\.1) == rhs.headers.map(\.1)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(url)
        hasher.combine(jobStatus)
    }

    /// The webhooks in a `webhooks` field, and the reasons entries were refused — with RQ's own
    /// rules (`Webhook.__init__`): the scheme must be http or https with a host, the status
    /// `finished` or `failed`, the method `GET` or `POST`, the timeout a positive integer.
    public static func decode(_ field: [UInt8]) -> (webhooks: [RQWebhook], refused: [String]) {
        guard !field.isEmpty else { return ([], []) }
        guard let list = (try? PythonJSON.decode(field))?.arrayValue else { return ([], ["webhooks is not a JSON list"]) }
        var webhooks: [RQWebhook] = []
        var refused: [String] = []
        for entry in list {
            let text = entry["url"]?.stringValue ?? ""
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                  let host = url.host, !host.isEmpty else {
                refused.append("url must be an http:// or https:// URL, got \(PythonRepr.repr(entry["url"] ?? .none))")
                continue
            }
            let status = entry["job_status"]?.stringValue ?? ""
            guard ["finished", "failed"].contains(status) else {
                refused.append("job_status must be 'finished' or 'failed', got \(PythonRepr.repr(entry["job_status"] ?? .none))")
                continue
            }
            let method = entry["method"]?.stringValue ?? "GET"
            guard ["GET", "POST"].contains(method) else {
                refused.append("method must be 'GET' or 'POST', got \(PythonRepr.repr(entry["method"] ?? .none))")
                continue
            }
            let timeout = entry["timeout"].map { $0.intValue ?? 0 } ?? 10
            guard timeout > 0 else {
                refused.append("timeout must be a positive integer, got \(PythonRepr.repr(entry["timeout"] ?? .none))")
                continue
            }
            let headers = (entry["headers"]?.dictEntries ?? []).compactMap { item -> (String, String)? in
                guard let name = item.key.stringValue, let value = item.value.stringValue else { return nil }
                return (name, value)
            }
            webhooks.append(RQWebhook(url: url, jobStatus: status, method: method, headers: headers, timeout: timeout))
        }
        return (webhooks, refused)
    }

    /// RQ's payload, `json.dumps` of `{"job_id", "func_name", "status", "enqueued_at",
    /// "ended_at"}` (times as Python's `isoformat()`), plus `"exc_info"` for `failed`.
    public func payload(jobID: String, functionName: String, enqueuedAt: Date?, endedAt: Date?, excString: String?) -> [UInt8] {
        var entries: [PythonDictEntry] = [
            PythonDictEntry(.string("job_id"), .string(jobID)),
            PythonDictEntry(.string("func_name"), .string(functionName)),
            PythonDictEntry(.string("status"), .string(jobStatus)),
            PythonDictEntry(.string("enqueued_at"), enqueuedAt.map { .string(Self.isoformat($0)) } ?? .none),
            PythonDictEntry(.string("ended_at"), endedAt.map { .string(Self.isoformat($0)) } ?? .none),
        ]
        if jobStatus == "failed" { entries.append(PythonDictEntry(.string("exc_info"), excString.map { .string($0) } ?? .none)) }
        return (try? PythonJSON.encode(.dict(entries))) ?? Array("{}".utf8)
    }

    /// Python's `datetime.isoformat()` of an aware UTC time: `2026-12-03T11:04:24.123456+00:00`,
    /// without the fraction when the microseconds are 0.
    static func isoformat(_ date: Date) -> String {
        let micros = Int64((WireTime.clamped(date).timeIntervalSince1970 * 1_000_000).rounded())
        let text = CivilDate.isoText(microsecondsSinceEpoch: micros, separator: "T")
        return (micros % 1_000_000 == 0 ? String(text.dropLast(7)) : text) + "+00:00"
    }
}
