import ClientSupport
import ArgumentParser
import Foundation
import FuzzSupport
import FuzzTargets
import HTTPAPI
import Pickle
import RQ
import Zlib

/// `bench fuzz`: the long version of the decoder fuzz tests — millions of random and mutated inputs
/// derived from the captured fixtures, for pickle, zlib, RQ job hashes, result entries and JSON, and
/// the upload form reader (mutated forms; the form guard against MultipartKit, differentially).
struct FuzzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Fuzz the decoders for a number of iterations (the CI tests run a shorter version)."
    )

    @Option(help: "Inputs per target (at most).") var iterations = 1_000_000
    @Option(help: "Time budget in seconds for all targets together, shared equally (0: no budget, run every iteration).")
    var seconds: Double = 0
    @Option(help: "PRNG seed (printed; reuse it to reproduce).") var seed: UInt64 = UInt64.random(in: 0...UInt64.max)
    @Option(help: "Folder with Fixtures/ (the repository root).") var root = "."

    /// Fuzz targets, in order; each returns whether the input was refused with a typed error.
    private static let targetNames = ["pickle", "zlib", "job hash", "job fields", "result entry", "json", "multipart", "form guard", "sigv4"]

    func run() async throws {
        var random = SplitMix64(seed: seed)
        let fixtureDirectory = URL(fileURLWithPath: root).appendingPathComponent("Fixtures")
        let pickles = try files(fixtureDirectory.appendingPathComponent("pickle"), suffix: ".pickle")
        let hashes = try loadHashes(fixtureDirectory.appendingPathComponent("rq"))
        let jsons = try files(fixtureDirectory.appendingPathComponent("pickle"), suffix: ".json")
        guard !pickles.isEmpty, !hashes.isEmpty, !jsons.isEmpty else { throw ValidationError("no fixtures under \(fixtureDirectory.path)") }
        let compressed = pickles.compactMap { try? Zlib.compress($0) }
        let forms = MultipartSeeds.bodies()
        let overflowBase = try JobFieldOverflow.baseHash()
        let budget: Duration? = seconds > 0 ? .milliseconds(Int64(seconds * 1000 / Double(Self.targetNames.count))) : nil
        print("fuzzing with seed \(seed), at most \(iterations) inputs per target\(budget.map { ", \(String(format: "%.1f", $0.seconds)) s each" } ?? "")")
        var total = 0

        for name in Self.targetNames {
            let clock = ContinuousClock()
            let start = clock.now
            var refused = 0
            var inputs = 0
            while inputs < iterations {
                // Check the clock every 256 inputs only: reading it costs more than most inputs.
                if let budget, inputs % 256 == 0, clock.now - start >= budget { break }
                inputs += 1
                switch name {
                case "pickle":
                    let input = mutate(pickles[Int(random.next() % UInt64(pickles.count))], &random)
                    do { _ = try PickleDecoder.decode(input, limits: PickleLimits(maximumDepth: 64, maximumLength: 1 << 20)) } catch { refused += 1 }
                case "zlib":
                    let input = mutate(compressed[Int(random.next() % UInt64(compressed.count))], &random)
                    do { _ = try Zlib.decompress(input, maximumSize: 1 << 20) } catch { refused += 1 }
                case "job hash":
                    let (id, serializer, original) = hashes[Int(random.next() % UInt64(hashes.count))]
                    var hash = original
                    let names = Array(hash.keys)
                    let field = names[Int(random.next() % UInt64(names.count))]
                    hash[field] = mutate(hash[field] ?? [], &random)
                    do { _ = try RQJob(id: id, hash: hash, serializer: serializer) } catch { refused += 1 }
                case "job fields":
                    // Numeric fields from overflow ranges: decoded, then every TTL/score computation run.
                    do {
                        let job = try RQJob(id: "fuzz", hash: JobFieldOverflow.hash(overflowBase, &random), serializer: .pickle)
                        try JobFieldOverflow.runComputations(job, now: Date())
                        if !job.fieldProblems.isEmpty { refused += 1 }
                    } catch { refused += 1 }
                case "result entry":
                    var fields: [String: [UInt8]] = ["type": [UInt8(ascii: "1") + UInt8(random.next() % 6)], "worker_name": Array("w".utf8)]
                    let raw = mutate(pickles[Int(random.next() % UInt64(pickles.count))], &random)
                    fields["return_value"] = random.next() % 4 == 0 ? mutate(Array(Data(raw).base64EncodedString().utf8), &random) : Array(Data(raw).base64EncodedString().utf8)
                    fields["exc_string"] = mutate(Array(Data((try? Zlib.compress(raw)) ?? raw).base64EncodedString().utf8), &random)
                    do { _ = try RQResult(entryID: "1-0", fields: fields, serializer: .pickle) } catch { refused += 1 }
                case "json":
                    let input = mutate(jsons[Int(random.next() % UInt64(jsons.count))], &random)
                    do { _ = try PythonJSON.decode(input) } catch { refused += 1 }
                case "multipart":
                    let (contentType, body) = forms[Int(random.next() % UInt64(forms.count))]
                    let mutatedType = random.next() % 8 == 0 ? String(decoding: mutate(Array(contentType.utf8), &random), as: UTF8.self) : contentType
                    let input = mutate(body, &random)
                    let chunk = 1 + Int(random.next() % 512)
                    do { _ = try UploadFormProbe.parse(contentType: mutatedType, body: input, chunkSize: chunk, limits: UploadLimits(maxFileBytes: 64 * 1024))
                    } catch { refused += 1 }
                case "form guard":
                    // The reader's model of MultipartKit must predict the parser exactly, with and
                    // without the plain-body shortcut (a wrong prediction could let a trap through).
                    let input = DelimiterInjection.randomForm(&random)
                    let chunk = 1 + Int(random.next() % 64)
                    func outcome(_ direct: Bool) -> Result<[UploadFormProbe.Part], UploadFormProbe.Refusal> {
                        Result { () throws(UploadFormProbe.Refusal) in
                            try UploadFormProbe.parse(contentType: DelimiterInjection.contentType, body: input, chunkSize: chunk, directBodies: direct)
                        }
                    }
                    let direct = outcome(true)
                    if direct == .failure(.inconsistent) || direct != outcome(false) {
                        throw ValidationError("form guard: the parser and its model disagree (seed \(seed), input \(inputs))")
                    }
                    if case .failure = direct { refused += 1 }
                default:
                    if !SigV4Fuzz.check(&random) { throw ValidationError("sigv4: signing is not deterministic or not well-formed (seed \(seed))") }
                }
            }
            total += inputs
            print("\(pad(name, 14)) \(inputs) inputs, \(refused) refused with typed errors, \(String(format: "%.1f", (clock.now - start).seconds)) s")
        }
        print("\(total) inputs: no crash, no hang: every refused input was a typed error")
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
