import Foundation
import Timestamps
import Pickle
import Zlib

/// An RQ job as stored in the hash `rq:job:ID` (`docs/rq-wire.md`, "Job hash"), with every field RQ 2.12 and 3.0
/// write, read and written in RQ's exact encodings.
///
/// Fields this type does not model are kept in ``otherFields`` and written back unchanged.
public struct RQJob: Sendable {
    /// The job id (`[A-Za-z0-9_-]+`).
    public var id: String
    /// The call, decoded from `data`.
    public var call: RQCall { didSet { storedData = nil } }
    /// The `data` bytes as read from Redis and the serializer they were read with; saved back as they
    /// are (no re-pickling and re-compressing on every state change) until ``call`` changes.
    var storedData: (bytes: [UInt8], serializer: RQSerializer)?
    /// `status`; a missing field reads as `created`.
    public var status: RQJobStatus
    /// `origin`: the queue name.
    public var origin: String?
    /// `description`.
    public var description: String?
    /// `created_at`.
    public var createdAt: Date
    /// `enqueued_at`.
    public var enqueuedAt: Date?
    /// `started_at`.
    public var startedAt: Date?
    /// `ended_at`.
    public var endedAt: Date?
    /// `last_heartbeat`.
    public var lastHeartbeat: Date?
    /// `worker_name`.
    public var workerName: String?
    /// `timeout` in seconds (`-1` = none); RQ's queues default to 180.
    public var timeout: Int?
    /// `result_ttl` (`-1` forever, `0` delete on success); workers default to 500.
    public var resultTTL: Int?
    /// `failure_ttl` (`-1` forever); workers default to one year.
    public var failureTTL: Int?
    /// `ttl`: how long the job may wait in the queue.
    public var ttl: Int?
    /// `meta`, a dict (not compressed in Redis).
    public var meta: [PythonDictEntry]
    /// `retries_left`.
    public var retriesLeft: Int?
    /// `retry_intervals`, seconds.
    public var retryIntervals: [Int]?
    /// `enqueue_at_front_on_retry`.
    public var enqueueAtFrontOnRetry: Bool
    /// `number_of_retries` (2.1+).
    public var numberOfRetries: Int?
    /// `repeats_left` (2.x `Repeat`).
    public var repeatsLeft: Int?
    /// `repeat_intervals`.
    public var repeatIntervals: [Int]?
    /// `dependency_ids`.
    public var dependencyIDs: [String]
    /// `allow_dependency_failures`.
    public var allowDependencyFailures: Bool?
    /// `enqueue_at_front`.
    public var enqueueAtFront: Bool?
    /// `success_callback_name`, `failure_callback_name`, `stopped_callback_name` (empty = none).
    public var successCallbackName = "", failureCallbackName = "", stoppedCallbackName = ""
    /// `group_id` (empty = none).
    public var groupID = ""
    /// RQ 3.0 rate limit: `rate_limit_key` and `rate_limit_concurrency`.
    public var rateLimitKey: String?
    /// See ``rateLimitKey``.
    public var rateLimitConcurrency: Int?
    /// Fields kept verbatim: callback timeouts, `webhooks`, legacy `result`/`exc_info`, unknown ones,
    /// and numeric fields whose value is out of range (see ``fieldProblems``).
    public var otherFields: [String: [UInt8]]
    /// Numeric fields read out of ``RQLimits/accepted`` (their typed property is `nil`, their bytes
    /// are in ``otherFields``). A worker fails such a job with the first problem as its reason.
    public var fieldProblems: [RQFieldProblem] = []
    /// How many times a worker died while holding this job (`rp_worker_deaths`, ours: Python RQ
    /// ignores the field). Counted by the abandoned-job cleanups; the second death fails the job.
    public var workerDeaths: Int?
    /// The hash field of ``workerDeaths``.
    public static let workerDeathsField = "rp_worker_deaths"

    /// A new job as `Queue.create_job` makes it (status `queued`, created now).
    public init(id: String = UUID().uuidString.lowercased(), call: RQCall, createdAt: Date = Date()) {
        self.id = id
        self.call = call
        self.status = .queued
        self.createdAt = createdAt
        self.meta = []
        self.enqueueAtFrontOnRetry = false
        self.dependencyIDs = []
        self.otherFields = [:]
    }

