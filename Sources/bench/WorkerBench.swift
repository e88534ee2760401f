import ArgumentParser
import ClientSupport
import Foundation
import Logging
import Pickle
import ProcessSupport
import Redis
import RQ
import ServiceLifecycle
import JobProcessing
import WorkerRuntime

/// `bench worker`: drains N no-op RQ jobs with the Swift worker, Python RQ 2.12's `SimpleWorker`
/// and its forking `Worker` on the same Redis in the same run, then an I/O-bound case (200 ms
/// sleeps at concurrency 100) against its ideal time.
struct WorkerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Swift RQ worker vs Python RQ 2.12 SimpleWorker and Worker: no-op throughput, I/O-bound efficiency, peak RSS."
    )

    @Option(help: "Redis URL; by default a private redis-server is started on a free loopback port.")
    var url: String?

    @Option(help: "No-op jobs per drain (Swift and SimpleWorker).")
    var jobs = 10_000

    @Option(help: "No-op jobs for the forking Worker (it forks once per job, so fewer).")
    var forkJobs = 300

    @Option(parsing: .upToNextOption, help: "Swift worker concurrencies for the no-op drain, one drain each (the goal uses the best).")
    var concurrency: [Int] = [16, 128]

    @Option(help: "Jobs in the I/O-bound case (each sleeps 200 ms).")
    var ioJobs = 1_000

    @Option(help: "Concurrency in the I/O-bound case.")
    var ioConcurrency = 100

    @Option(help: "Python with rq==2.12.0 installed (compat/run.sh creates it).")
    var python = "compat/.venv-rq212/bin/python"

    @Option(help: "Also write an SVG bar chart of the no-op jobs/s measured (Swift and the Python workers) to this path.")
    var chart: String?

    func validate() throws {
        guard !concurrency.isEmpty, concurrency.allSatisfy({ $0 >= 1 }), ioConcurrency >= 1 else {
            throw ValidationError("concurrencies must be at least 1")
        }
        guard jobs >= 1, forkJobs >= 1, ioJobs >= 1 else { throw ValidationError("job counts must be at least 1") }
    }

    func run() async throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw ValidationError("\(python) not found: run `bash compat/run.sh` (or scripts/test.sh) once to create the RQ 2.12 virtualenv")
        }
        let server = try url == nil ? PrivateRedisServer.start() : nil
        defer { server?.stop() }
        let target = url ?? server!.url
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        var redisConfiguration = try RedisConfiguration(url: target)
        // As `worker run` sizes it: a pooled connection per running job plus the loop's own.
        redisConfiguration.maximumConnections = max(concurrency.max() ?? 1, ioConcurrency) + 4
        let redis = RedisClient(configuration: redisConfiguration, logger: logger)
        let store = RQStore(redis: redis)
        let noop = RQCall("resume_processor.jobs.noop")
        print("Worker benchmark on \(try RedisConfiguration(url: target).redactedURL): \(jobs) no-op jobs (forking Worker: \(forkJobs)), I/O-bound \(ioJobs) × 200 ms at concurrency \(ioConcurrency)")
        print("")

        // (a) Swift, in this process, once per concurrency.
        var swiftQueues: [String] = []
        var swiftDrains: [(concurrency: Int, seconds: Double, finished: Int)] = []
        for level in concurrency {
            let swiftQueue = "bench-swift-" + Self.suffix()
            swiftQueues.append(swiftQueue)
            try await Self.fill(store, queue: swiftQueue, call: noop, count: jobs)
            let seconds = try await Self.drainWithSwift(redis, queue: swiftQueue, concurrency: level, logger: logger)
            swiftDrains.append((level, seconds, try await store.count(.finished, queue: swiftQueue)))
        }
        let swiftRSS = Self.peakRSSKilobytes()

        // (b) Python SimpleWorker, (c) Python forking Worker.
        let simpleQueue = "bench-simple-" + Self.suffix()
        try await Self.fill(store, queue: simpleQueue, call: noop, count: jobs)
        let simple = try drainWithPython(target, queue: simpleQueue, kind: "simple")
        let forkQueue = "bench-fork-" + Self.suffix()
        try await Self.fill(store, queue: forkQueue, call: noop, count: forkJobs)
        let fork = try drainWithPython(target, queue: forkQueue, kind: "fork")

        // I/O-bound: 200 ms sleeps; ideal = ceil(n / c) × 0.2 s.
        let ioQueue = "bench-io-" + Self.suffix()
        try await Self.fill(store, queue: ioQueue, call: RQCall("resume_processor.jobs.sleep", args: [.float(0.2)]), count: ioJobs)
        let ioSeconds = try await Self.drainWithSwift(redis, queue: ioQueue, concurrency: ioConcurrency, logger: logger)
        let ioFinished = try await store.count(.finished, queue: ioQueue)
        let ideal = Double((ioJobs + ioConcurrency - 1) / ioConcurrency) * 0.2

        let simpleRate = Double(jobs) / simple.seconds
        let forkRate = Double(forkJobs) / fork.seconds
        print("| worker | jobs | seconds | jobs/s | vs SimpleWorker | peak RSS |")
        print("|---|---:|---:|---:|---:|---:|")
        for drain in swiftDrains {
            let rate = Double(jobs) / drain.seconds
            print(String(format: "| Swift `worker --rq` (concurrency %d, in-process) | %d | %.2f | %.0f | %.1f× | %.0f MB (bench process) |",
                         drain.concurrency, drain.finished, drain.seconds, rate, rate / simpleRate, Double(swiftRSS) / 1024))
        }
        let best = swiftDrains.max { $0.seconds > $1.seconds }!
        let swiftRate = Double(jobs) / best.seconds
        print(String(format: "| Python RQ 2.12 SimpleWorker | %d | %.2f | %.0f | 1.0× | %.0f MB |",
                     simple.finished, simple.seconds, simpleRate, Double(simple.maxRSSKilobytes) / 1024))
        print(String(format: "| Python RQ 2.12 Worker (fork per job) | %d | %.2f | %.0f | %.2f× | %.0f MB (parent) |",
                     fork.finished, fork.seconds, forkRate, forkRate / simpleRate, Double(fork.maxRSSKilobytes) / 1024))
        print("")
        print(String(format: "I/O-bound: %d × 200 ms at concurrency %d: %.2f s, ideal %.2f s → %.1f %% of ideal (%d finished)",
                     ioJobs, ioConcurrency, ioSeconds, ideal, ideal / ioSeconds * 100, ioFinished))
        print(String(format: "Goals: no-op ≥ 25× SimpleWorker: %@ (%.1f× at concurrency %d); I/O-bound ≥ 90 %% of ideal: %@ (%.1f %%)",
                     swiftRate / simpleRate >= 25 ? "met" : "NOT met", swiftRate / simpleRate, best.concurrency,
                     ideal / ioSeconds >= 0.9 ? "met" : "NOT met", ideal / ioSeconds * 100))
        if let chart {
            try Self.makeChart(swift: swiftDrains.map { ($0.concurrency, Double(jobs) / $0.seconds) }, simple: simpleRate, fork: forkRate,
                           jobs: jobs, forkJobs: forkJobs).write(toFile: chart)
            print("Chart: \(chart)")
        }
        for queue in swiftQueues + [simpleQueue, forkQueue, ioQueue] { try await Self.clean(redis, queue: queue) }
        await redis.shutdown()
    }

    /// The chart of one run's no-op drains: a bar per Swift concurrency, then the two Python workers,
    /// each with its ratio to `SimpleWorker`.
    static func makeChart(swift: [(concurrency: Int, rate: Double)], simple: Double, fork: Double, jobs: Int, forkJobs: Int) -> SVGChart {
        func ratio(_ rate: Double) -> String { String(format: "%.1f×", rate / simple) }
        var bars = swift.map { SVGChart.Bar(label: "Swift worker --rq, concurrency \($0.concurrency)", value: $0.rate, note: ratio($0.rate)) }
        bars.append(SVGChart.Bar(label: "Python RQ 2.12 SimpleWorker", value: simple, note: "1.0×", color: SVGChart.pythonColor))
        bars.append(SVGChart.Bar(label: "Python RQ 2.12 Worker (fork per job)", value: fork,
                                 note: String(format: "%.2f×", fork / simple), color: SVGChart.pythonColor))
        let date = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        return SVGChart(
            title: "bench worker: no-op RQ jobs drained per second",
            subtitle: "\(date) · \(jobs) jobs per drain (forking Worker: \(forkJobs)) · × = vs SimpleWorker, same run",
            unit: "jobs/s", bars: bars)
    }

    static func suffix() -> String { String(UUID().uuidString.prefix(8)).lowercased() }

    /// Enqueues `count` jobs in batches of 1 000 (`enqueue_many`), with a short result TTL.
    static func fill(_ store: RQStore, queue: String, call: RQCall, count: Int) async throws {
        var options = RQEnqueueOptions()
        options.resultTTL = 600
        var left = count
        while left > 0 {
            let batch = min(left, 1_000)
            _ = try await store.queue(queue).enqueueMany(Array(repeating: (call, options), count: batch))
            left -= batch
        }
    }

    /// Runs an ``RQWorker`` in burst mode until the queue is drained; returns wall seconds.
    static func drainWithSwift(_ redis: RedisClient, queue: String, concurrency: Int, logger: Logger) async throws -> Double {
        let worker = RQWorker(
            redis: redis, handlers: .builtIns,
            configuration: RQWorkerConfiguration(queues: [queue], burst: true, concurrency: concurrency), logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        try await worker.run()
        return (clock.now - start).seconds
    }

    struct PythonFigures: Decodable {
        var seconds: Double
        var maxRSSKilobytes: Int
        var finished: Int
        enum CodingKeys: String, CodingKey {
            case seconds, finished
            case maxRSSKilobytes = "max_rss_kb"
        }
    }

    func drainWithPython(_ url: String, queue: String, kind: String) throws -> PythonFigures {
        let (status, output) = try ChildProcess.run(
            "/usr/bin/env", ["PYTHONPATH=compat", python, "compat/bench/rq_drain.py", url, queue, kind])
        guard status == 0, let line = output.split(separator: "\n").last else {
            throw ValidationError("Python RQ drain (\(kind)) failed with status \(status): \(output.suffix(500))")
        }
        return try JSONDecoder().decode(PythonFigures.self, from: Data(line.utf8))
    }

    static func clean(_ redis: RedisClient, queue: String) async throws {
        let connection = try await redis.makeDedicatedConnection()
        defer { connection.close() }
        var cursor = "0"
        repeat {
            let reply = try await connection.send("SCAN", RedisArgument(cursor), "MATCH", "rq:*", "COUNT", "10000").array ?? []
            cursor = reply.first?.string ?? "0"
            let keys = reply.last?.array?.compactMap(\.string) ?? []
            let ours = keys.filter { $0.contains(queue) }
            if !ours.isEmpty { _ = try await connection.send(["UNLINK"] + ours.map { RedisArgument($0) }) }
        } while cursor != "0"
    }

    static func peakRSSKilobytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }
}
