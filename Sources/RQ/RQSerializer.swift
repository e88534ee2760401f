import Pickle
import Zlib

/// How RQ turns values into bytes: Python's pickle (protocol 5, RQ's default) or RQ's
/// `JSONSerializer` (`rq worker -S rq.serializers.JSONSerializer`). Nothing in Redis records which
/// one wrote a value, so every party on a queue must agree.
public enum RQSerializer: String, Sendable, Hashable, CaseIterable {
    /// `pickle.dumps(value, protocol=5)` / `pickle.loads`.
    case pickle
    /// `json.dumps(value).encode()` / `json.loads`.
    case json

    /// Serializes `value`.
    public func dumps(_ value: PythonValue) throws(RQError) -> [UInt8] {
        switch self {
        case .pickle:
            return PickleEncoder.encode(value)
        case .json:
            do {
                return try PythonJSON.encode(value)
            } catch {
                throw RQError(.serialization, "not representable in JSON: \(error)")
            }
        }
    }

    /// Deserializes bytes written by Python (or by ``dumps(_:)``).
    public func loads(_ bytes: [UInt8]) throws(RQError) -> PythonValue {
        switch self {
        case .pickle:
            do {
                return try PickleDecoder.decode(bytes)
            } catch {
                throw RQError(.deserialization, "pickle: \(error)")
            }
        case .json:
            do {
                return try PythonJSON.decode(bytes)
            } catch {
                throw RQError(.deserialization, "json: \(error)")
            }
        }
    }
}

/// A job's call: the function's dotted name and its arguments (`docs/rq-wire.md`, "The call").
public struct RQCall: Sendable, Hashable {
    /// Dotted import path, e.g. `app.workers.async_resume_processor.process_resume_async`.
    public var functionName: String
    /// Positional arguments.
    public var args: [PythonValue]
    /// Keyword arguments, in order.
    public var kwargs: [(String, PythonValue)]

    /// Creates a call.
    public init(_ functionName: String, args: [PythonValue] = [], kwargs: [(String, PythonValue)] = []) {
        self.functionName = functionName
        self.args = args
        self.kwargs = kwargs
    }

    public static func == (lhs: RQCall, rhs: RQCall) -> Bool {
        lhs.functionName == rhs.functionName && lhs.args == rhs.args
            && lhs.kwargs.map(\.0) == rhs.kwargs.map(\.0) && lhs.kwargs.map(\.1) == rhs.kwargs.map(\.1)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(functionName)
        hasher.combine(args)
        for (key, value) in kwargs {
            hasher.combine(key)
            hasher.combine(value)
        }
    }

    /// The `data` field: `zlib(serializer((func_name, None, args, kwargs)))`.
    public func data(serializer: RQSerializer) throws(RQError) -> [UInt8] {
        let kwargsValue = PythonValue.dict(kwargs.map { PythonDictEntry(.string($0.0), $0.1) })
        let tuple: PythonValue = serializer == .json
            ? .list([.string(functionName), .none, .list(args), kwargsValue])
            : .tuple([.string(functionName), .none, .tuple(args), kwargsValue])
        do {
            return try Zlib.compress(try serializer.dumps(tuple))
        } catch let error as RQError {
            throw error
        } catch {
            throw RQError(.serialization, "zlib: \(error)")
        }
    }

    /// Decodes a `data` field. Like RQ, uncompressed data is accepted when zlib fails.
    public init(data: [UInt8], serializer: RQSerializer) throws(RQError) {
        let raw: [UInt8]
        do {
            raw = try Zlib.decompress(data)
        } catch {
            raw = data
        }
        let value = try serializer.loads(raw)
        guard let parts = value.arrayValue, parts.count == 4 else {
            throw RQError(.deserialization, "data is not a (func_name, instance, args, kwargs) tuple")
        }
        guard let name = parts[0].stringValue else {
            throw RQError(.deserialization, "data's func_name is not a str")
        }
        guard case .none = parts[1] else {
            throw RQError(.deserialization, "jobs on instance methods are not supported (instance is not None)")
        }
        guard let args = parts[2].arrayValue else {
            throw RQError(.deserialization, "data's args is neither a tuple nor a list")
        }
        guard let entries = parts[3].dictEntries else {
            throw RQError(.deserialization, "data's kwargs is not a dict")
        }
        var kwargs: [(String, PythonValue)] = []
        for entry in entries {
            guard let key = entry.key.stringValue else { throw RQError(.deserialization, "a kwargs key is not a str") }
            kwargs.append((key, entry.value))
        }
        self.init(name, args: args, kwargs: kwargs)
    }

    /// RQ's default `description`: `func(repr(arg), …, k=repr(v), …)`, each repr cut to 75
    /// characters plus `...`, keyword parts sorted as whole strings (`docs/rq-wire.md`, "Description").
    public var description: String {
        func cut(_ text: String) -> String {
            let scalars = text.unicodeScalars
            guard scalars.count > 75 else { return text }
            var result = String.UnicodeScalarView()
            result.append(contentsOf: scalars.prefix(75))
            return String(result) + "..."
        }
        let positional = args.map { cut(PythonRepr.repr($0)) }
        let keywords = kwargs.map { "\($0.0)=\(cut(PythonRepr.repr($0.1)))" }.sorted { pythonLess($0, $1) }
        return "\(functionName)(\((positional + keywords).joined(separator: ", ")))"
    }
}

/// Python string ordering: by code point.
func pythonLess(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
}
