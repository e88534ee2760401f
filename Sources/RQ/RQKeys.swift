/// Key and channel names of RQ's Redis keyspace (`docs/rq-wire.md`, "Keys"), for one key prefix.
///
/// The prefix is `rq` by default; RQ 3.0 lets `RQ_KEY_PREFIX` change it (every key and channel
/// then starts with that prefix), which makes the fleet invisible to RQ 2.x.
public struct RQKeys: Sendable, Hashable {
    /// The prefix without its trailing colon, e.g. `rq`.
    public let prefix: String

    /// An error for a prefix RQ 3.0 would refuse.
    public struct InvalidPrefix: Error, Sendable, CustomStringConvertible {
        /// The refused prefix.
        public var prefix: String
        /// Why.
        public var description: String { "RQ_KEY_PREFIX '\(prefix)' must match [A-Za-z0-9_.:{}-]+" }
    }

    /// Keys under `prefix`, validated as RQ 3.0 validates `RQ_KEY_PREFIX`.
    public init(prefix: String = "rq") throws(InvalidPrefix) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:{}-")
        guard !prefix.isEmpty, prefix.allSatisfy({ allowed.contains($0) }) else { throw InvalidPrefix(prefix: prefix) }
        self.prefix = prefix
    }

    /// The default `rq:` keyspace.
    public static let `default` = try! RQKeys(prefix: "rq")  // a valid literal

    /// The keyspace `RQ_KEY_PREFIX` in `environment` names (RQ 3.0 reads it the same way), `rq`
    /// when unset; every command of ours that speaks RQ uses it.
    public static func fromEnvironment(_ environment: [String: String]) throws(InvalidPrefix) -> RQKeys {
        try RQKeys(prefix: environment["RQ_KEY_PREFIX"] ?? "rq")
    }

    /// `rq:queues`: the set of queue *keys*.
    public var queues: String { "\(prefix):queues" }
    /// `rq:queue:Q`: the queue list.
    public func queue(_ name: String) -> String { "\(prefix):queue:\(name)" }
    /// The prefix of queue keys, `rq:queue:`.
    public var queuePrefix: String { "\(prefix):queue:" }
    /// `rq:queue:Q:intermediate`.
    public func intermediate(_ name: String) -> String { "\(queue(name)):intermediate" }
    /// `rq:job:ID`.
    public func job(_ id: String) -> String { "\(prefix):job:\(id)" }
    /// `rq:job:ID:dependents`.
    public func dependents(_ id: String) -> String { "\(prefix):job:\(id):dependents" }
    /// `rq:job::ID:dependencies` — the double colon is RQ's own (a string-building quirk kept in 1.x–3.0).
    public func dependencies(_ id: String) -> String { "\(prefix):job::\(id):dependencies" }
    /// `rq:wip:Q`: the started-job registry (members `ID:E`).
    public func started(_ queue: String) -> String { "\(prefix):wip:\(queue)" }
    /// `rq:finished:Q`.
    public func finished(_ queue: String) -> String { "\(prefix):finished:\(queue)" }
    /// `rq:failed:Q`.
    public func failed(_ queue: String) -> String { "\(prefix):failed:\(queue)" }
    /// `rq:deferred:Q`.
    public func deferred(_ queue: String) -> String { "\(prefix):deferred:\(queue)" }
    /// `rq:scheduled:Q`.
    public func scheduled(_ queue: String) -> String { "\(prefix):scheduled:\(queue)" }
    /// `rq:canceled:Q`.
    public func canceled(_ queue: String) -> String { "\(prefix):canceled:\(queue)" }
    /// `rq:ready:Q` (RQ 3.0).
    public func ready(_ queue: String) -> String { "\(prefix):ready:\(queue)" }
    /// `rq:groups`: the set of group names (RQ 3.0).
    public var groups: String { "\(prefix):groups" }
    /// `rq:group:NAME`: a group's job ids.
    public func group(_ name: String) -> String { "\(prefix):group:\(name)" }
    /// `rq:clean_groups`: the group maintenance lock.
    public var cleanGroups: String { "\(prefix):clean_groups" }
    /// `rq:execution:ID:E`.
    public func execution(job: String, execution: String) -> String { "\(prefix):execution:\(job):\(execution)" }
    /// `rq:executions:ID`.
    public func executions(_ job: String) -> String { "\(prefix):executions:\(job)" }
    /// `rq:results:ID`: the result stream.
    public func results(_ job: String) -> String { "\(prefix):results:\(job)" }
    /// `rq:workers`.
    public var workers: String { "\(prefix):workers" }
    /// `rq:workers:Q`.
    public func workers(queue: String) -> String { "\(prefix):workers:\(queue)" }
    /// `rq:worker:W`.
    public func worker(_ name: String) -> String { "\(prefix):worker:\(name)" }
    /// The prefix of worker keys, `rq:worker:`.
    public var workerPrefix: String { "\(prefix):worker:" }
    /// `rq:worker:W:executions` (RQ 3.0).
    public func workerExecutions(_ name: String) -> String { "\(prefix):worker:\(name):executions" }
    /// `rq:pubsub:W`.
    public func pubsub(_ worker: String) -> String { "\(prefix):pubsub:\(worker)" }
    /// `rq:suspended`.
    public var suspended: String { "\(prefix):suspended" }
    /// `rq:clean_registries:Q`.
    public func cleanRegistries(_ queue: String) -> String { "\(prefix):clean_registries:\(queue)" }
    /// `rq:scheduler-lock:Q`.
    public func schedulerLock(_ queue: String) -> String { "\(prefix):scheduler-lock:\(queue)" }
    /// `rq:scheduler:NAME`.
    public func scheduler(_ name: String) -> String { "\(prefix):scheduler:\(name)" }
}
