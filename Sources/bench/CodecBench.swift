import ClientSupport
import ArgumentParser
import Foundation
import Pickle
import ProcessSupport
import RQ
import Zlib

/// `bench codec`: decode + encode of a typical RQ `data` payload (zlib + pickle 5), ours vs CPython's
/// `zlib` + `pickle` on the same bytes in the same run.
struct CodecBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "RQ payload codec (zlib + pickle) ops/s vs CPython pickle/zlib on the same bytes."
    )

    @Option(help: "Iterations per measurement.") var iterations = 50_000
    @Option(help: "Alternating rounds; medians are reported.") var rounds = 3

    /// The résumé job's call as the API enqueues it, plus a larger kwargs-heavy call.
    static let payloads: [(String, RQCall)] = [
        ("resume job (2 uuids)", RQCall(
            "app.workers.async_resume_processor.process_resume_async",
            args: ["a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "7f3e9a2c-1b4d-4e6f-9a8b-2c3d4e5f6a7b"])),
        ("rich call (nested kwargs)", RQCall(
            "resume_processor.jobs.echo",
            args: [.string(String(repeating: "résumé text ", count: 40)), .int(2_147_483_648), .float(0.25)],
            kwargs: [("meta", .dict((0..<20).map { PythonDictEntry(.string("key\($0)"), .list([.int($0), .string("v\($0)"), .bool($0 % 2 == 0)])) })),
                     ("tags", .list((0..<30).map { .string("tag-\($0)") }))])),
    ]

    func run() async throws {
        print("Codec benchmark: decode (zlib inflate + unpickle) and encode (pickle + zlib deflate) of RQ `data`, \(iterations) iterations, \(rounds) rounds (medians)")
        print("")
        print(pad("payload", 28) + pad("op", 8) + pad("ours ops/s", 14) + pad("CPython ops/s", 15) + "ratio")
        for (name, call) in Self.payloads {
            let data = try call.data(serializer: .pickle)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("codec-\(UUID().uuidString).bin").path
            _ = FileManager.default.createFile(atPath: path, contents: Data(data))
            defer { try? FileManager.default.removeItem(atPath: path) }
            var oursDecode: [Double] = [], oursEncode: [Double] = [], pyDecode: [Double] = [], pyEncode: [Double] = []
            for _ in 0..<rounds {
                let (decodeRate, encodeRate) = try Self.python(path: path, iterations: iterations)
                pyDecode.append(decodeRate)
                pyEncode.append(encodeRate)
                oursDecode.append(try Self.rate(iterations) { _ = try RQCall(data: data, serializer: .pickle) })
                oursEncode.append(try Self.rate(iterations) { _ = try call.data(serializer: .pickle) })
            }
            for (op, ours, theirs) in [("decode", median(oursDecode), median(pyDecode)), ("encode", median(oursEncode), median(pyEncode))] {
                print(pad(name, 28) + pad(op, 8) + pad(format(ours), 14) + pad(format(theirs), 15) + String(format: "%.2f", ours / theirs))
            }
        }
    }

    static func rate(_ iterations: Int, _ body: () throws -> Void) throws -> Double {
        for _ in 0..<min(1000, iterations) { try body() }
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<iterations { try body() }
        return Double(iterations) / (clock.now - start).seconds
    }

    /// CPython's own figures on the same bytes: `zlib.decompress` + `pickle.loads`, and
    /// `pickle.dumps(protocol=5)` + `zlib.compress`, with `timeit`.
    static func python(path: String, iterations: Int) throws -> (Double, Double) {
        let script = """
            import pickle, sys, timeit, zlib
            data = open(sys.argv[1], 'rb').read()
            value = pickle.loads(zlib.decompress(data))
            n = int(sys.argv[2])
            d = timeit.timeit(lambda: pickle.loads(zlib.decompress(data)), number=n)
            e = timeit.timeit(lambda: zlib.compress(pickle.dumps(value, protocol=5)), number=n)
            print(n / d, n / e)
            """
        let output = try runProcess("python3", ["-c", script, path, String(iterations)])
        let numbers = output.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard numbers.count == 2 else { throw ValidationError("unexpected python output: \(output)") }
        return (numbers[0], numbers[1])
    }
}
