import Dispatch
import Foundation
import Providers

#if canImport(Glibc)
import Glibc
#endif

/// Settings of ``LocalFolderStorage``.
public struct LocalFolderStorageConfiguration: Sendable, Hashable {
    /// The folder every key lives under; created on first write. Default: `./.data/files` (`DATA_DIR`).
    public var root: String
    /// Permissions of new files. Default: `0o640`.
    public var filePermissions: mode_t
    /// Whether writes are flushed to disk (`fsync` of the file and of its folder) before they
    /// count as done. Default: `true`; tests may turn it off for speed.
    public var synchronousWrites: Bool

    /// Creates a configuration.
    public init(root: String = "./.data/files", filePermissions: mode_t = 0o640, synchronousWrites: Bool = true) {
        self.root = root
        self.filePermissions = filePermissions
        self.synchronousWrites = synchronousWrites
    }
}

/// ``ResumeStorage`` in a local folder: `<root>/<key>`.
///
/// - Keys must pass ``StorageKey/isValid(_:)`` (no `..`, no leading `/`, ASCII letters, digits and
///   `-_.` only), so a key can never leave the root; anything else is refused with
///   ``ProviderError/Code/rejected`` before the file system is touched.
/// - Writes are atomic: the bytes go to a unique temporary file in the destination folder, are
///   `fsync`ed, renamed over the key, and the folder is `fsync`ed, so a reader sees the old file or
///   the whole new one, never a torn write, even after a crash.
/// - File I/O is blocking; it runs on a Dispatch queue (not on Swift's cooperative pool, whose few
///   threads must never wait on a disk). Files are at most a few MB (the API caps uploads at 10 MB),
///   so one `write`/`read` call per file is fine.
public struct LocalFolderStorage: ResumeStorage {
    /// `local`.
    public var name: String { "local" }
    /// The configuration.
    public let configuration: LocalFolderStorageConfiguration

    private static let queue = DispatchQueue(label: "LocalFolderStorage.io", attributes: .concurrent)

    /// Storage under `configuration.root`.
    public init(configuration: LocalFolderStorageConfiguration = LocalFolderStorageConfiguration()) {
        self.configuration = configuration
    }

    /// The absolute-or-relative path of `key`, after validating it.
    public func path(for key: String) throws(ProviderError) -> String {
        guard StorageKey.isValid(key) else {
            throw ProviderError(.rejected, "invalid storage key")
        }
        let root = configuration.root.hasSuffix("/") ? String(configuration.root.dropLast()) : configuration.root
        return "\(root)/\(key)"
    }

    /// Writes `data` atomically under `key` (the content type is implied by the key's extension).
    public func put(key: String, data: Data, contentType: String) async throws(ProviderError) {
        let path = try path(for: key)
        let configuration = configuration
        try await Self.run { () throws(ProviderError) in
            try Self.writeAtomically(data, to: path, configuration: configuration)
        }
    }

