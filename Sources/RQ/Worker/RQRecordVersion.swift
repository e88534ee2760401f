/// Whose worker records the Swift worker writes (`worker run --rq-version`): RQ 2.12's or 3.0's.
///
/// Both read either, so this is about what a fleet's tools show: 2.12 writes `version` 2.12.0 and
/// keeps `current_job` and `current_job_working_time` in the worker hash; 3.0 writes 3.0.0 and
/// neither field (it finds running jobs through `rq:worker:W:executions`).
public enum RQRecordVersion: String, Sendable, Hashable, CaseIterable {
    /// RQ 2.12's records.
    case rq2 = "2.12"
    /// RQ 3.0's records.
    case rq3 = "3.0"

    /// The worker hash's `version` field.
    public var versionField: String {
        switch self {
        case .rq2: "2.12.0"
        case .rq3: "3.0.0"
        }
    }

    /// Whether the worker hash names the running job (`current_job`, `current_job_working_time`).
    public var writesCurrentJob: Bool { self == .rq2 }

    /// The default for a keyspace: 3.0's under a prefix other than `rq` (only 3.0 has
    /// `RQ_KEY_PREFIX`, so that fleet is 3.0), else 2.12's, which tools of both versions read.
    public static func `default`(for keys: RQKeys) -> RQRecordVersion {
        keys.prefix == "rq" ? .rq2 : .rq3
    }
}
