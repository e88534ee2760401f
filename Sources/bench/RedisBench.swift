import ClientSupport
import ArgumentParser
import Foundation
import Logging
import ProcessSupport
import Redis

/// `bench redis`: round trips and pipelined commands per second of our hiredis client, next to
/// `redis-benchmark` against the same server in the same run.
struct RedisBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Redis client throughput vs redis-benchmark (-c 1, and -P 100 -c 1) on one server."
    )

    @Option(help: "Redis URL to measure against; by default a private redis-server is started on a free loopback port.")
    var url: String?

    @Option(help: "Round trips per command kind.")
    var requests = 100_000

    @Option(help: "Commands in the pipelined run.")
    var pipelinedRequests = 1_000_000

    @Option(help: "Pipeline depth (commands per round trip), as redis-benchmark's -P.")
    var depth = 100

    @Option(help: "Alternating rounds of reference and ours; the median of each is reported (a VM's speed drifts).")
    var rounds = 5

    func run() async throws {
        let server = try url == nil ? PrivateRedisServer.start() : nil
        let target = url ?? server!.url
        defer { server?.stop() }
        let configuration = try RedisConfiguration(url: target)
        let connection = try await RedisConnection.connect(configuration: configuration, logger: Logger(label: "bench"))
        defer { connection.close() }
        let (host, port) = try Self.hostPort(configuration)

        print("Redis client benchmark against \(configuration.redactedURL): \(requests) round trips per case, \(pipelinedRequests) pipelined at depth \(depth), in \(rounds) alternating rounds (medians)")
        print("")
        var rows: [(String, Double, Double, Double)] = []
        let key = "bench:\(UUID().uuidString)"
        let value = RedisArgument("xxx")  // redis-benchmark's default 3-byte payload
        let perRound = max(1, requests / rounds)
        let pipelinedPerRound = max(depth, pipelinedRequests / rounds)
        let batch = [RedisCommand](repeating: ["SET", RedisArgument(key), value], count: depth)

        // Default: the caller runs on Swift's cooperative pool and each command hops to the
        // connection's thread and back. Pinned: the loop runs on the connection's own thread
        // (withTaskExecutorPreference), so commands run inline, as a C client's would.
        let cases: [(name: String, reference: String, pipelined: Bool, pinned: Bool, command: RedisCommand)] = [
            ("PING", "PING_MBULK", false, false, ["PING"]), ("PING", "PING_MBULK", false, true, ["PING"]),
            ("SET", "SET", false, false, ["SET", RedisArgument(key), value]), ("SET", "SET", false, true, ["SET", RedisArgument(key), value]),
            ("LPUSH", "LPUSH", false, false, ["LPUSH", RedisArgument(key + ":l"), value]),
            ("LPUSH", "LPUSH", false, true, ["LPUSH", RedisArgument(key + ":l"), value]),
            ("SET -P \(depth)", "SET", true, false, []), ("SET -P \(depth)", "SET", true, true, []),
        ]
        for item in cases {
            var theirs: [Double] = []
            var ours: [Double] = []
            for _ in 0..<rounds {
                let reference = try RedisBenchmarkTool.run(
                    host: host, port: port, requests: item.pipelined ? pipelinedPerRound : perRound,
                    tests: item.reference == "PING_MBULK" ? "ping" : item.reference.lowercased(), pipeline: item.pipelined ? depth : 1)
                theirs.append(reference[item.reference] ?? 0)
                let executor: (any TaskExecutor)? = item.pinned ? connection.taskExecutor : nil
                let measured = try await withTaskExecutorPreference(executor) {
                    if item.pipelined {
                        return try await measure(pipelinedPerRound / depth) { _ = try await connection.pipeline(batch) } * Double(depth)
                    }
                    return try await measure(perRound) { try await connection.send(item.command) }
                }
                ours.append(measured)
            }
            let goal: Double = item.pinned ? (item.pipelined ? 0.5 : 0.8) : 0
            rows.append(("\(item.name), \(item.pinned ? "pinned" : "default")", median(ours), median(theirs), goal))
        }
        try await connection.send(["DEL", RedisArgument(key), RedisArgument(key + ":l")])

        print(pad("operation", 26) + pad("ours ops/s", 14) + pad("redis-benchmark", 17) + pad("ratio", 9) + "goal")
        var allMet = true
        for (name, ours, theirs, goal) in rows {
            let ratio = theirs > 0 ? ours / theirs : 0
            let met = ratio >= goal
            allMet = allMet && met
            let goalText = goal > 0 ? "≥ \(Int(goal * 100)) % \(met ? "met" : "NOT met")" : "(no goal)"
            print(pad(name, 26) + pad(format(ours), 14) + pad(format(theirs), 17) + pad(String(format: "%.2f", ratio), 9) + goalText)
        }
        print("")
        print(allMet ? "all goals met" : "some goals not met")
    }

    private nonisolated func measure(_ count: Int, _ body: () async throws -> Void) async throws -> Double {
        for _ in 0..<min(1_000, count) { try await body() }  // warm-up
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<count { try await body() }
        let elapsed = clock.now - start
        return Double(count) / elapsed.seconds
    }

    private static func hostPort(_ configuration: RedisConfiguration) throws -> (String, Int) {
        guard case .tcp(let host, let port) = configuration.endpoint else {
            throw ValidationError("bench redis needs a TCP Redis URL")
        }
        return (host, port)
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

func format(_ value: Double) -> String {
    let rounded = Int(value.rounded())
    var digits = String(rounded)
    var result = ""
    while digits.count > 3 {
        result = " " + digits.suffix(3) + result
        digits = String(digits.dropLast(3))
    }
    return digits + result
}


/// Runs `redis-benchmark` and parses its CSV output into requests per second by test name.
enum RedisBenchmarkTool {
    static func run(host: String, port: Int, requests: Int, tests: String, pipeline: Int) throws -> [String: Double] {
        let output = try runProcess("redis-benchmark", [
            "-h", host, "-p", String(port), "-c", "1", "-n", String(requests), "-P", String(pipeline), "-t", tests, "--csv",
        ])
        var result: [String: Double] = [:]
        for line in output.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count >= 2, let rps = Double(fields[1]) { result[fields[0]] = rps }
        }
        guard !result.isEmpty else { throw ValidationError("could not parse redis-benchmark output:\n\(output)") }
        return result
    }
}

/// Runs a program found on PATH and returns its standard output; throws on a non-zero exit.
func runProcess(_ name: String, _ arguments: [String]) throws -> String {
    let (status, output) = try ChildProcess.run(name, arguments)
    guard status == 0 else { throw ValidationError("\(name) exited with status \(status)") }
    return output
}

/// A `redis-server` started for one benchmark run on a free loopback port.
struct PrivateRedisServer {
    let port: Int
    var url: String { "redis://127.0.0.1:\(port)/0" }

    static func start() throws -> PrivateRedisServer {
        let port = Int.random(in: 20_000..<60_000)
        _ = try runProcess("redis-server", [
            "--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--daemonize", "yes",
            "--pidfile", "/tmp/resume-processor-bench-\(port).pid", "--logfile", "/tmp/resume-processor-bench-\(port).log",
        ])
        for _ in 0..<100 {
            if (try? runProcess("redis-cli", ["-p", String(port), "ping"])) != nil { return PrivateRedisServer(port: port) }
            usleep(50_000)
        }
        throw ValidationError("redis-server did not start on port \(port)")
    }

    func stop() {
        _ = try? runProcess("redis-cli", ["-p", String(port), "shutdown", "nosave"])
    }
}
