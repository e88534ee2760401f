import ClientSupport
import ArgumentParser
import Foundation
import FuzzSupport
import Pickle
import RQ
import Zlib

/// `bench fuzz`: the long version of the decoder fuzz tests — millions of random and mutated inputs
/// derived from the captured fixtures, for pickle, zlib, RQ job hashes, result entries and JSON.
struct FuzzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Fuzz the decoders for a number of iterations (the CI tests run a shorter version)."
    )

    @Option(help: "Inputs per decoder.") var iterations = 1_000_000
    @Option(help: "PRNG seed (printed; reuse it to reproduce).") var seed: UInt64 = UInt64.random(in: 0...UInt64.max)
    @Option(help: "Folder with Fixtures/ (the repository root).") var root = "."

    func run() async throws {
        var random = SplitMix64(seed: seed)
        let fixtureDirectory = URL(fileURLWithPath: root).appendingPathComponent("Fixtures")
        let pickles = try files(fixtureDirectory.appendingPathComponent("pickle"), suffix: ".pickle")
        let hashes = try loadHashes(fixtureDirectory.appendingPathComponent("rq"))
        guard !pickles.isEmpty, !hashes.isEmpty else { throw ValidationError("no fixtures under \(fixtureDirectory.path)") }
        print("fuzzing with seed \(seed), \(iterations) inputs per decoder")
        let clock = ContinuousClock()

        var start = clock.now
        var refused = 0
        for _ in 0..<iterations {
            let input = mutate(pickles[Int(random.next() % UInt64(pickles.count))], &random)
            do { _ = try PickleDecoder.decode(input, limits: PickleLimits(maximumDepth: 64, maximumLength: 1 << 20)) } catch { refused += 1 }
        }
        report("pickle", refused, clock.now - start)

        start = clock.now
        refused = 0
        let compressed = pickles.compactMap { try? Zlib.compress($0) }
        for _ in 0..<iterations {
            let input = mutate(compressed[Int(random.next() % UInt64(compressed.count))], &random)
            do { _ = try Zlib.decompress(input, maximumSize: 1 << 20) } catch { refused += 1 }
        }
        report("zlib", refused, clock.now - start)

        start = clock.now
        refused = 0
        for _ in 0..<iterations {
            let (id, serializer, original) = hashes[Int(random.next() % UInt64(hashes.count))]
            var hash = original
            let names = Array(hash.keys)
            let field = names[Int(random.next() % UInt64(names.count))]
            hash[field] = mutate(hash[field] ?? [], &random)
            do { _ = try RQJob(id: id, hash: hash, serializer: serializer) } catch { refused += 1 }
        }
        report("job hash", refused, clock.now - start)

        start = clock.now
        refused = 0
        for _ in 0..<iterations {
            var fields: [String: [UInt8]] = ["type": [UInt8(ascii: "1") + UInt8(random.next() % 6)], "worker_name": Array("w".utf8)]
            let raw = mutate(pickles[Int(random.next() % UInt64(pickles.count))], &random)
            fields["return_value"] = random.next() % 4 == 0 ? mutate(Array(Data(raw).base64EncodedString().utf8), &random) : Array(Data(raw).base64EncodedString().utf8)
            fields["exc_string"] = mutate(Array(Data((try? Zlib.compress(raw)) ?? raw).base64EncodedString().utf8), &random)
            do { _ = try RQResult(entryID: "1-0", fields: fields, serializer: .pickle) } catch { refused += 1 }
        }
        report("result entry", refused, clock.now - start)

        start = clock.now
        refused = 0
        let jsons = try files(fixtureDirectory.appendingPathComponent("pickle"), suffix: ".json")
        for _ in 0..<iterations {
            let input = mutate(jsons[Int(random.next() % UInt64(jsons.count))], &random)
            do { _ = try PythonJSON.decode(input) } catch { refused += 1 }
        }
        report("json", refused, clock.now - start)
        print("no crash, no hang: every refused input was a typed error")
    }

    private func report(_ name: String, _ refused: Int, _ elapsed: Duration) {
        print("\(pad(name, 14)) \(iterations) inputs, \(refused) refused with typed errors, \(String(format: "%.1f", elapsed.seconds)) s")
    }

    private func files(_ directory: URL, suffix: String) throws -> [[UInt8]] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(suffix) }.sorted().map {
            Array(try Data(contentsOf: directory.appendingPathComponent($0)))
        }
    }

    private func loadHashes(_ directory: URL) throws -> [(String, RQSerializer, [String: [UInt8]])] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let id = object["id"] as? String, let hash = object["hash"] as? [String: String] else { return nil }
            let serializer = RQSerializer(rawValue: object["serializer"] as? String ?? "pickle") ?? .pickle
            return (id, serializer, hash.mapValues { Array(Data(base64Encoded: $0) ?? Data()) })
        }
    }

    private func mutate(_ input: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        ByteMutator.mutate(input, &random)
    }
}
