import Foundation
import Providers

#if canImport(Glibc)
import Glibc
#endif

/// A private folder (mode 0700) for one document's tools, removed by ``remove()``.
struct ScratchFolder {
    /// Its absolute path.
    let path: String

    /// Makes `<parent>/<prefix>-<uuid>`.
    init(in parent: String, prefix: String) throws(ProviderError) {
        path = "\(parent)/\(prefix)-\(UUID().uuidString)"
        guard mkdir(path, 0o700) == 0 else {
            throw ProviderError(.configuration, "cannot create a scratch folder in \(parent)")
        }
    }

    /// Writes `bytes` to `name` inside the folder (mode 0600).
    func write(_ name: String, _ bytes: [UInt8]) throws(ProviderError) {
        guard FileManager.default.createFile(atPath: "\(path)/\(name)", contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw ProviderError(.configuration, "cannot write a scratch file in \((path as NSString).deletingLastPathComponent)")
        }
    }

    /// The absolute path of `name` inside the folder.
    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Removes the folder and everything in it.
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
