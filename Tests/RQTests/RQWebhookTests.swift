import Foundation
@testable import RQ
import Testing
import Timestamps

/// The webhook model on its own: RQ's refusals, Python's `isoformat()` and `json.dumps` payload.
@Suite("RQ webhooks")
struct RQWebhookTests {
    @Test func timesAreWrittenAsPythonsIsoformat() throws {
        let fraction = try #require(WireTime.parse("2026-12-03T11:04:24.123456Z"))
        #expect(RQWebhook.isoformat(fraction) == "2026-12-03T11:04:24.123456+00:00")
        let whole = try #require(WireTime.parse("2026-12-03T11:04:25.000000Z"))
        #expect(RQWebhook.isoformat(whole) == "2026-12-03T11:04:25+00:00")
    }

    @Test func payloadIsPythonsJsonDumps() throws {
        let field = Array(#"[{"url": "http://h/x", "job_status": "failed", "method": "POST", "headers": null, "timeout": 10}]"#.utf8)
        let webhook = try #require(RQWebhook.decode(field).webhooks.first)
        let body = webhook.payload(
            jobID: "j", functionName: "f", enqueuedAt: WireTime.parse("2026-12-03T11:04:24.123456Z"),
            endedAt: WireTime.parse("2026-12-03T11:04:25.000000Z"), excString: "ValueError: boom\n")
        #expect(String(decoding: body, as: UTF8.self) == #"{"job_id": "j", "func_name": "f", "status": "failed", "enqueued_at": "2026-12-03T11:04:24.123456+00:00", "ended_at": "2026-12-03T11:04:25+00:00", "exc_info": "ValueError: boom\n"}"#)
    }

    @Test func entriesRqWouldRefuseAreSkippedWithTheReason() {
        let field = Array(#"[{"url": "file:///etc/passwd", "job_status": "finished"}, {"url": "http://h/", "job_status": "started"}, {"url": "https://h/", "job_status": "finished", "method": "PUT"}, {"url": "https://h/", "job_status": "finished", "timeout": 0}, {"url": "https://h/ok", "job_status": "finished"}]"#.utf8)
        let (webhooks, refused) = RQWebhook.decode(field)
        #expect(webhooks.map(\.url.absoluteString) == ["https://h/ok"])
        #expect(webhooks.first?.method == "GET" && webhooks.first?.timeout == 10)
        #expect(refused.count == 4)
        #expect(refused[0].hasPrefix("url must be an http:// or https:// URL"))
    }
}
