import Foundation
import Pickle
import ProcessSupport
import Testing

/// The pickles CPython wrote into `Fixtures/pickle` (see `compat/generate_pickle_fixtures.py`).
struct PickleFixture: Sendable, CustomStringConvertible {
    /// File name without extension, e.g. `rq_call_p5`.
    var name: String
    var pickle: [UInt8]
    /// `repr(value)` from Python (nil for refused and cyclic fixtures).
    var repr: String?
    /// `json.dumps(value)`, when the value is JSON-able.
    var json: [UInt8]?
    /// `repr(json.loads(json.dumps(value)))`.
    var jsonRepr: String?
    /// For `refused_*`: the first opcode the decoder must refuse and its offset.
    var refusedOpcode: String?
    var refusedOffset: Int?

    var description: String { name }
    var isRefused: Bool { name.hasPrefix("refused_") }
    var isCyclic: Bool { name.hasPrefix("cyclic_") }
    var isValue: Bool { !isRefused && !isCyclic }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/pickle")

    /// Every fixture, sorted by name (loaded once).
    static let all: [PickleFixture] = load()

    /// Fixtures that decode to a value.
    static var values: [PickleFixture] { all.filter(\.isValue) }

    private static func load() -> [PickleFixture] {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory.path) else { return [] }
        func bytes(_ file: String) -> [UInt8]? {
            (try? Data(contentsOf: directory.appendingPathComponent(file))).map { Array($0) }
        }
        func text(_ file: String) -> String? {
            bytes(file).map { String(decoding: $0, as: UTF8.self) }
        }
        return names.filter { $0.hasSuffix(".pickle") }.sorted().compactMap { file in
            let name = String(file.dropLast(".pickle".count))
            guard let pickle = bytes(file) else { return nil }
            var fixture = PickleFixture(name: name, pickle: pickle)
            fixture.repr = text(name + ".repr")
            fixture.json = bytes(name + ".json")
            fixture.jsonRepr = text(name + ".jsonrepr")
            if let expected = text(name + ".expected") {
                let parts = expected.split(whereSeparator: { $0 == " " || $0 == "\n" })
                fixture.refusedOpcode = parts.first.map(String.init)
                fixture.refusedOffset = parts.dropFirst().first.flatMap { Int($0) }
            }
            return fixture
        }
    }
}

/// Runs CPython (with a fixed string-hash seed, as the fixture generator does).
enum Python {
    /// Whether `python3` is on PATH.
    static let isAvailable: Bool = (try? ChildProcess.resolve("python3")) != nil

    /// Runs `python3 -c script arguments...` and returns its standard output; fails the test on a
    /// non-zero exit status.
    static func run(_ script: String, _ arguments: [String] = []) throws -> String {
        let result = try ChildProcess.run("env", ["PYTHONHASHSEED=0", "python3", "-c", script] + arguments)
        try #require(result.status == 0, "python3 exited with status \(result.status)")
        return result.output
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pickle-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
