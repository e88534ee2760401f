import Foundation
import NativeQueue
import Pickle
import RQ

/// `GET /jobs/{job_id}` of a native-mode job (`job:{id}` hash).
struct NativeJobResponse: Encodable, Sendable {
    var jobID: String
    var mode = "native"
    var status: String
    var function: String
    /// The positional arguments as Python's `json.dumps` writes them.
    var args: RawJSON
    var attempts: Int
    var maxAttempts: Int
    var createdAt: Date
    var startedAt: Date?
    var endedAt: Date?
    var worker: String?
    /// The last error, `nil` when empty.
    var error: String?
    /// The return value as Python's `json.dumps` writes it.
    var result: RawJSON?

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", mode, status, function, args, attempts, maxAttempts = "max_attempts"
        case createdAt = "created_at", startedAt = "started_at", endedAt = "ended_at", worker, error, result
    }

    init(_ job: NativeJob) {
        jobID = job.id
        status = job.status.rawValue
        function = job.function
        args = PythonJSONText.of(.list(job.args), orElse: "[]")
        attempts = job.attempts
        maxAttempts = job.maxAttempts
        createdAt = job.createdAt
        startedAt = job.startedAt
        endedAt = job.endedAt
        worker = job.worker
        error = job.error.flatMap { $0.isEmpty ? nil : $0 }
        result = job.result.map { PythonJSONText.of($0, orElse: "null") }
    }
}

/// `GET /jobs/{job_id}` of an RQ job (`Job.fetch` plus `latest_result()`).
struct RQJobResponse: Encodable, Sendable {
    var jobID: String
    var mode = "rq"
    var status: String
    var function: String
    /// The positional arguments as Python's `json.dumps` writes them.
    var args: RawJSON
    var origin: String?
    var createdAt: Date
    var enqueuedAt: Date?
    var startedAt: Date?
    var endedAt: Date?
    var worker: String?
    var retriesLeft: Int?
    var latestResult: LatestResult?

    /// The newest entry of the job's result stream.
    struct LatestResult: Encodable, Sendable {
        /// `successful`, `failed`, ….
        var type: String
        /// The return value as Python's `json.dumps` writes it; left out when there is none.
        var returnValue: RawJSON?
        /// The end of the traceback (at most 2000 characters); left out when there is none.
        var exception: String?
        var createdAt: Date

        private enum CodingKeys: String, CodingKey {
            case type, returnValue = "return_value", exception, createdAt = "created_at"
        }

        init(_ result: RQResult) {
            type = String(describing: result.kind)
            returnValue = result.returnValue.map { PythonJSONText.of($0, orElse: "null") }
            exception = result.exceptionText.map { String($0.suffix(2000)) }
            createdAt = result.createdAt
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            if let returnValue { try container.encode(returnValue, forKey: .returnValue) }
            if let exception { try container.encode(exception, forKey: .exception) }
            try container.encode(createdAt, forKey: .createdAt)
        }
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", mode, status, function, args, origin, createdAt = "created_at", enqueuedAt = "enqueued_at"
        case startedAt = "started_at", endedAt = "ended_at", worker, retriesLeft = "retries_left", latestResult = "latest_result"
    }

    init(_ job: RQJob, latestResult: RQResult?) {
        jobID = job.id
        status = job.status.rawValue
        function = job.call.functionName
        args = PythonJSONText.of(.list(job.call.args), orElse: "[]")
        origin = job.origin
        createdAt = job.createdAt
        enqueuedAt = job.enqueuedAt
        startedAt = job.startedAt
        endedAt = job.endedAt
        worker = job.workerName
        retriesLeft = job.retriesLeft
        self.latestResult = latestResult.map(LatestResult.init)
    }
}

/// A Python value as `json.dumps` writes it, for inserting verbatim.
enum PythonJSONText {
    /// The JSON of `value`, or `fallback` when Python could not write it either (bytes, sets, …).
    static func of(_ value: PythonValue, orElse fallback: String) -> RawJSON {
        RawJSON(bytes: (try? PythonJSON.encode(value)) ?? Array(fallback.utf8))
    }
}
