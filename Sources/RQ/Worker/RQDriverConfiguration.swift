import Foundation

/// Settings of an ``RQWorkerDriver`` (the processor's — concurrency, burst, intervals — are in
/// `JobProcessorConfiguration`).
public struct RQDriverConfiguration: Sendable {
    /// Worker name (`uuid4().hex` like RQ by default); must be unique among live workers.
    public var name: String
    /// Queue names in priority order. Default: `["resume_processing"]`.
    public var queues: [String]
    /// RQ's `worker_ttl`: the idle worker hash lives `workerTTL + 60` s. Default: `420`.
    public var workerTTL: Int
    /// How long one idle blocking dequeue waits before heartbeating again. Default: `.seconds(5)`.
    public var dequeueTimeout: Duration
    /// The payload serializer. Default: `.pickle`.
    public var serializer: RQSerializer
    /// The keyspace. Default: `rq:`.
    public var keys: RQKeys
    /// Also run RQ's scheduler (`rq worker --with-scheduler`): take `rq:scheduler-lock:Q` and move
    /// due scheduled jobs (`enqueue_at`/`enqueue_in`, interval retries). Default: `false`.
    public var withScheduler: Bool
    /// A registered worker whose `rq:pubsub:W` channel has had no subscriber for this long is
    /// declared dead and its started jobs are retried (or failed) at once, instead of after RQ's
    /// 60–90 s started-registry expiry; an id left in the intermediate list this long is handled
    /// as RQ handles one stuck for a minute. `nil` turns both checks off. Default: `.seconds(15)`.
    public var vanishedWorkerGrace: Duration?
    /// How often the vanished-worker check runs. Default: `.seconds(5)`.
    public var vanishedWorkerCheckInterval: Duration
    /// The order in which several queues are asked (`rq worker --dequeue-strategy`). Default:
    /// `.default` (priority order).
    public var dequeueStrategy: RQDequeueStrategy
    /// The `result_ttl` of a job that has none (`rq worker --results-ttl`). Default: `500`, RQ's.
    public var defaultResultTTL: Int
    /// The worker is a burst worker: with ``withScheduler`` the scheduler then makes one pass
    /// before the first dequeue instead of running beside the loop, as RQ's does. Default: `false`.
    public var burst = false
    /// Swift callbacks by the names jobs' `*_callback_name` fields carry. Default: empty (every
    /// callback is then handled as RQ handles one it cannot import).
    public var callbacks = RQCallbackRegistry()
    /// How long `rq:clean_groups` is held after a group cleaning (RQ: the maintenance interval
    /// minus one second, so the next pass can take it). Default: `599`.
    public var groupCleaningLock = 599
    /// Whose worker records to write. Default: ``RQRecordVersion/default(for:)`` of ``keys``.
    public var recordVersion: RQRecordVersion

    /// Creates a configuration; see the properties for the defaults.
    public init(
        name: String = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
        queues: [String] = ["resume_processing"], workerTTL: Int = 420, dequeueTimeout: Duration = .seconds(5),
        serializer: RQSerializer = .pickle, keys: RQKeys = .default, withScheduler: Bool = false,
        vanishedWorkerGrace: Duration? = .seconds(15), vanishedWorkerCheckInterval: Duration = .seconds(5),
        dequeueStrategy: RQDequeueStrategy = .default, defaultResultTTL: Int = 500, recordVersion: RQRecordVersion? = nil
    ) {
        self.recordVersion = recordVersion ?? .default(for: keys)
        self.dequeueStrategy = dequeueStrategy
        self.defaultResultTTL = defaultResultTTL
        precondition(!queues.isEmpty, "an RQ worker needs a queue")
        self.name = name
        self.queues = queues
        self.workerTTL = workerTTL
        self.dequeueTimeout = dequeueTimeout
        self.serializer = serializer
        self.keys = keys
        self.withScheduler = withScheduler
        self.vanishedWorkerGrace = vanishedWorkerGrace
        self.vanishedWorkerCheckInterval = vanishedWorkerCheckInterval
    }
}
