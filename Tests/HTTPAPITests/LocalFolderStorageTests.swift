import Foundation
import LocalProviders
import Providers
import Testing

@Suite("LocalFolderStorage")
struct LocalFolderStorageTests {
    func withStorage(_ body: (LocalFolderStorage, String) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lfs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await body(LocalFolderStorage(configuration: LocalFolderStorageConfiguration(root: root)), root)
    }

    @Test func roundTripHeadAndDelete() async throws {
        try await withStorage { storage, root in
            let key = StorageKey.make(for: UUID(), kind: .pdf)
            let data = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            #expect(try await storage.head(key: key) == nil)
            try await storage.put(key: key, data: data, contentType: DocumentKind.pdf.contentType)
            #expect(try await storage.get(key: key) == data)
            let info = try await storage.head(key: key)
            #expect(info == StoredObjectInfo(size: data.count, contentType: DocumentKind.pdf.contentType))
            #expect(FileManager.default.fileExists(atPath: "\(root)/\(key)"))
            try await storage.delete(key: key)
            #expect(try await storage.head(key: key) == nil)
            try await storage.delete(key: key)  // deleting twice is fine
            await #expect(throws: ProviderError.self) { try await storage.get(key: key) }
            do {
                _ = try await storage.get(key: key)
            } catch let error as ProviderError {
                #expect(error.code == .notFound)
            }
        }
    }

    @Test func overwriteIsAtomicAndLeavesNoTemporaryFiles() async throws {
        try await withStorage { storage, root in
            let key = StorageKey.make(for: UUID(), kind: .txt)
            let a = Data(repeating: 0x61, count: 2_000_000), b = Data(repeating: 0x62, count: 1_000_000)
            try await storage.put(key: key, data: a, contentType: "text/plain")
            // Readers racing 20 rewrites see one whole version or the other, never a mix.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask { try await storage.put(key: key, data: index.isMultiple(of: 2) ? b : a, contentType: "text/plain") }
                    group.addTask {
                        let read = try await storage.get(key: key)
                        #expect(read == a || read == b)
                    }
                }
                try await group.waitForAll()
            }
            let folder = URL(fileURLWithPath: "\(root)/\(key)").deletingLastPathComponent().path
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder)
            #expect(leftovers == [String(key.split(separator: "/").last!)])
        }
    }

    @Test(arguments: [
        "", "/etc/passwd", "../outside.txt", "resumes/../../outside.txt", "resumes/./a.pdf", "resumes//a.pdf", "resumes/a b.pdf",
        "resumes/ä.pdf", "resumes/a.pdf\0.txt", "resumes/a\\b.pdf", "resumes/", String(repeating: "a", count: 600),
    ])
    func refusesInvalidKeys(_ key: String) async throws {
        try await withStorage { storage, root in
            do {
                try await storage.put(key: key, data: Data("x".utf8), contentType: "text/plain")
                Issue.record("put accepted \(key.debugDescription)")
            } catch let error as ProviderError {
                #expect(error.code == .rejected)
            }
            await #expect(throws: ProviderError.self) { _ = try await storage.get(key: key) }
            await #expect(throws: ProviderError.self) { _ = try await storage.head(key: key) }
            await #expect(throws: ProviderError.self) { try await storage.delete(key: key) }
            let written = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            #expect(written.isEmpty)
        }
    }

    @Test func concurrentWritesOfDifferentKeys() async throws {
        try await withStorage { storage, _ in
            let keys = (0..<40).map { _ in StorageKey.make(for: UUID(), kind: .pdf) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, key) in keys.enumerated() {
                    group.addTask { try await storage.put(key: key, data: Data("file \(index)".utf8), contentType: "application/pdf") }
                }
                try await group.waitForAll()
            }
            for (index, key) in keys.enumerated() {
                #expect(try await storage.get(key: key) == Data("file \(index)".utf8))
            }
        }
    }

    @Test func unwritableRootIsAConfigurationOrUnavailableError() async throws {
        let storage = LocalFolderStorage(configuration: LocalFolderStorageConfiguration(root: "/proc/definitely-not-writable"))
        do {
            try await storage.put(key: StorageKey.make(for: UUID(), kind: .pdf), data: Data("x".utf8), contentType: "application/pdf")
            Issue.record("put succeeded under /proc")
        } catch {
            #expect([ProviderError.Code.unavailable, .configuration, .notFound].contains(error.code))
        }
    }
}
