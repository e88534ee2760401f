import Foundation
import Providers
import Zlib

/// The sample résumés in `Fixtures/resumes` and their expectations (`expected.json`, written by
/// `compat/fixtures/make_resumes.py`).
struct ResumeFixtures: Sendable {
    struct File: Sendable, CustomStringConvertible {
        var name: String
        var kind: DocumentKind
        /// `text`, or a ``ProviderError/Code`` raw value.
        var outcome: String
        var excerpts: [String]
        var readingOrder: [[String]]
        var pages: Int?
        var description: String { name }
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/resumes")

    static let shared: ResumeFixtures = load()

    var jobPost: String
    var files: [File]
    var rankingHint: [String]

    func file(_ name: String) -> File { files.first { $0.name == name }! }

    static func bytes(_ name: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) ?? Data())
    }

    private static func load() -> ResumeFixtures {
        let data = FileManager.default.contents(atPath: directory.appendingPathComponent("expected.json").path)!
        let json = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        let files = (json["files"] as! [String: [String: Any]]).map { name, entry in
            File(
                name: name,
                kind: DocumentKind(rawValue: entry["kind"] as! String)!,
                outcome: entry["outcome"] as! String,
                excerpts: entry["excerpts"] as? [String] ?? [],
                readingOrder: entry["readingOrder"] as? [[String]] ?? [],
                pages: entry["pages"] as? Int)
        }
        return ResumeFixtures(
            jobPost: json["jobPost"] as! String, files: files.sorted { $0.name < $1.name },
            rankingHint: json["rankingHint"] as! [String])
    }
}

/// Test fixture, not a storage implementation: a ``ResumeStorage`` over a dictionary so the
/// extractor can be exercised through ``StoredDocument`` without a folder or S3.
actor DictionaryStorageFixture: ResumeStorage {
    nonisolated let name = "dictionary-test-fixture"
    private var objects: [String: Data] = [:]

    init(_ objects: [String: Data] = [:]) {
        self.objects = objects
    }

    func put(key: String, data: Data, contentType: String) async throws(ProviderError) {
        objects[key] = data
    }

    func get(key: String) async throws(ProviderError) -> Data {
        guard let data = objects[key] else { throw ProviderError(.notFound, "no object \(key)") }
        return data
    }

    func head(key: String) async throws(ProviderError) -> StoredObjectInfo? {
        objects[key].map { StoredObjectInfo(size: $0.count, contentType: nil) }
    }

    func delete(key: String) async throws(ProviderError) {
        objects[key] = nil
    }
}

/// Builds ZIP archives byte by byte, including broken ones, for the reader's tests.
struct ZipBuilder {
    struct Item {
        var name: String
        var data: [UInt8]
        var method: UInt16 = 8
        var flags: UInt16 = 0
        /// Overrides for the central directory's claims.
        var declaredCRC: UInt32?
        var declaredSize: Int?
    }

    var items: [Item] = []

    func build() throws -> [UInt8] {
        var output: [UInt8] = []
        var central: [UInt8] = []
        for item in items {
            let payload = item.method == 8 ? try Zlib.deflateRaw(item.data) : item.data
            let crc = item.declaredCRC ?? Zlib.crc32(item.data)
            let size = UInt32(item.declaredSize ?? item.data.count)
            let name = Array(item.name.utf8)
            let offset = UInt32(output.count)
            output += le32(0x0403_4B50) + le16(20) + le16(item.flags) + le16(item.method) + le16(0) + le16(0x5C21)
            output += le32(crc) + le32(UInt32(payload.count)) + le32(size) + le16(UInt16(name.count)) + le16(0)
            output += name + payload
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(item.flags) + le16(item.method) + le16(0) + le16(0x5C21)
            central += le32(crc) + le32(UInt32(payload.count)) + le32(size) + le16(UInt16(name.count))
            central += le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + name
        }
        let centralOffset = UInt32(output.count)
        output += central
        output += le32(0x0605_4B50) + le16(0) + le16(0) + le16(UInt16(items.count)) + le16(UInt16(items.count))
        output += le32(UInt32(central.count)) + le32(centralOffset) + le16(0)
        return output
    }

    private func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    private func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }

    /// A minimal DOCX whose `word/document.xml` has `body` inside `<w:body>`.
    static func docx(body: String, method: UInt16 = 8) throws -> [UInt8] {
        let xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" \
            xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>\(body)</w:body></w:document>
            """
        var builder = ZipBuilder()
        builder.items.append(Item(name: "[Content_Types].xml", data: Array("<Types/>".utf8), method: method))
        builder.items.append(Item(name: "word/document.xml", data: Array(xml.utf8), method: method))
        return try builder.build()
    }
}
