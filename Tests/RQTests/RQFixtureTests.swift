import Foundation
import Timestamps
import Pickle
import RQ
import Testing

/// Real bytes written by Python RQ 2.12 (captured by `compat/capture_fixtures.py`), decoded
/// without Python.
@Suite("Captured RQ payloads")
struct RQFixtureTests {
    struct Fixture {
        var name: String
        var id: String
        var serializer: RQSerializer
        var hash: [String: [UInt8]]
        var results: [(String, [String: [UInt8]])]
        var expected: [String: Any]
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/rq")

    static func load() throws -> [Fixture] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            func decodeFields(_ raw: Any?) -> [String: [UInt8]] {
                ((raw as? [String: String]) ?? [:]).mapValues { Array(Data(base64Encoded: $0) ?? Data()) }
            }
            let results = ((object["results"] as? [[String: Any]]) ?? []).map { entry in
                ((entry["id"] as? String) ?? "", decodeFields(entry["fields"]))
            }
            return Fixture(
                name: name, id: object["id"] as? String ?? "",
                serializer: RQSerializer(rawValue: object["serializer"] as? String ?? "pickle") ?? .pickle,
                hash: decodeFields(object["hash"]), results: results,
                expected: object["expected"] as? [String: Any] ?? [:]
            )
        }
    }

    /// The expected tagged-JSON value re-encoded as text, to compare with ``TaggedJSON``. Dict
    /// entries are sorted (Foundation's JSON round trip does not keep key order); compare with
    /// ``normalized(_:)`` values.
    static func tagged(_ value: Any?) throws -> PythonValue {
        let data = try JSONSerialization.data(withJSONObject: value ?? NSNull(), options: [.fragmentsAllowed])
        return normalized(try TaggedJSON.decode(String(decoding: data, as: UTF8.self)))
    }

    /// `value` with every dict's entries sorted by the key's repr, recursively.
    static func normalized(_ value: PythonValue) -> PythonValue {
        switch value {
        case .dict(let entries):
            return .dict(entries.map { PythonDictEntry(normalized($0.key), normalized($0.value)) }
                .sorted { PythonRepr.repr($0.key) < PythonRepr.repr($1.key) })
        case .list(let items): return .list(items.map(normalized))
        case .tuple(let items): return .tuple(items.map(normalized))
        default: return value
        }
    }

    @Test func fixturesArePresent() throws {
        #expect(try Self.load().count >= 8)
    }

    @Test func jobHashesDecodeToPythonsView() throws {
        for fixture in try Self.load() {
            let job = try RQJob(id: fixture.id, hash: fixture.hash, serializer: fixture.serializer)
            let expected = fixture.expected
            #expect(job.call.functionName == expected["func_name"] as? String, "\(fixture.name)")
            #expect(Self.normalized(.list(job.call.args)) == (try Self.tagged(expected["args"])), "\(fixture.name)")
            let kwargs = PythonValue.dict(job.call.kwargs.map { PythonDictEntry(.string($0.0), $0.1) })
            #expect(Self.normalized(kwargs) == (try Self.tagged(expected["kwargs"])), "\(fixture.name)")
            #expect(Self.normalized(.dict(job.meta)) == (try Self.tagged(expected["meta"])), "\(fixture.name)")
            #expect(job.status.rawValue == expected["status"] as? String, "\(fixture.name)")
            #expect(job.description == expected["description"] as? String, "\(fixture.name)")
            #expect(job.origin == expected["origin"] as? String, "\(fixture.name)")
            #expect(job.timeout == expected["timeout"] as? Int, "\(fixture.name)")
            if let ttl = expected["ttl"] as? Int { #expect(job.ttl == ttl) }
            if let retries = expected["retries_left"] as? Int { #expect(job.retriesLeft == retries) }
            if let intervals = expected["retry_intervals"] as? [Int] { #expect(job.retryIntervals == intervals) }
            if let parents = expected["dependency_ids"] as? [String] { #expect(job.dependencyIDs == parents) }
            // Our description of the decoded call is the one Python computed (no explicit description).
            if fixture.name != "queued_options.json" {
                #expect(job.call.description == job.description, "\(fixture.name)")
            }
        }
    }

    @Test func reencodedHashesDecodeToTheSameJob() throws {
        for fixture in try Self.load() {
            let job = try RQJob(id: fixture.id, hash: fixture.hash, serializer: fixture.serializer)
            let fields = try job.hashFields(serializer: fixture.serializer)
            let again = try RQJob(id: fixture.id, hash: Dictionary(fields, uniquingKeysWith: { $1 }), serializer: fixture.serializer)
            #expect(again.call == job.call, "\(fixture.name)")
            #expect(again.meta == job.meta)
            #expect(again.createdAt == job.createdAt && again.enqueuedAt == job.enqueuedAt)
            #expect(again.status == job.status && again.timeout == job.timeout && again.retryIntervals == job.retryIntervals)
            // Python writes these as strings byte for byte: our encoder must too.
            for name in ["created_at", "enqueued_at", "started_at", "ended_at", "status", "origin", "timeout", "description", "retry_intervals"] {
                if let original = fixture.hash[name] {
                    #expect(fields.first { $0.0 == name }?.1 == original, "\(fixture.name) field \(name)")
                }
            }
        }
    }

    @Test func resultEntriesDecode() throws {
        var checked = 0
        for fixture in try Self.load() {
            guard let kind = fixture.expected["result_type"] as? Int else { continue }
            let (entryID, fields) = try #require(fixture.results.last)
            let result = try RQResult(entryID: entryID, fields: fields, serializer: fixture.serializer)
            #expect(result.kind.rawValue == kind)
            #expect(!result.workerName.isEmpty)
            #expect(result.executionID?.count == 32)
            #expect(result.executionStartedAt != nil)
            if kind == 1 {
                let expected = fixture.expected["return_value"]
                if expected is NSNull || expected == nil {
                    #expect(result.returnValue == nil)
                } else {
                    #expect(result.returnValue.map(Self.normalized) == (try Self.tagged(expected)))
                }
            } else {
                let needle = try #require(fixture.expected["exc_contains"] as? String)
                #expect(result.exceptionText?.contains(needle) == true)
            }
            checked += 1
        }
        #expect(checked == 3)
    }

    @Test func timestampsFollowRQsFormat() throws {
        let date = try #require(WireTime.parse("2026-11-29T00:48:12.023616Z"))
        #expect(WireTime.format(date) == "2026-11-29T00:48:12.023616Z")
        #expect(WireTime.parse("2026-11-29T00:48:12Z") != nil)
        #expect(WireTime.parse("2026-11-29T00:48:12.5Z").map(WireTime.format) == "2026-11-29T00:48:12.500000Z")
        for bad in ["2026-11-29 00:48:12.023616Z", "2026-11-29T00:48:12.023616", "2026-11-29T00:48:12+00:00", "2026-11-29T00:48:12.0236161Z", ""] {
            #expect(WireTime.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func jobIDsAreValidatedLikeRQ() {
        #expect(RQJob.isValidID("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"))
        #expect(RQJob.isValidID("my_custom-id_1"))
        for bad in ["", "has:colon", "space id", "ünïcode", "slash/id"] { #expect(!RQJob.isValidID(bad), "\(bad)") }
    }

    @Test func keyPrefixValidation() throws {
        #expect(try RQKeys(prefix: "{rq}").job("x") == "{rq}:job:x")
        #expect(RQKeys.default.dependencies("abc") == "rq:job::abc:dependencies")
        #expect(throws: RQKeys.InvalidPrefix.self) { try RQKeys(prefix: "") }
        #expect(throws: RQKeys.InvalidPrefix.self) { try RQKeys(prefix: "bad prefix") }
    }

    @Test func malformedHashesAreTypedErrors() throws {
        let fixture = try #require(try Self.load().first { $0.name == "queued_seed_call.json" })
        var noData = fixture.hash
        noData["data"] = nil
        #expect { try RQJob(id: "x", hash: noData, serializer: .pickle) } throws: { ($0 as? RQError)?.code == .malformedJob }
        var badStatus = fixture.hash
        badStatus["status"] = Array("bogus".utf8)
        #expect { try RQJob(id: "x", hash: badStatus, serializer: .pickle) } throws: { ($0 as? RQError)?.code == .malformedJob }
        var badTime = fixture.hash
        badTime["created_at"] = Array("2026-11-29 00:00:00".utf8)
        #expect { try RQJob(id: "x", hash: badTime, serializer: .pickle) } throws: { ($0 as? RQError)?.code == .malformedJob }
        var badData = fixture.hash
        badData["data"] = [0x78, 0x9c, 1, 2, 3]
        #expect { try RQJob(id: "x", hash: badData, serializer: .pickle) } throws: { ($0 as? RQError)?.code == .deserialization }
        var badMeta = fixture.hash
        badMeta["meta"] = [1, 2, 3]
        let degraded = try RQJob(id: "x", hash: badMeta, serializer: .pickle)
        #expect(degraded.metaDictionary["unserialized"] == .bytes([1, 2, 3]))
    }
}
