import Foundation
import Pickle

/// A JSON spelling of ``PythonValue`` that keeps every Python type apart, for command-line tools,
/// debugging endpoints and the Python compat suite (which has the same mapping in
/// `compat/rqcompat/tagged.py`).
///
/// JSON `null`, booleans, strings and integers map to themselves; a JSON object with str keys is a
/// dict. Everything else is a one-key object: `{"$float": "nan" | "inf" | "-inf" | "-0.0" | "1.5"}`
/// (all floats use this form, so `1.0` stays a float), `{"$int": "<decimal>"}` for integers beyond
/// 64 bits, `{"$bytes": "<base64>"}`, `{"$bytearray": "<base64>"}`, `{"$tuple": [...]}`,
/// `{"$set": [...]}`, `{"$frozenset": [...]}`, `{"$dict": [[key, value], ...]}` (non-str keys), and
/// `{"$list": [...]}` (also accepted as a plain JSON array).
public enum TaggedJSON {
    /// Renders `value` as tagged JSON text.
    public static func encode(_ value: PythonValue) -> String {
        switch value {
        case .none: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .bigInt(let number): return tagged("$int", quote(number.description))
        case .float(let number):
            let text: String
            if number.isNaN { text = "nan" } else if number == .infinity { text = "inf" } else if number == -.infinity { text = "-inf" }
            else { text = PythonRepr.repr(.float(number)) }
            return tagged("$float", quote(text))
        case .string(let text): return quote(text)
        case .bytes(let bytes): return tagged("$bytes", quote(Data(bytes).base64EncodedString()))
        case .bytearray(let bytes): return tagged("$bytearray", quote(Data(bytes).base64EncodedString()))
        case .list(let items): return "[" + items.map(encode).joined(separator: ", ") + "]"
        case .tuple(let items): return tagged("$tuple", "[" + items.map(encode).joined(separator: ", ") + "]")
        case .set(let items): return tagged("$set", "[" + items.map(encode).joined(separator: ", ") + "]")
        case .frozenset(let items): return tagged("$frozenset", "[" + items.map(encode).joined(separator: ", ") + "]")
        case .dict(let entries):
            if entries.allSatisfy({ $0.key.stringValue != nil }) && !(entries.count == 1 && entries[0].key.stringValue?.hasPrefix("$") == true) {
                return "{" + entries.map { "\(quote($0.key.stringValue ?? "")): \(encode($0.value))" }.joined(separator: ", ") + "}"
            }
            return tagged("$dict", "[" + entries.map { "[\(encode($0.key)), \(encode($0.value))]" }.joined(separator: ", ") + "]")
        }
    }

    /// Parses tagged JSON text.
    public static func decode(_ text: String) throws(RQError) -> PythonValue {
        let raw: PythonValue
        do {
            raw = try PythonJSON.decode(Array(text.utf8))
        } catch {
            throw RQError(.invalidArgument, "not valid JSON: \(error)")
        }
        return try interpret(raw)
    }

    private static func interpret(_ value: PythonValue) throws(RQError) -> PythonValue {
        switch value {
        case .list(let items):
            var result: [PythonValue] = []
            for item in items { result.append(try interpret(item)) }
            return .list(result)
        case .float(let number):
            return .float(number)
        case .dict(let entries):
            if entries.count == 1, let tag = entries[0].key.stringValue, tag.hasPrefix("$") {
                return try interpretTag(tag, entries[0].value)
            }
            var result: [PythonDictEntry] = []
            for entry in entries { result.append(PythonDictEntry(entry.key, try interpret(entry.value))) }
            return .dict(result)
        default:
            return value
        }
    }

    private static func interpretTag(_ tag: String, _ payload: PythonValue) throws(RQError) -> PythonValue {
        func items() throws(RQError) -> [PythonValue] {
            guard case .list(let raw) = payload else { throw RQError(.invalidArgument, "\(tag) needs a JSON array") }
            var result: [PythonValue] = []
            for item in raw { result.append(try interpret(item)) }
            return result
        }
        func base64() throws(RQError) -> [UInt8] {
            guard let text = payload.stringValue, let data = Data(base64Encoded: text) else {
                throw RQError(.invalidArgument, "\(tag) needs base64 text")
            }
            return Array(data)
        }
        switch tag {
        case "$float":
            guard let text = payload.stringValue else { throw RQError(.invalidArgument, "$float needs a string") }
            switch text {
            case "nan": return .float(.nan)
            case "inf": return .float(.infinity)
            case "-inf": return .float(-.infinity)
            default:
                guard let number = Double(text) else { throw RQError(.invalidArgument, "$float '\(text)' is not a number") }
                return .float(number)
            }
        case "$int":
            guard let text = payload.stringValue, let big = PythonBigInt(decimal: text) else {
                throw RQError(.invalidArgument, "$int needs a decimal string")
            }
            if let small = big.int64 { return .int(Int(small)) }
            return .bigInt(big)
        case "$bytes": return .bytes(try base64())
        case "$bytearray": return .bytearray(try base64())
        case "$tuple": return .tuple(try items())
        case "$list": return .list(try items())
        case "$set": return .set(try items())
        case "$frozenset": return .frozenset(try items())
        case "$dict":
            var entries: [PythonDictEntry] = []
            for pair in try items() {
                guard let parts = pair.arrayValue, parts.count == 2 else { throw RQError(.invalidArgument, "$dict needs [key, value] pairs") }
                entries.append(PythonDictEntry(parts[0], parts[1]))
            }
            return .dict(entries)
        default:
            throw RQError(.invalidArgument, "unknown tag \(tag)")
        }
    }

    private static func tagged(_ tag: String, _ body: String) -> String { "{\"\(tag)\": \(body)}" }

    /// A JSON string literal (non-ASCII kept as UTF-8; control characters escaped).
    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    result += String(format: "\\u%04x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