    /// Whether `id` is a job id RQ accepts: `[A-Za-z0-9_-]+` (never `:`, which the started registry
    /// splits on).
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95
        }
    }

    /// Decodes the fields of `HGETALL rq:job:ID`.
    public init(id: String, hash fields: [String: [UInt8]], serializer: RQSerializer) throws(RQError) {
        var rest = fields
        func take(_ name: String) -> String? {
            rest.removeValue(forKey: name).map { String(decoding: $0, as: UTF8.self) }
        }
        func takeDate(_ name: String) throws(RQError) -> Date? {
            guard let text = take(name), !text.isEmpty else { return nil }
            guard let date = WireTime.parse(text) else { throw RQError(.malformedJob, "\(name) is not an RQ timestamp") }
            return date
        }
        // Numbers outside `RQLimits.accepted` are not an error of the hash: the field stays in
        // `rest` (written back verbatim) and becomes a `fieldProblems` entry, which fails the job.
        var problems: [RQFieldProblem] = []
        /// The text of a non-empty field, left in `rest` (the caller removes it once it is read); an
        /// empty field is removed and reads as absent.
        func peek(_ name: String) -> String? {
            guard let bytes = rest[name] else { return nil }
            guard !bytes.isEmpty else {
                rest[name] = nil
                return nil
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        func takeInt(_ name: String) throws(RQError) -> Int? {
            guard let text = peek(name) else { return nil }
            switch RQLimits.parse(text) {
            case .value(let value):
                rest[name] = nil
                return value
            case .outOfRange:
                problems.append(RQFieldProblem(field: name, text: text))
                return nil
            case .invalid:
                throw RQError(.malformedJob, "\(name) is not an integer")
            }
        }
        func takeIntList(_ name: String) throws(RQError) -> [Int]? {
            guard let text = peek(name) else { return nil }
            guard let value = try? PythonJSON.decode(Array(text.utf8)), let items = value.arrayValue else {
                throw RQError(.malformedJob, "\(name) is not a JSON list")
            }
            var result: [Int] = []
            for item in items {
                switch item {
                case .int(let number) where RQLimits.accepted.contains(number):
                    result.append(number)
                case .int, .bigInt:
                    problems.append(RQFieldProblem(field: name, text: text))
                    return nil
                default:
                    throw RQError(.malformedJob, "\(name) holds a non-integer")
                }
            }
            rest[name] = nil
            return result
        }
        func takeFlag(_ name: String) throws(RQError) -> Bool? {
            guard let text = take(name) else { return nil }
            switch RQLimits.parse(text) {
            case .value(let number): return number != 0
            case .outOfRange: return true  // a huge integer is true for Python too
            case .invalid: throw RQError(.malformedJob, "\(name) is not 0 or 1")
            }
        }

        guard let data = rest.removeValue(forKey: "data") else {
            throw RQError(.malformedJob, "job \(id) has no data field")
        }
        self.id = id
        self.call = try RQCall(data: data, serializer: serializer)
        self.storedData = (data, serializer)
        if let text = take("status"), !text.isEmpty {
            guard let status = RQJobStatus(rawValue: text) else { throw RQError(.malformedJob, "unknown status '\(text.prefix(32))'") }
            self.status = status
        } else {
            self.status = .created
        }
        origin = take("origin")
        description = take("description")
        createdAt = try takeDate("created_at") ?? Date()
        enqueuedAt = try takeDate("enqueued_at")
        startedAt = try takeDate("started_at")
        endedAt = try takeDate("ended_at")
        lastHeartbeat = try takeDate("last_heartbeat")
        workerName = take("worker_name").flatMap { $0.isEmpty ? nil : $0 }
        timeout = try takeInt("timeout")
        resultTTL = try takeInt("result_ttl")
        failureTTL = try takeInt("failure_ttl")
        ttl = try takeInt("ttl")
        if let metaBytes = rest.removeValue(forKey: "meta") {
            if let value = try? serializer.loads(metaBytes), let entries = value.dictEntries {
                meta = entries
            } else {
                meta = [PythonDictEntry(.string("unserialized"), .bytes(metaBytes))]  // as RQ does
            }
        } else {
            meta = []
        }
        retriesLeft = try takeInt("retries_left")
        retryIntervals = try takeIntList("retry_intervals")
        enqueueAtFrontOnRetry = try takeFlag("enqueue_at_front_on_retry") ?? false
        numberOfRetries = try takeInt("number_of_retries")
        repeatsLeft = try takeInt("repeats_left")
        repeatIntervals = try takeIntList("repeat_intervals")
        _ = take("dependency_id")
        if let text = take("dependency_ids"), !text.isEmpty {
            guard let value = try? PythonJSON.decode(Array(text.utf8)), let items = value.arrayValue else {
                throw RQError(.malformedJob, "dependency_ids is not a JSON list")
            }
            dependencyIDs = items.compactMap(\.stringValue)
        } else {
            dependencyIDs = []
        }
        if let text = take("allow_dependency_failures"), !text.isEmpty {
            switch RQLimits.parse(text) {
            case .value(let number): allowDependencyFailures = number != 0
            case .outOfRange: allowDependencyFailures = true
            case .invalid: allowDependencyFailures = nil
            }
        }
        enqueueAtFront = try takeFlag("enqueue_at_front")
        successCallbackName = take("success_callback_name") ?? ""
        failureCallbackName = take("failure_callback_name") ?? ""
        stoppedCallbackName = take("stopped_callback_name") ?? ""
        groupID = take("group_id") ?? ""
        rateLimitKey = take("rate_limit_key")
        rateLimitConcurrency = try takeInt("rate_limit_concurrency")
        workerDeaths = try takeInt(Self.workerDeathsField)
        fieldProblems = problems
        otherFields = rest
    }

    /// The field/value pairs `Job.to_dict()` writes, in its order (`docs/rq-wire.md`, "Job hash").
    /// `includeMeta: false` is `save(include_meta=False)`, which workers use so that they never
    /// overwrite `meta` a running job updated itself.
    public func hashFields(serializer: RQSerializer, includeMeta: Bool = true) throws(RQError) -> [(String, [UInt8])] {
        var fields: [(String, [UInt8])] = []
        func add(_ name: String, _ text: String) { fields.append((name, Array(text.utf8))) }
        func json(_ list: [Int]) -> String { "[" + list.map(String.init).joined(separator: ", ") + "]" }
        add("created_at", WireTime.format(createdAt))
        if let storedData, storedData.serializer == serializer {
            fields.append(("data", storedData.bytes))
        } else {
            fields.append(("data", try call.data(serializer: serializer)))
        }
        add("success_callback_name", successCallbackName)
        add("failure_callback_name", failureCallbackName)
        add("stopped_callback_name", stoppedCallbackName)
        add("started_at", startedAt.map(WireTime.format) ?? "")
        add("ended_at", endedAt.map(WireTime.format) ?? "")
        add("last_heartbeat", lastHeartbeat.map(WireTime.format) ?? "")
        add("worker_name", workerName ?? "")
        add("group_id", groupID)
        if let numberOfRetries { add("number_of_retries", String(numberOfRetries)) }
        if let retriesLeft { add("retries_left", String(retriesLeft)) }
        if let retryIntervals { add("retry_intervals", json(retryIntervals)) }
        if enqueueAtFrontOnRetry { add("enqueue_at_front_on_retry", "1") }
        if let origin, !origin.isEmpty { add("origin", origin) }
        if let description { add("description", description) }
        if let rateLimitKey { add("rate_limit_key", rateLimitKey) }
        if let rateLimitConcurrency { add("rate_limit_concurrency", String(rateLimitConcurrency)) }
        if let enqueuedAt { add("enqueued_at", WireTime.format(enqueuedAt)) }
        if let repeatsLeft { add("repeats_left", String(repeatsLeft)) }
        if let repeatIntervals { add("repeat_intervals", json(repeatIntervals)) }
        for name in ["result", "exc_info"] { if let value = otherFields[name] { fields.append((name, value)) } }
        if let timeout { add("timeout", String(timeout)) }
        for name in ["success_callback_timeout", "failure_callback_timeout", "stopped_callback_timeout", "webhooks"] {
            if let value = otherFields[name] { fields.append((name, value)) }
        }
        if let resultTTL { add("result_ttl", String(resultTTL)) }
        if let failureTTL { add("failure_ttl", String(failureTTL)) }
        add("status", status.rawValue)
        if let first = dependencyIDs.first {
            add("dependency_id", first)
            fields.append(("dependency_ids", try RQSerializer.json.dumps(.list(dependencyIDs.map { .string($0) }))))
        }
        if includeMeta && !meta.isEmpty { fields.append(("meta", try serializer.dumps(.dict(meta)))) }
        if let ttl, ttl != 0 { add("ttl", String(ttl)) }
        if let allowDependencyFailures { add("allow_dependency_failures", allowDependencyFailures ? "1" : "0") }
        if let enqueueAtFront { add("enqueue_at_front", enqueueAtFront ? "1" : "0") }
        if let workerDeaths { add(Self.workerDeathsField, String(workerDeaths)) }
        var written = Set(fields.map(\.0))
        if !includeMeta { written.insert("meta") }
        for (name, value) in otherFields.sorted(by: { $0.key < $1.key }) where !written.contains(name) {
            fields.append((name, value))
        }
        return fields
    }

    /// `meta` as a dictionary keyed by str (non-str keys are skipped).
    public var metaDictionary: [String: PythonValue] {
        var result: [String: PythonValue] = [:]
        for entry in meta { if let key = entry.key.stringValue { result[key] = entry.value } }
        return result
    }

    /// The legacy `exc_info` field, decompressed, if present.
    public var legacyExceptionInfo: String? {
        guard let bytes = otherFields["exc_info"] else { return nil }
        let text = (try? Zlib.decompress(bytes)) ?? bytes
        return String(decoding: text, as: UTF8.self)
    }
}
