import AppConfig
import AppSupport
import ArgumentParser
import Foundation
import Timestamps
import Pickle
import Redis
import RQ

/// Options shared by the RQ inspection commands.
struct RQOptions: ParsableArguments {
    @Option(help: "Redis URL (default: REDIS_URL from the environment or .env).")
    var url: String?

    @Option(help: "Payload serializer of the queue: pickle (RQ's default) or json (RQ's JSONSerializer).")
    var serializer: RQSerializer = .pickle

    @Option(name: .customLong("env-file"), help: "The .env file to read.")
    var envFile: String = ".env"

    /// Runs `body` with a store over the configured Redis.
    func withStore<Result: Sendable>(_ body: (RQStore) async throws -> Result) async throws -> Result {
        let logger = Startup.makeLogger(label: "rq", verbose: false, quiet: true)
        let configuration: RedisConfiguration
        if let url {
            configuration = try RedisConfiguration(url: url)
        } else {
            configuration = Startup.loadConfiguration(dotEnvPath: envFile).redis
        }
        let keys = try RQKeys.fromEnvironment(ProcessInfo.processInfo.environment)
        let redis = RedisClient(configuration: configuration, logger: logger)
        do {
            let result = try await body(RQStore(redis: redis, keys: keys, serializer: serializer))
            await redis.shutdown()
            return result
        } catch {
            await redis.shutdown()
            throw error
        }
    }
}

extension RQSerializer: ExpressibleByArgument {
    /// `pickle` or `json`, or the names `rq worker --serializer` takes for them: RQ's classes
    /// (`rq.serializers.DefaultSerializer`, `rq.serializers.JSONSerializer`) and the `pickle` and
    /// `json` modules. Any other serializer is Python code, which cannot run here.
    public init?(argument: String) {
        switch argument {
        case "pickle", "rq.serializers.DefaultSerializer", "rq.serializers.PickleSerializer": self = .pickle
        case "json", "rq.serializers.JSONSerializer": self = .json
        default: return nil
        }
    }
}

/// `worker info`: what `rq info` prints for the same Redis.
struct InfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show RQ queues and workers, as `rq info` does (cleans expired registry entries first, as RQ does)."
    )

    @Flag(name: .shortAndLong, help: "Print raw lines, as `rq info --raw`.")
    var raw = false

    @Argument(help: "Restrict to these queues.")
    var queues: [String] = []

    @OptionGroup var options: RQOptions

    func run() async throws {
        try await options.withStore { store in
            let info = try await RQInfo.collect(store, only: queues)
            print(raw ? info.rawText : info.text())
        }
    }
}

/// `worker requeue`: puts failed jobs back on their queue, as `rq requeue`.
struct RequeueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requeue",
        abstract: "Requeue failed RQ jobs (by id, or --all of a queue), as `rq requeue`."
    )

    @Option(name: .shortAndLong, help: "The queue whose failed registry is used with --all.")
    var queue = "resume_processing"

    @Flag(name: .shortAndLong, help: "Requeue every failed job of the queue.")
    var all = false

    @Argument(help: "Job ids to requeue.")
    var jobIDs: [String] = []

    @OptionGroup var options: RQOptions

    func validate() throws {
        if !all && jobIDs.isEmpty { throw ValidationError("name job ids or pass --all") }
    }

    func run() async throws {
        try await options.withStore { store in
            var count = 0
            if all { count += try await store.requeueAllFailed(queue: queue) }
            for id in jobIDs {
                _ = try await store.requeueFailed(id)
                count += 1
            }
            print("Requeueing \(count) jobs from failed queue")
        }
    }
}

/// `worker rq …`: low-level RQ tools used by the compat suite and for debugging.
struct RQToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rq",
        abstract: "Enqueue and inspect RQ jobs (values in tagged JSON; see the README).",
        subcommands: [RQEnqueueCommand.self, RQJobCommand.self]
    )
}

