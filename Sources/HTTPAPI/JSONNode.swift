/// A JSON value as it goes over the wire, object members in order. ``OrderedJSONEncoder`` builds
/// one from a typed response and ``JSONRequestReader`` parses one from a request body; handlers and
/// their request and response types never see it.
indirect enum JSONNode: Sendable {
    /// `null`.
    case null
    /// `true`/`false`.
    case bool(Bool)
    /// A number, as its JSON text (`42`, `0.5`, `1e+20`).
    case number(String)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONNode])
    /// An object, members in the given order.
    case object([(String, JSONNode)])
    /// Already-encoded JSON text, written verbatim (e.g. Python-exact JSON of a job result).
    case raw([UInt8])

    /// A `Double` as the API has always written it (Swift's shortest round-trip text, so `3.0`
    /// and `1e+20`); `null` when not finite.
    static func double(_ value: Double) -> JSONNode { value.isFinite ? .number("\(value)") : .null }

    /// The UTF-8 JSON text: no whitespace, `/` and non-ASCII characters as they are, `"`, `\`,
    /// LF, CR and TAB as two-character escapes and other C0 controls and DEL as `\u00XX`.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let value): out += (value ? "true" : "false").utf8
        case .number(let text): out += text.utf8
        case .string(let value): Self.writeString(value, into: &out)
        case .raw(let value): out += value
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func writeString(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [92, 34]
            case UInt8(ascii: "\\"): out += [92, 92]
            case 0x0A: out += [92, UInt8(ascii: "n")]
            case 0x0D: out += [92, UInt8(ascii: "r")]
            case 0x09: out += [92, UInt8(ascii: "t")]
            case 0..<0x20, 0x7F:
                out += [92, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
