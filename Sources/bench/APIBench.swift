import ApplicationStore
import ArgumentParser
import Foundation
import Logging
import Postgres
import ProcessSupport

#if canImport(Glibc)
import Glibc
#endif

/// `bench api`: uploads per second of a 100 KB PDF through `POST /resumes/upload`, our `api run`
/// next to a minimal FastAPI + uvicorn + python-multipart server doing the same work
/// (`compat/bench/fastapi_upload.py`), against the same private Redis and a temporary database,
/// in alternating rounds of the same run.
struct APIBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Upload throughput of the Swift API vs FastAPI/uvicorn (same work, same servers, same run)."
    )

    @Option(help: "PostgreSQL URL whose role may create databases (default: DB_URL).")
    var dbURL: String?

    @Option(help: "Concurrent keep-alive connections of the load generator.")
    var connections = 16

    @Option(help: "Seconds per measurement.")
    var seconds = 8

    @Option(help: "Alternating rounds; medians are reported.")
    var rounds = 3

    @Option(help: "Size of the uploaded PDF in bytes.")
    var fileBytes = 100 * 1024

    @Option(help: "uvicorn worker processes (the machine's cores by default).")
    var uvicornWorkers = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Use the `api` binary next to this one as it is, without `swift build --product api` first.")
    var skipBuild = false

    @Flag(help: """
        Re-arm TCP_QUICKACK before each read, so the client acknowledges at once. Without it (like         wrk), a server that writes its head and body in two segments with Nagle on (uvicorn) waits         for the client's delayed ACK (~40 ms) on every request.
        """)
    var quickAck = false

    @Option(help: "Also write an SVG bar chart of the median uploads/s measured (Swift and FastAPI) to this path.")
    var chart: String?

    func run() async throws {
        guard let baseURL = dbURL ?? ProcessInfo.processInfo.environment["DB_URL"] else {
            throw ValidationError("set DB_URL or --db-url (e.g. source .data/services/env)")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = try Self.benchVirtualenv(root: root)
        // `swift run -c release bench api` builds only `bench`: build (or bring up to date) the
        // `api` next to it, in the same configuration, so the server measured is the current code.
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let apiBinary = binaries.appendingPathComponent("api").path
        if !skipBuild {
            let configuration = binaries.lastPathComponent == "release" ? "release" : "debug"
            print("bench api: swift build -c \(configuration) --product api")
            _ = try runProcess("swift", ["build", "-c", configuration, "--product", "api", "--package-path", root.path])
        }
        guard FileManager.default.isExecutableFile(atPath: apiBinary) else {
            throw ValidationError("\(apiBinary) is missing: swift build -c release --product api")
        }

        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let redis = try PrivateRedisServer.start()
        defer { redis.stop() }
        let admin = PostgresClient(configuration: try PostgresConfiguration(url: baseURL), logger: logger)
        let database = "bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin.query("CREATE DATABASE \(database)")  // generated from hex digits only
        let databaseURL = "\(baseURL[..<(baseURL.lastIndex(of: "/") ?? baseURL.endIndex)])/\(database)"
        let postgres = PostgresClient(configuration: try PostgresConfiguration(url: databaseURL), logger: logger)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("bench-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        var children: [ChildProcess] = []
        func cleanUp() async {
            for child in children { try? await child.stop() }
            await postgres.shutdown()
            _ = try? await admin.query("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            await admin.shutdown()
            try? FileManager.default.removeItem(at: work)
        }
        do {
            _ = try await PostgresMigrator(migrations: ResumeSchema.migrations, logger: logger).migrate(postgres)
            let post = JobPost(id: UUID(), title: "Senior Swift engineer", description: "Server-side Swift", seniorityLevel: .senior)
            try await ApplicationRepository(client: postgres).insert(post)

            var environment = ProcessInfo.processInfo.environment
            environment["REDIS_URL"] = redis.url
            environment["DB_URL"] = databaseURL
            environment["LOG_LEVEL"] = "warning"
            environment.removeValue(forKey: "API_KEY")
            // FastAPI has no cap on uploads in progress; keep ours (32 by default) out of the way.
            environment["MAX_CONCURRENT_UPLOADS"] = String(max(32, connections))
            let swiftPort = Int.random(in: 20_000..<40_000), pythonPort = Int.random(in: 40_000..<60_000)
            environment["DATA_DIR"] = work.appendingPathComponent("swift").path
            children.append(try ChildProcess(
                executable: apiBinary, arguments: ["run", "--port", "\(swiftPort)", "--env-file", work.appendingPathComponent("none.env").path],
                logPath: work.appendingPathComponent("swift.log").path, environment: environment))
            environment["DATA_DIR"] = work.appendingPathComponent("python").path
            environment["PYTHONPATH"] = root.appendingPathComponent("compat/bench").path
            children.append(try ChildProcess(
                executable: python.deletingLastPathComponent().appendingPathComponent("uvicorn").path,
                arguments: ["fastapi_upload:app", "--host", "127.0.0.1", "--port", "\(pythonPort)", "--workers", "\(uvicornWorkers)",
                            "--log-level", "warning", "--no-access-log"],
                logPath: work.appendingPathComponent("python.log").path, environment: environment))
            for port in [swiftPort, pythonPort] {
                var up = false
                for _ in 0..<200 where !up {
                    up = port == swiftPort ? LoadGenerator.isReady(port: port) : LoadGenerator.canConnect(port: port)
                    if !up { try await Task.sleep(for: .milliseconds(50)) }
                }
                guard up else { throw ValidationError("server on port \(port) did not start; see \(work.path)") }
            }

            var pdf = Array("%PDF-1.4\n".utf8)
            var generator = SystemRandomNumberGenerator()
            while pdf.count < fileBytes { pdf.append(UInt8.random(in: 32...126, using: &generator)) }
            let request = LoadGenerator.uploadRequest(jobPostID: post.id, pdf: pdf)
            // Warm-up: both servers answer 202 to the exact request measured.
            for (name, port) in [("swift", swiftPort), ("fastapi", pythonPort)] {
                let warm = try await LoadGenerator.run(port: port, request: request, connections: 2, duration: .seconds(1))
                guard warm.errors == 0, warm.accepted > 0 else {
                    throw ValidationError("\(name) warm-up failed: \(warm.accepted) accepted, \(warm.errors) errors (\(warm.lastStatus)); see \(work.path)")
                }
            }
            print("bench api: \(fileBytes / 1024) KB PDF, \(connections) connections, \(seconds) s × \(rounds) rounds; uvicorn workers: \(uvicornWorkers); quick ACKs: \(quickAck ? "on" : "off")")
            print("  (CPU per upload: the server's processes, and the whole machine incl. PostgreSQL, Redis and this client)")
            var swiftRates: [Double] = [], pythonRates: [Double] = []
            var swiftCPU: [Double] = [], pythonCPU: [Double] = []
            let servers = [("swift", swiftPort, children[0].pid), ("fastapi", pythonPort, children[1].pid)]
            for round in 1...rounds {
                for (name, port, pid) in servers {
                    let before = (server: CPUTime.processTree(root: pid), machine: CPUTime.machineBusy())
                    let result = try await LoadGenerator.run(
                        port: port, request: request, connections: connections, duration: .seconds(seconds), quickAck: quickAck)
                    let serverCPU = CPUTime.processTree(root: pid) - before.server, machineCPU = CPUTime.machineBusy() - before.machine
                    let rate = Double(result.accepted) / Double(seconds)
                    let perUpload = (server: serverCPU / Double(max(result.accepted, 1)) * 1000, machine: machineCPU / Double(max(result.accepted, 1)) * 1000)
                    if name == "swift" {
                        swiftRates.append(rate)
                        swiftCPU.append(perUpload.server)
                    } else {
                        pythonRates.append(rate)
                        pythonCPU.append(perUpload.server)
                    }
                    print(String(format: "  round %d %-8@ %8.1f uploads/s  (p50 %.1f ms, p99 %.1f ms, errors %d; CPU/upload %.2f ms server, %.2f ms machine)",
                                 round, name, rate, result.p50 * 1000, result.p99 * 1000, result.errors, perUpload.server, perUpload.machine))
                }
            }
            func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
            let swiftMedian = median(swiftRates), pythonMedian = median(pythonRates)
            let rows = try await postgres.query("SELECT count(*) FROM applications").first?.decode(0, as: Int.self) ?? 0
            print(String(format: "median uploads/s: swift %.1f, fastapi %.1f, ratio %.2f (rows written: %d)",
                         swiftMedian, pythonMedian, swiftMedian / max(pythonMedian, 0.001), rows))
            print(String(format: "median server CPU per upload: swift %.2f ms, fastapi %.2f ms, ratio %.2f",
                         median(swiftCPU), median(pythonCPU), median(pythonCPU) / max(median(swiftCPU), 0.0001)))
            if let chart {
                try makeChart(swift: swiftMedian, fastAPI: pythonMedian).write(toFile: chart)
                print("Chart: \(chart)")
            }
            await cleanUp()
        } catch {
            await cleanUp()
            throw error
        }
    }

    /// The chart of one run: the median uploads/s of each server, FastAPI's with the ratio to it.
    func makeChart(swift: Double, fastAPI: Double) -> SVGChart {
        let date = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        return SVGChart(
            title: "bench api: POST /resumes/upload per second (median of \(rounds) rounds)",
            subtitle: "\(date) · \(fileBytes / 1024) KB PDF · \(connections) connections · \(seconds) s rounds · "
                + "uvicorn workers: \(uvicornWorkers) · quick ACKs: \(quickAck ? "on" : "off")",
            unit: "uploads/s",
            bars: [
                SVGChart.Bar(label: "Swift api run", value: swift, note: String(format: "%.2f× FastAPI", swift / max(fastAPI, 0.001))),
                SVGChart.Bar(label: "FastAPI + uvicorn", value: fastAPI, note: "1.00×", color: SVGChart.pythonColor),
            ])
    }

    /// `compat/.venv-bench` with `compat/bench/requirements.txt`, created on first use; returns its python.
    static func benchVirtualenv(root: URL) throws -> URL {
        let venv = root.appendingPathComponent("compat/.venv-bench")
        let python = venv.appendingPathComponent("bin/python")
        let requirements = root.appendingPathComponent("compat/bench/requirements.txt").path
        let stamp = venv.appendingPathComponent(".requirements").path
        let wanted = (try? String(contentsOfFile: requirements, encoding: .utf8)) ?? ""
        if (try? String(contentsOfFile: stamp, encoding: .utf8)) != wanted {
            print("bench api: creating \(venv.path) from compat/bench/requirements.txt")
            _ = try runProcess("python3", ["-m", "venv", venv.path])
            _ = try runProcess(python.path, ["-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", requirements])
            try wanted.write(toFile: stamp, atomically: true, encoding: .utf8)
        }
        return python
    }
}

/// A closed-loop HTTP/1.1 load generator: N keep-alive connections, one thread each, each sending the
/// same request and reading the whole answer before the next.
enum LoadGenerator {
    struct Result: Sendable {
        var accepted = 0
        var errors = 0
        var lastStatus = 0
        var latencies: [Double] = []
        var p50: Double { percentile(0.5) }
        var p99: Double { percentile(0.99) }
        func percentile(_ q: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
        }
    }

    static func uploadRequest(jobPostID: UUID, pdf: [UInt8]) -> [UInt8] {
        bench.uploadRequest(fileName: "resume.pdf", bytes: pdf, contentType: "application/pdf", candidate: "Jane Doe", email: "jane@example.com", jobPostID: jobPostID)
    }

    static func canConnect(port: Int) -> Bool {
        let fd = connectSocket(port: port)
        if fd >= 0 { close(fd) }
        return fd >= 0
    }

    /// Whether `GET /ready` answers 200 (the Swift API answers 503 until its start is done).
    static func isReady(port: Int) -> Bool {
        let fd = connectSocket(port: port)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let request = Array("GET /ready HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return false }
        var head = [UInt8](repeating: 0, count: 16)
        let count = recv(fd, &head, head.count, 0)
        return count >= 12 && String(decoding: head[9..<12], as: UTF8.self) == "200"
    }

    static func connectSocket(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var time = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 {
            close(fd)
            return -1
        }
        return fd
    }

    /// Runs the load for `duration` and merges the connections' results.
    static func run(port: Int, request: [UInt8], connections: Int, duration: Duration, quickAck: Bool = false) async throws -> Result {
        let deadline = ContinuousClock.now.advanced(by: duration)
        return await withTaskGroup(of: Result.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        Thread { continuation.resume(returning: loop(port: port, request: request, deadline: deadline, quickAck: quickAck)) }.start()
                    }
                }
            }
            var total = Result()
            for await result in group {
                total.accepted += result.accepted
                total.errors += result.errors
                total.latencies += result.latencies
                if result.lastStatus != 0 { total.lastStatus = result.lastStatus }
            }
            return total
        }
    }

    /// One connection's closed loop (blocking; runs on its own thread).
    static func loop(port: Int, request: [UInt8], deadline: ContinuousClock.Instant, quickAck: Bool = false) -> Result {
        var result = Result()
        var fd: Int32 = -1
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while ContinuousClock.now < deadline {
            if fd < 0 {
                fd = connectSocket(port: port)
                if fd < 0 {
                    result.errors += 1
                    usleep(10_000)
                    continue
                }
            }
            let start = ContinuousClock.now
            var offset = 0
            var ok = true
            while offset < request.count {
                let sent = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { ok = false; break }
                offset += sent
            }
            var data: [UInt8] = []
            var status = 0
            var keepAlive = true
            while ok {
                if quickAck {
                    // Linux clears TCP_QUICKACK on its own; set again before every read.
                    var one: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), Int32(TCP_QUICKACK), &one, socklen_t(MemoryLayout<Int32>.size))
                }
                let count = recv(fd, &buffer, buffer.count, 0)
                if count <= 0 { ok = false; break }
                data += buffer[0..<count]
                guard let end = find(data, [13, 10, 13, 10]) else { continue }
                let head = String(decoding: data[0..<end], as: UTF8.self).lowercased()
                let statusParts = head.split(separator: " ", maxSplits: 2)
                status = statusParts.count > 1 ? Int(statusParts[1]) ?? 0 : 0
                var length = 0
                for line in head.split(separator: "\r\n") {
                    if line.hasPrefix("content-length:") { length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0 }
                    if line.hasPrefix("connection:") && line.contains("close") { keepAlive = false }
                }
                if data.count >= end + 4 + length { break }
            }
            if ok && status == 202 {
                result.accepted += 1
                let elapsed = ContinuousClock.now - start
                result.latencies.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            } else {
                result.errors += 1
                if status != 0 { result.lastStatus = status }
            }
            if !ok || !keepAlive {
                close(fd)
                fd = -1
            }
        }
        if fd >= 0 { close(fd) }
        return result
    }

    static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}

/// CPU time from `/proc` (Linux), in seconds.
enum CPUTime {
    /// User + system time of `root` and its descendants (uvicorn's workers are children of its
    /// supervisor); processes that ended in between are not counted.
    static func processTree(root: pid_t) -> Double {
        var parents: [pid_t: pid_t] = [:], times: [pid_t: Double] = [:]
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")")
            else { continue }
            // Fields after "pid (comm)": state ppid … utime(14) stime(15), counted from 1 overall.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let parent = pid_t(fields[1]), let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            parents[pid] = parent
            times[pid] = (user + system) / ticks
        }
        var total = 0.0
        for (pid, time) in times {
            var current = pid, depth = 0
            while current != root, current > 1, depth < 16, let parent = parents[current] {
                current = parent
                depth += 1
            }
            if current == root { total += time }
        }
        return total
    }

    /// Busy time of all CPUs together: user, nice, system, irq and softirq of `/proc/stat`'s `cpu`
    /// line (not idle, iowait or steal; guest time is already inside user).
    static func machineBusy() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8), let line = stat.split(separator: "\n").first else { return 0 }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 7 else { return 0 }
        let busy = values[0] + values[1] + values[2] + values[5] + values[6]
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