    /// The bytes under `key`; ``ProviderError/Code/notFound`` when absent.
    public func get(key: String) async throws(ProviderError) -> Data {
        let path = try path(for: key)
        return try await Self.run { () throws(ProviderError) -> Data in
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Self.error(errno, "open") }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw Self.error(errno, "stat") }
            guard (info.st_mode & S_IFMT) == S_IFREG else { throw ProviderError(.notFound, "object not found") }
            var data = Data(count: Int(info.st_size))
            var offset = 0
            let failure: Int32? = data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) -> Int32? in
                while offset < buffer.count {
                    let count = read(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if count < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    if count == 0 { break }
                    offset += count
                }
                return nil
            }
            if let failure { throw Self.error(failure, "read") }
            return offset == data.count ? data : data.prefix(offset)
        }
    }

    /// Size of `key` (and the content type implied by its extension), or `nil` when absent.
    public func head(key: String) async throws(ProviderError) -> StoredObjectInfo? {
        let path = try path(for: key)
        return try await Self.run { () throws(ProviderError) -> StoredObjectInfo? in
            var info = stat()
            guard stat(path, &info) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { return nil }
                throw Self.error(errno, "stat")
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            let ext = key.split(separator: ".").last.map(String.init) ?? ""
            return StoredObjectInfo(size: Int(info.st_size), contentType: DocumentKind(rawValue: ext)?.contentType)
        }
    }

    /// Removes `key`; a missing key is not an error.
    public func delete(key: String) async throws(ProviderError) {
        let path = try path(for: key)
        try await Self.run { () throws(ProviderError) in
            if unlink(path) != 0, errno != ENOENT, errno != ENOTDIR {
                throw Self.error(errno, "unlink")
            }
        }
    }

    // MARK: Internals

    /// Runs blocking `body` on the I/O queue and resumes with its outcome.
    private static func run<T: Sendable>(_ body: @escaping @Sendable () throws(ProviderError) -> T) async throws(ProviderError) -> T {
        let result: Result<T, ProviderError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(ProviderError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    private static func writeAtomically(_ data: Data, to path: String, configuration: LocalFolderStorageConfiguration) throws(ProviderError) {
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw ProviderError(.unavailable, "cannot create the storage folder")
            }
        }
        let temporary = "\(directory.isEmpty ? "." : directory)/.tmp-\(UUID().uuidString.lowercased())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, configuration.filePermissions)
        guard fd >= 0 else { throw error(errno, "open") }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        let writeFailure: Int32? = data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> Int32? in
            var offset = 0
            while offset < buffer.count {
                let count = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += count
            }
            return nil
        }
        if let writeFailure {
            close(fd)
            throw error(writeFailure, "write")
        }
        if configuration.synchronousWrites, fsync(fd) != 0 {
            let code = errno
            close(fd)
            throw error(code, "fsync")
        }
        guard close(fd) == 0 else { throw error(errno, "close") }
        guard rename(temporary, path) == 0 else { throw error(errno, "rename") }
        renamed = true
        if configuration.synchronousWrites {
            directorySyncs.sync(directory.isEmpty ? "." : directory)
        }
    }

    /// Folder `fsync`s shared by concurrent writers (see ``DirectorySyncGroup``).
    static let directorySyncs = DirectorySyncGroup()

    /// Maps `errno` to a typed error; the message names the operation, never the path.
    private static func error(_ code: Int32, _ operation: String) -> ProviderError {
        switch code {
        case ENOENT, ENOTDIR: ProviderError(.notFound, "object not found")
        case ENOSPC, EDQUOT: ProviderError(.unavailable, "\(operation): no space left on the storage device")
        case EACCES, EPERM, EROFS: ProviderError(.configuration, "\(operation): permission denied in the storage folder")
        default: ProviderError(.unavailable, "\(operation) failed: \(String(cString: strerror(code)))")
        }
    }
}

/// Group commit for folder `fsync`s: a writer that has renamed its file into a folder needs one
/// `fsync` of the folder that *starts after* its rename; writers that arrive while one is running
/// wait for the next, which then covers all of them. Under concurrent uploads into the same
/// folder this turns N folder flushes into a few, with the same guarantee for each writer.
/// Blocking (runs on the storage's I/O queue, never on the cooperative pool).
final class DirectorySyncGroup: @unchecked Sendable {
    private struct Folder {
        /// Generation of the newest `fsync` started, and of the newest finished.
        var started: UInt64 = 0
        var finished: UInt64 = 0
        var running = false
        var waiting = 0
    }

    private let condition = NSCondition()
    private var folders: [String: Folder] = [:]  // guarded by `condition`
    private let flush: @Sendable (String) -> Void
    /// `fsync` calls made, for tests.
    private var flushes = 0  // guarded by `condition`

    /// `flush` defaults to opening the folder and `fsync`ing it (errors ignored, as a folder that
    /// cannot be opened cannot be flushed either).
    init(flush: @escaping @Sendable (String) -> Void = DirectorySyncGroup.fsyncFolder) {
        self.flush = flush
    }

    /// Returns once an `fsync` of `folder` that started after this call began has finished.
    func sync(_ folder: String) {
        condition.lock()
        defer { condition.unlock() }
        var entry = folders[folder, default: Folder()]
        let needed = entry.started + 1
        entry.waiting += 1
        folders[folder] = entry
        while folders[folder]!.finished < needed {
            if folders[folder]!.running {
                condition.wait()
                continue
            }
            folders[folder]!.running = true
            folders[folder]!.started += 1
            let generation = folders[folder]!.started
            flushes += 1
            condition.unlock()
            flush(folder)
            condition.lock()
            folders[folder]!.finished = generation
            folders[folder]!.running = false
            condition.broadcast()
        }
        folders[folder]!.waiting -= 1
        if folders[folder]!.waiting == 0, !folders[folder]!.running { folders[folder] = nil }
    }

    /// The number of `fsync`s so far.
    var flushCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return flushes
    }

    /// Opens `folder` and `fsync`s it.
    static func fsyncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
