import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging

/// Sends RQ webhooks beside the worker's slots: ``enqueue(_:)`` never waits for the network, at
/// most ``maximumInFlight`` requests run at once, each within its webhook's timeout, and a
/// failure (unreachable, timeout, any status ≥ 400) is logged — never the job's failure. Runs as
/// one of the driver's companions; when the worker stops, what is queued is still sent, for up to
/// ``drainDeadline``.
final class RQWebhookSender: Sendable {
    /// One request to send.
    struct Delivery: Sendable {
        let webhook: RQWebhook
        let jobID: String
        let body: [UInt8]
    }

    /// Requests sent at once. Default: 8.
    let maximumInFlight: Int
    /// How long queued webhooks are still sent after the worker began stopping. Default: 10 s.
    let drainDeadline: Duration
    private let logger: Logger
    private let stream: AsyncStream<Delivery>
    private let continuation: AsyncStream<Delivery>.Continuation
    private let session: URLSession

    init(logger: Logger, maximumInFlight: Int = 8, drainDeadline: Duration = .seconds(10)) {
        self.logger = logger
        self.maximumInFlight = maximumInFlight
        self.drainDeadline = drainDeadline
        // A backlog past 10 000 (an endpoint far slower than the jobs) drops the oldest, logged.
        (stream, continuation) = AsyncStream<Delivery>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Queues `delivery`; returns at once.
    func enqueue(_ delivery: Delivery) {
        if case .dropped(let old) = continuation.yield(delivery) {
            logger.warning("webhook backlog full; dropped the oldest", metadata: ["job.id": "\(old.jobID)", "webhook.host": "\(old.webhook.url.host ?? "?")"])
        }
    }

    /// Sends until cancelled, then what is still queued, within ``drainDeadline``.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            var iterator = stream.makeAsyncIterator()
            while let delivery = await iterator.next() {
                if running >= maximumInFlight {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask { await self.send(delivery) }
            }
            await group.waitForAll()
        }
    }

    /// Ends ``run()`` after the queued webhooks went out (or ``drainDeadline`` passed).
    func finish() {
        continuation.finish()
    }

    private func send(_ delivery: Delivery) async {
        let webhook = delivery.webhook
        var request = URLRequest(url: webhook.url)
        request.httpMethod = webhook.method
        request.timeoutInterval = TimeInterval(webhook.timeout)
        if webhook.method == "POST" {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(delivery.body)
        }
        for (name, value) in webhook.headers { request.setValue(value, forHTTPHeaderField: name) }
        let host = webhook.url.host ?? "?"
        do {
            let (_, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            if status >= 400 {
                logger.warning("webhook answered with an error status", metadata: ["job.id": "\(delivery.jobID)", "webhook.host": "\(host)", "http.status": "\(status)"])
            }
        } catch {
            // The URL's host only: a URL's path or query may carry a token.
            logger.warning("failed to send webhook", metadata: ["job.id": "\(delivery.jobID)", "webhook.host": "\(host)", "error": "\(type(of: error))"])
        }
    }
}
