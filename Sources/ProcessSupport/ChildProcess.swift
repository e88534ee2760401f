import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with a clean signal mask, for tests, benchmarks and chaos runs that stop,
/// kill and restart servers and workers.
///
/// Foundation's `Process` passes the test runner's blocked-signal mask on to the child, so a
/// `redis-server` started that way ignores SIGTERM. This helper uses `posix_spawn` with an empty
/// mask and default handlers, sends signals only to its own pid, and reaps the child.
public final class ChildProcess: @unchecked Sendable {
    // `@unchecked`: `pid` is only touched by the test that owns the object.
    public private(set) var pid: pid_t = 0
    fileprivate(set) var exited = false
    /// The exit status once reaped by ``isRunning``/``waitForExit(_:)``: the code, or 128 + the
    /// signal that ended it; `nil` while running (or when reaped elsewhere).
    public private(set) var exitStatus: Int32?

    /// Starts `executable` (an absolute path, or a name looked up on `PATH`) with `arguments`;
    /// stdout and stderr are appended to `logPath`. With `workingDirectory` the child starts there
    /// (relative paths it opens resolve inside it), else in this process's directory.
    public init(
        executable: String,
        arguments: [String],
        logPath: String,
        environment: [String: String]? = nil,
        separateStandardError: Bool = false,
        workingDirectory: String? = nil
    ) throws {
        let executable = try Self.resolve(executable)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if separateStandardError {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if let workingDirectory {
            guard let addChdir = Self.addChdir else {
                throw ChildProcessError(message: "this C library cannot start a child in another directory")
            }
            let status = addChdir(&actions, workingDirectory)
            guard status == 0 else { throw ChildProcessError(message: "posix_spawn_file_actions_addchdir_np failed: \(String(cString: strerror(status)))") }
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, env)
        guard status == 0 else {
            throw ChildProcessError(message: "posix_spawn \(executable) failed: \(String(cString: strerror(status)))")
        }
    }

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+), which its Swift module does not
    /// export (it is declared only under `_GNU_SOURCE`-style feature macros).
    private static let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()

    /// The absolute path of `name`: itself if it contains a slash, else the first match on `PATH`.
    public static func resolve(_ name: String) throws -> String {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw ChildProcessError(message: "\(name) was not found on PATH")
    }

    /// Runs `executable` to completion and returns its exit status and standard output (standard
    /// error is discarded). Blocks the calling thread: call it from a command-line tool's top level
    /// or a dedicated thread, not from latency-sensitive async code.
    public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logPath = directory.appendingPathComponent("output").path
        let child = try ChildProcess(executable: executable, arguments: arguments, logPath: logPath, separateStandardError: true)
        var status: Int32 = 0
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        child.exited = true
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, output)
    }

    deinit {
        if !exited && pid > 0 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    /// Sends `signal` to this child (never to anything else).
    public func signal(_ signal: Int32) {
        guard !exited, pid > 0 else { return }
        kill(pid, signal)
    }

    /// Whether the child is still running (reaps it if it has exited).
    public var isRunning: Bool {
        guard !exited else { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid || result < 0 {
            if result == pid { exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
            exited = true
            return false
        }
        return true
    }

    /// Waits up to `limit` for the child to exit; returns whether it did. Polls after 1 ms, then
    /// twice as long each time up to 10 ms, so a tool that runs for milliseconds is not made to
    /// wait for a fixed tick.
    @discardableResult
    public func waitForExit(_ limit: Duration = .seconds(10)) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        var pause = Duration.milliseconds(1)
        while clock.now < deadline {
            if !isRunning { return true }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(10))
        }
        return !isRunning
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    public func stop(grace: Duration = .seconds(5)) async throws {
        signal(SIGTERM)
        if try await !waitForExit(grace) {
            signal(SIGKILL)
            try await waitForExit(.seconds(5))
        }
    }
}

/// A child process could not be started.
public struct ChildProcessError: Error, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// The message.
    public var description: String { message }
}
