import Foundation
import FuzzSupport
import Pickle
import RQ
import Testing
import Zlib

/// Mutated job hashes and result entries, derived from the captured fixtures: every input must
/// decode or fail with a typed error, never crash or hang.
@Suite("RQ decoder fuzzing")
struct RQFuzzTests {
    static func mutate(_ input: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        ByteMutator.mutate(input, &random)
    }

    @Test func mutatedHashesNeverCrash() throws {
        let fixtures = try RQFixtureTests.load()
        let seed: UInt64 = 0x5eed_1234
        var random = SplitMix64(seed: seed)
        var decoded = 0, refused = 0
        let fieldNames = ["data", "meta", "status", "created_at", "timeout", "retry_intervals", "dependency_ids", "enqueued_at"]
        for _ in 0..<100_000 {
            let fixture = fixtures[Int(random.next() % UInt64(fixtures.count))]
            var hash = fixture.hash
            let field = fieldNames[Int(random.next() % UInt64(fieldNames.count))]
            if field == "data" || field == "meta", let raw = hash[field] {
                // Mutate inside the zlib layer half of the time, so the pickle decoder sees the damage.
                if random.next() % 2 == 0, let inner = try? Zlib.decompress(raw) {
                    hash[field] = (try? Zlib.compress(Self.mutate(inner, &random))) ?? raw
                } else {
                    hash[field] = Self.mutate(raw, &random)
                }
            } else {
                hash[field] = Self.mutate(hash[field] ?? [], &random)
            }
            do {
                _ = try RQJob(id: fixture.id, hash: hash, serializer: fixture.serializer)
                decoded += 1
            } catch {
                // `RQJob.init` throws only `RQError` (typed throws): reaching here is the typed error.
                _ = error.code
                refused += 1
            }
        }
        #expect(decoded + refused == 100_000)
        #expect(refused > 0)
    }

    @Test func mutatedResultEntriesNeverCrash() throws {
        let entries = try RQFixtureTests.load().flatMap { fixture in fixture.results.map { (fixture.serializer, $0.1) } }
        var random = SplitMix64(seed: 0xfeed)
        for _ in 0..<20_000 {
            let (serializer, original) = entries[Int(random.next() % UInt64(entries.count))]
            var fields = original
            let name = ["type", "return_value", "exc_string", "execution_started_at"][Int(random.next() % 4)]
            fields[name] = Self.mutate(fields[name] ?? [], &random)
            do {
                _ = try RQResult(entryID: "1-0", fields: fields, serializer: serializer)
            } catch {
                _ = error.code  // typed throws: always an RQError
            }
        }
    }
}
