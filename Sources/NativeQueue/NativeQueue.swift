import Foundation
import Timestamps
import Pickle
import Redis

/// Key names of the native (seed-compatible) queue format.
///
/// - `resume_processing_queue` — list of waiting job ids (push right, pop left);
/// - `job:{id}` — the job hash (`HGETALL job:{id}` shows id, function, args, kwargs, status, attempts,
///   timestamps, error, worker, result);
/// - `resume_processing_queue:processing:{worker}` — the ids a worker has taken and not finished
///   (reliable fetch: `BLMOVE` from the queue into this list);
/// - `resume_processing_queue:workers` — set of worker names; `resume_processing_queue:worker:{name}`
///   — the worker's heartbeat key, with a TTL;
/// - `resume_processing_queue:delayed` — sorted set of ids waiting for a retry, scored by due time (ms);
/// - `resume_processing_queue:dead` — list of ids that used their last attempt (dead letters).
public struct NativeQueueKeys: Sendable, Hashable {
    /// The queue list's name. Default: `resume_processing_queue`.
    public var queue: String
    /// Creates keys for `queue`.
    public init(queue: String = "resume_processing_queue") { self.queue = queue }
    /// `job:{id}`.
    public func job(_ id: String) -> String { "job:\(id)" }
    /// The worker's processing list.
    public func processing(_ worker: String) -> String { "\(queue):processing:\(worker)" }
    /// The set of worker names.
    public var workers: String { "\(queue):workers" }
    /// The worker's heartbeat key.
    public func heartbeat(_ worker: String) -> String { "\(queue):worker:\(worker)" }
    /// The retry schedule.
    public var delayed: String { "\(queue):delayed" }
    /// The dead-letter list.
    public var dead: String { "\(queue):dead" }
}

/// A job in the native format.
public struct NativeJob: Sendable, Hashable {
    /// `queued`, `started`, `finished`, `failed` (and `retrying` while waiting in the delayed set).
    public enum Status: String, Sendable, Hashable { case queued, started, finished, failed, retrying }

    /// The job id.
    public var id: String
    /// The dotted function name.
    public var function: String
    /// Positional arguments (JSON in the hash).
    public var args: [PythonValue]
    /// Keyword arguments (JSON in the hash).
    public var kwargs: [PythonDictEntry]
    /// The status.
    public var status: Status
    /// Attempts started so far.
    public var attempts: Int
    /// Attempts allowed before dead-lettering.
    public var maxAttempts: Int
    /// `created_at`.
    public var createdAt: Date
    /// `started_at` of the latest attempt.
    public var startedAt: Date?
    /// `ended_at`.
    public var endedAt: Date?
    /// The latest failure text.
    public var error: String?
    /// The worker of the latest attempt.
    public var worker: String?
    /// The return value (JSON in the hash).
    public var result: PythonValue?
    /// How many times a worker died while holding this job (`worker_deaths`, counted by the reaper;
    /// the second death dead-letters the job instead of returning it to the queue).
    public var workerDeaths: Int
    /// A numeric field that is not an integer in ``countRange`` (its typed property then has its
    /// default): the worker dead-letters such a job with this text instead of running it.
    public var fieldProblem: String?

    /// The values `attempts`, `max_attempts` and `worker_deaths` may take: `0...1_000_000`.
    public static let countRange = 0...1_000_000

    /// Decodes `HGETALL job:{id}`.
    init(fields: [String: [UInt8]]) throws(NativeQueueError) {
        func text(_ name: String) -> String? { fields[name].map { String(decoding: $0, as: UTF8.self) } }
        func json(_ name: String) throws(NativeQueueError) -> PythonValue? {
            guard let bytes = fields[name], !bytes.isEmpty else { return nil }
            do { return try PythonJSON.decode(bytes) } catch { throw NativeQueueError("field \(name) is not JSON: \(error)") }
        }
        guard let id = text("id"), let function = text("function"), !function.isEmpty else {
            throw NativeQueueError("job hash lacks id or function")
        }
        self.id = id
        self.function = function
        args = try json("args")?.arrayValue ?? []
        kwargs = try json("kwargs")?.dictEntries ?? []
        status = text("status").flatMap(Status.init(rawValue:)) ?? .queued
        var problem: String?
        func count(_ name: String, default value: Int) -> Int {
            guard let raw = text(name), !raw.isEmpty else { return value }
            guard let number = Int(raw), Self.countRange.contains(number) else {
                if problem == nil { problem = "\(name) = \(raw.prefix(64)) is not an integer in \(Self.countRange)" }
                return value
            }
            return number
        }
        attempts = count("attempts", default: 0)
        maxAttempts = count("max_attempts", default: 1)
        workerDeaths = count("worker_deaths", default: 0)
        fieldProblem = problem
        createdAt = text("created_at").flatMap { WireTime.parse($0) } ?? Date()
        startedAt = text("started_at").flatMap { WireTime.parse($0) }
        endedAt = text("ended_at").flatMap { WireTime.parse($0) }
        error = text("error").flatMap { $0.isEmpty ? nil : $0 }
        worker = text("worker").flatMap { $0.isEmpty ? nil : $0 }
        result = try json("result")
    }
}

/// A native-queue operation could not be done or a job hash is malformed.
public struct NativeQueueError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { "native queue: \(message)" }
}

