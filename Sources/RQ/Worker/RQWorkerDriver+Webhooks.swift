import Foundation
import JobProcessing
import Logging

extension RQWorkerDriver {
    /// After a job's end is recorded, as RQ's worker does: its `finished` webhooks after a
    /// success, its `failed` ones after a failure for good (with `exc_info`), none after a retry
    /// or a stop. Entries RQ would refuse (a non-http(s) URL, …) are logged and skipped.
    func queueWebhooks(of job: RQJob, _ disposition: JobDisposition, enqueuedAt: Date?, endedAt: Date?) {
        guard let field = job.otherFields["webhooks"], !field.isEmpty else { return }
        let status: String
        var excString: String?
        switch disposition {
        case .finished: status = "finished"
        case .failed(let failure):
            status = "failed"
            excString = RQFailureText.excString(failure, workerName: configuration.name)
        case .retry, .stopped: return
        }
        let (entries, refused) = RQWebhook.decode(field)
        for reason in refused {
            logger.warning("webhook refused as RQ refuses it", metadata: ["job.id": "\(job.id)", "reason": "\(reason)"])
        }
        for webhook in entries where webhook.jobStatus == status {
            let body = webhook.payload(jobID: job.id, functionName: job.call.functionName, enqueuedAt: enqueuedAt, endedAt: endedAt,
                                       excString: excString)
            webhooks.enqueue(RQWebhookSender.Delivery(webhook: webhook, jobID: job.id, body: body))
        }
    }


    /// The webhook sender as a companion. When the worker stops it still sends what is queued,
    /// for up to the sender's drain deadline, before the companions end.
    func runWebhooks() async {
        let sender = webhooks
        // Unstructured on purpose: the companions are cancelled when the loop ends, but queued
        // webhooks must still go out; this task is awaited here and cancelled at the deadline.
        let task = Task { await sender.run() }
        await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            sender.finish()
            // Unstructured on purpose: the deadline outlives this cancelled context; it only
            // cancels the drain above, which this function is still awaiting.
            Task {
                try? await Task.sleep(for: sender.drainDeadline)
                task.cancel()
            }
        }
    }
}