/// `worker rq enqueue`: `Queue.enqueue` from the command line.
struct RQEnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enqueue", abstract: "Enqueue one RQ job and print its id.")

    @Option(name: .shortAndLong, help: "Queue name.") var queue = "resume_processing"
    @Option(name: .shortAndLong, help: "Dotted function name.") var function: String
    @Option(help: "Positional arguments as a tagged-JSON array.") var args = "[]"
    @Option(help: "Keyword arguments as a tagged-JSON object.") var kwargs = "{}"
    @Option(help: "meta as a tagged-JSON object.") var meta = "{}"
    @Option(help: "Job id (default: a uuid4).") var jobID: String?
    @Option(help: "Timeout in seconds (-1: none).") var timeout: Int?
    @Option(help: "result_ttl in seconds (-1: forever, 0: delete on success).") var resultTTL: Int?
    @Option(help: "failure_ttl in seconds (-1: forever).") var failureTTL: Int?
    @Option(help: "ttl in seconds: how long the job may wait.") var ttl: Int?
    @Option(help: "Description (default: RQ's call string).") var description: String?
    @Option(help: "Retry(max=N).") var retryMax: Int?
    @Option(help: "Retry intervals in seconds (repeatable).") var retryInterval: [Int] = []
    @Flag(help: "Enqueue at the front of the queue.") var atFront = false
    @Option(help: "Parent job ids (repeatable).") var dependsOn: [String] = []
    @Option(help: "Schedule the job this many seconds from now (enqueue_in).") var enqueueIn: Double?
    @OptionGroup var options: RQOptions

    func run() async throws {
        let argsValue = try TaggedJSON.decode(args)
        guard let positional = argsValue.arrayValue else { throw ValidationError("--args must be an array") }
        guard let keywordEntries = try TaggedJSON.decode(kwargs).dictEntries,
              let metaEntries = try TaggedJSON.decode(meta).dictEntries else {
            throw ValidationError("--kwargs and --meta must be objects")
        }
        let keywords = keywordEntries.map { ($0.key.stringValue ?? "", $0.value) }
        var enqueueOptions = RQEnqueueOptions(
            jobID: jobID, timeout: timeout, resultTTL: resultTTL, failureTTL: failureTTL, ttl: ttl,
            description: description, meta: metaEntries, atFront: atFront, dependsOn: dependsOn
        )
        if let retryMax { enqueueOptions.retry = RQRetry(maximum: retryMax, intervals: retryInterval) }
        if let enqueueIn {
            guard enqueueIn.isFinite, abs(enqueueIn) <= Double(RQLimits.maxSeconds) else {
                throw ValidationError("--enqueue-in must be a finite number of seconds within ±\(RQLimits.maxSeconds)")
            }
            enqueueOptions.scheduledAt = Date().addingTimeInterval(enqueueIn)
        }
        let call = RQCall(function, args: positional, kwargs: keywords)
        try await options.withStore { store in
            let job = try await store.queue(queue).enqueue(call, options: enqueueOptions)
            print(job.id)
        }
    }
}

/// `worker rq job ID`: a job as JSON, with its decoded call and latest result.
struct RQJobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "Print one RQ job as JSON.")

    @Argument(help: "The job id.") var jobID: String
    @OptionGroup var options: RQOptions

    func run() async throws {
        try await options.withStore { store in
            guard let job = try await store.fetchJob(jobID) else {
                throw ValidationError("no job \(jobID)")
            }
            let result = try await store.latestResult(jobID)
            print(RQJobJSON.render(job, result: result))
        }
    }
}

/// JSON rendering of a job for tools and tests.
enum RQJobJSON {
    static func render(_ job: RQJob, result: RQResult?) -> String {
        func quote(_ text: String?) -> String { text.map { TaggedJSON.encode(.string($0)) } ?? "null" }
        func number(_ value: Int?) -> String { value.map(String.init) ?? "null" }
        func time(_ date: Date?) -> String { quote(date.map(WireTime.format)) }
        let kwargs = PythonValue.dict(job.call.kwargs.map { PythonDictEntry(.string($0.0), $0.1) })
        var fields: [(String, String)] = [
            ("id", quote(job.id)),
            ("func_name", quote(job.call.functionName)),
            ("args", TaggedJSON.encode(.list(job.call.args))),
            ("kwargs", TaggedJSON.encode(kwargs)),
            ("args_repr", quote(PythonRepr.repr(.tuple(job.call.args)))),
            ("kwargs_repr", quote(PythonRepr.repr(kwargs))),
            ("meta", TaggedJSON.encode(.dict(job.meta))),
            ("description", quote(job.description)),
            ("status", quote(job.status.rawValue)),
            ("origin", quote(job.origin)),
            ("timeout", number(job.timeout)),
            ("result_ttl", number(job.resultTTL)),
            ("failure_ttl", number(job.failureTTL)),
            ("ttl", number(job.ttl)),
            ("retries_left", number(job.retriesLeft)),
            ("retry_intervals", job.retryIntervals.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" } ?? "null"),
            ("dependency_ids", TaggedJSON.encode(.list(job.dependencyIDs.map { .string($0) }))),
            ("created_at", time(job.createdAt)),
            ("enqueued_at", time(job.enqueuedAt)),
            ("started_at", time(job.startedAt)),
            ("ended_at", time(job.endedAt)),
            ("worker_name", quote(job.workerName)),
        ]
        if let result {
            fields.append(("result_type", String(result.kind.rawValue)))
            fields.append(("return_value", result.returnValue.map(TaggedJSON.encode) ?? "null"))
            fields.append(("exc_string", quote(result.exceptionText)))
            fields.append(("result_worker_name", quote(result.workerName)))
            fields.append(("undecodable_return_value", quote(result.undecodableReturnValue)))
        } else {
            fields.append(("result_type", "null"))
        }
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }
}
