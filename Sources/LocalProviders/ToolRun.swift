import Foundation
import ProcessSupport
import Providers

#if canImport(Glibc)
import Glibc
#endif

/// One run of a command-line tool (`pdftotext`, `pdfinfo`, `pdfimages`, `pdftocairo`, `tesseract`) under the
/// rules every local extraction follows: started in the document's scratch folder with standard
/// input from `/dev/null`, output and errors into a log file there that no user-facing message
/// ever quotes, killed at its deadline or when the calling task is cancelled, and optionally under
/// an address-space limit through `prlimit` (which execs the tool, so the pid stays the tool's).
struct ToolRun {
    /// The tool's name in messages, e.g. `pdftotext`.
    var tool: String
    /// A name on `PATH` or an absolute path.
    var executable: String
    var arguments: [String]
    /// The scratch folder: working directory and home of the log file.
    var directory: String
    var timeout: Duration
    /// What the tool reads, for the timeout message ("the PDF may be hostile").
    var subject: String
    /// Extra environment variables on top of this process's.
    var environment: [String: String] = [:]
    /// Address-space limit in bytes, applied when `prlimit` is installed.
    var memoryLimit: Int?
    /// The package that provides the tool, for the "cannot run" message.
    var package: String

    /// Runs the tool to its end and returns its exit status (128 + signal when a signal ended it).
    ///
    /// Errors: ``ProviderError/Code/configuration`` when it cannot start,
    /// ``ProviderError/Code/timeout`` (non-transient) when it was killed at the deadline or on
    /// cancellation.
    func run() async throws(ProviderError) -> Int32 {
        var executable = self.executable
        var arguments = self.arguments
        if let memoryLimit, let prlimit = try? ChildProcess.resolve("prlimit") {
            guard let resolved = try? ChildProcess.resolve(executable) else {
                throw ProviderError(.configuration, "cannot run \(tool) (install \(package)): it is not on PATH")
            }
            arguments = ["--as=\(memoryLimit)", "--", resolved] + arguments
            executable = prlimit
        }
        var environment = ProcessInfo.processInfo.environment
        environment.merge(self.environment) { _, new in new }
        let child: ChildProcess
        do {
            child = try ChildProcess(
                executable: executable, arguments: arguments, logPath: "\(directory)/\(tool).log",
                environment: environment, workingDirectory: directory)
        } catch {
            throw ProviderError(.configuration, "cannot run \(tool) (install \(package)): \(error)")
        }
        let finished: Bool
        do {
            finished = try await child.waitForExit(timeout)
        } catch {
            // Cancelled: kill the child now; releasing `child` reaps it.
            child.signal(SIGKILL)
            throw ProviderError(.timeout, "\(tool) was cancelled")
        }
        guard finished else {
            child.signal(SIGKILL)
            _ = try? await child.waitForExit(.seconds(5))
            throw ProviderError(.timeout, "\(tool) did not finish within \(timeout); \(subject) may be hostile", isTransient: false)
        }
        return child.exitStatus ?? 0
    }

    /// Up to `limit` bytes of the file at `path` as UTF-8 (invalid sequences replaced), or `nil`
    /// when it does not exist.
    static func readText(at path: String, limit: Int) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit)) ?? nil
        return String(decoding: data ?? Data(), as: UTF8.self)
    }
}
