import Foundation
import Timestamps
import Pickle
import Zlib

/// One entry of a job's result stream `rq:results:ID` (`docs/rq-wire.md`, "Result stream").
public struct RQResult: Sendable, Hashable {
    /// `Result.Type`.
    public enum Kind: Int, Sendable, Hashable {
        /// 1: the job returned.
        case successful = 1
        /// 2: the job raised (or was stopped, or abandoned).
        case failed = 2
        /// 3: stopped (defined, never written by RQ 2.12/3.0).
        case stopped = 3
        /// 4: the job returned `Retry` (2.1+).
        case retried = 4
        /// 5: a returned `Retry` exceeded its maximum (2.8+).
        case maxRetriesExceeded = 5
    }

    /// The stream entry id, e.g. `1795913304229-0`.
    public var entryID: String
    /// The entry's type.
    public var kind: Kind
    /// `worker_name` (empty for abandoned-job cleanup).
    public var workerName: String
    /// The decoded `return_value`; `nil` when the field is absent (the job returned `None`) or
    /// could not be decoded (see ``undecodableReturnValue``).
    public var returnValue: PythonValue?
    /// Why a present `return_value` could not be decoded: e.g. the pickled `rq.job.Retry` object of
    /// types 4 and 5, or a custom class, which this decoder refuses to import.
    public var undecodableReturnValue: String?
    /// The decoded `exc_string` (a traceback text).
    public var exceptionText: String?
    /// `execution_id`, when written by a 2.8+ worker.
    public var executionID: String?
    /// `execution_started_at`.
    public var executionStartedAt: Date?
    /// `execution_ended_at`.
    public var executionEndedAt: Date?
    /// The entry's creation time, from the stream id's milliseconds (RQ stores no field for it).
    public var createdAt: Date

    /// Decodes a stream entry's fields.
    public init(entryID: String, fields: [String: [UInt8]], serializer: RQSerializer) throws(RQError) {
        func text(_ name: String) -> String? { fields[name].map { String(decoding: $0, as: UTF8.self) } }
        guard let typeText = text("type"), let number = Int(typeText), let kind = Kind(rawValue: number) else {
            throw RQError(.malformedJob, "result entry \(entryID) has no valid type")
        }
        self.entryID = entryID
        self.kind = kind
        self.workerName = text("worker_name") ?? ""
        if let encoded = text("return_value") {
            guard let raw = Data(base64Encoded: encoded) else {
                throw RQError(.deserialization, "return_value of \(entryID) is not base64")
            }
            do {
                returnValue = try serializer.loads(Array(raw))
            } catch {
                undecodableReturnValue = error.message
            }
        }
        if let encoded = text("exc_string") {
            guard let raw = Data(base64Encoded: encoded) else {
                throw RQError(.deserialization, "exc_string of \(entryID) is not base64")
            }
            let inflated = (try? Zlib.decompress(Array(raw))) ?? Array(raw)
            exceptionText = String(decoding: inflated, as: UTF8.self)
        }
        executionID = text("execution_id")
        // Floats from the wire: non-finite or out-of-range instants are dropped (never trapped on later).
        executionStartedAt = text("execution_started_at").flatMap(Double.init).flatMap { WireTime.date(unixSeconds: $0) }
        executionEndedAt = text("execution_ended_at").flatMap(Double.init).flatMap { WireTime.date(unixSeconds: $0) }
        let milliseconds = entryID.split(separator: "-").first.flatMap { Double($0) } ?? 0
        createdAt = WireTime.clamped(Date(timeIntervalSince1970: milliseconds / 1000))
    }

    /// The `XADD` field/value pairs for a result, as a 2.12/3.0 worker writes them.
    public static func streamFields(
        kind: Kind,
        workerName: String,
        returnValue: PythonValue? = nil,
        exceptionText: String? = nil,
        executionID: String? = nil,
        executionStartedAt: Date? = nil,
        executionEndedAt: Date? = nil,
        serializer: RQSerializer
    ) throws(RQError) -> [(String, [UInt8])] {
        var fields: [(String, [UInt8])] = [("type", Array(String(kind.rawValue).utf8)), ("worker_name", Array(workerName.utf8))]
        if let returnValue, returnValue != .none {
            fields.append(("return_value", Array(Data(try serializer.dumps(returnValue)).base64EncodedString().utf8)))
        }
        if let exceptionText {
            let compressed = (try? Zlib.compress(Array(exceptionText.utf8))) ?? []
            fields.append(("exc_string", Array(Data(compressed).base64EncodedString().utf8)))
        }
        if let executionID { fields.append(("execution_id", Array(executionID.utf8))) }
        if let executionStartedAt { fields.append(("execution_started_at", Array(WireTime.floatSeconds(executionStartedAt).utf8))) }
        if let executionEndedAt { fields.append(("execution_ended_at", Array(WireTime.floatSeconds(executionEndedAt).utf8))) }
        return fields
    }
}
