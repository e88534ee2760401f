import Foundation
import Timestamps

/// Encodes a typed response as JSON text with its keys in the order the value encodes them, which
/// for a synthesized `Encodable` conformance is the order the properties are declared in.
///
/// Foundation's `JSONEncoder` on Linux cannot be used for the API's answers: it writes an object's
/// keys in hash order (a different order from one run to the next; checked with swift 6.3.1),
/// leaves out `nil` optionals, escapes `/` and writes `3.0` as `3`. The API's responses are a byte
/// contract (tests and clients compare them), so this encoder fixes every choice:
///
/// - keys in encoding order; a key encoded twice keeps its first place and its last value;
/// - `nil` optionals as `null` (a type that leaves a key out says so in its own `encode(to:)`);
/// - `Date` as `ISOTimestamp.format(_:)` (`2026-11-29T05:40:00.123456Z`), `UUID` in lowercase;
/// - `Double`/`Float` as Swift writes them (`0.5`, `3.0`, `1e+20`), non-finite values as `null`;
/// - ``RawJSON`` verbatim; strings as ``JSONNode/bytes`` escapes them.
struct OrderedJSONEncoder: Sendable {
    /// The UTF-8 JSON text of `value`.
    func encode(_ value: some Encodable) throws -> [UInt8] {
        try node(value).bytes
    }

    /// The JSON tree of `value`.
    func node(_ value: some Encodable) throws -> JSONNode {
        try EncodingSlot.box(value, codingPath: []).node
    }
}

/// Where one encoded value goes: a finished value, an object or array still being filled, or a
/// nested encoder (`superEncoder`) that may still be written to.
private enum EncodingSlot {
    case value(JSONNode)
    case object(ObjectBuilder)
    case array(ArrayBuilder)
    case encoder(OrderedEncoding)

    var node: JSONNode {
        switch self {
        case .value(let node): node
        case .object(let object): .object(object.members.map { ($0.key, $0.slot.node) })
        case .array(let array): .array(array.items.map(\.node))
        case .encoder(let encoder): encoder.slot?.node ?? .object([])
        }
    }

    /// `value` encoded, with the fixed representations of the types the encoder knows.
    static func box(_ value: some Encodable, codingPath: [any CodingKey]) throws -> EncodingSlot {
        switch value {
        case let raw as RawJSON: return .value(.raw(raw.bytes))
        case let date as Date: return .value(.string(ISOTimestamp.format(date)))
        case let uuid as UUID: return .value(.string(uuid.uuidString.lowercased()))
        case let double as Double: return .value(.double(double))
        case let float as Float: return .value(.double(Double(float)))
        case let text as String: return .value(.string(text))
        default:
            let encoder = OrderedEncoding(codingPath: codingPath)
            try value.encode(to: encoder)
            return encoder.slot ?? .object(ObjectBuilder())
        }
    }
}

private final class ObjectBuilder {
    var members: [(key: String, slot: EncodingSlot)] = []

    func set(_ key: String, _ slot: EncodingSlot) {
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].slot = slot
        } else {
            members.append((key, slot))
        }
    }
}

private final class ArrayBuilder {
    var items: [EncodingSlot] = []
}

/// The `Encoder` handed to `encode(to:)`.
private final class OrderedEncoding: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var slot: EncodingSlot?

    init(codingPath: [any CodingKey]) {
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: ObjectBuilder
        if case .object(let existing)? = slot {
            object = existing
        } else {
            object = ObjectBuilder()
            slot = .object(object)
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: ArrayBuilder
        if case .array(let existing)? = slot {
            array = existing
        } else {
            array = ArrayBuilder()
            slot = .array(array)
        }
        return UnkeyedContainer(array: array, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(encoder: self)
    }
}

/// A key of an array position or of `super`.
private struct PlainKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: ObjectBuilder
    let codingPath: [any CodingKey]

    private func put(_ node: JSONNode, _ key: Key) { object.set(key.stringValue, .value(node)) }
    private func number(_ value: some BinaryInteger, _ key: Key) { put(.number(String(value)), key) }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(.double(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(.double(Double(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { number(value, key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { number(value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { number(value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { number(value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { number(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { number(value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { number(value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { number(value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { number(value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { number(value, key) }
    mutating func encode(_ value: some Encodable, forKey key: Key) throws {
        object.set(key.stringValue, try EncodingSlot.box(value, codingPath: codingPath + [key]))
    }

    // Synthesized conformances encode optionals with `encodeIfPresent`, whose default leaves the
    // key out; the API writes `null`.
    private mutating func optional(_ value: (some Encodable)?, _ key: Key) throws {
        if let value { try encode(value, forKey: key) } else { put(.null, key) }
    }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try optional(value, key) }
    mutating func encodeIfPresent(_ value: (some Encodable)?, forKey key: Key) throws { try optional(value, key) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBuilder()
        object.set(key.stringValue, .object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(object: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = ArrayBuilder()
        object.set(key.stringValue, .array(nested))
        return UnkeyedContainer(array: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: PlainKey(stringValue: "super")) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key) }

    private func superEncoder(named key: any CodingKey) -> any Encoder {
        let encoder = OrderedEncoding(codingPath: codingPath + [key])
        object.set(key.stringValue, .encoder(encoder))
        return encoder
    }
}

/// The primitive `encode` overloads both unkeyed and single-value containers need, written once:
/// each value becomes a node handed to ``put(_:)``.
private protocol NodeSink {
    func put(_ node: JSONNode)
}

extension NodeSink {
    private func number(_ value: some BinaryInteger) { put(.number(String(value))) }
    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(.double(value)) }
    mutating func encode(_ value: Float) throws { put(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { number(value) }
    mutating func encode(_ value: Int8) throws { number(value) }
    mutating func encode(_ value: Int16) throws { number(value) }
    mutating func encode(_ value: Int32) throws { number(value) }
    mutating func encode(_ value: Int64) throws { number(value) }
    mutating func encode(_ value: UInt) throws { number(value) }
    mutating func encode(_ value: UInt8) throws { number(value) }
    mutating func encode(_ value: UInt16) throws { number(value) }
    mutating func encode(_ value: UInt32) throws { number(value) }
    mutating func encode(_ value: UInt64) throws { number(value) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer, NodeSink {
    let array: ArrayBuilder
    let codingPath: [any CodingKey]
    var count: Int { array.items.count }

    func put(_ node: JSONNode) { array.items.append(.value(node)) }
    private var nextKey: PlainKey { PlainKey(intValue: count) }

    mutating func encode(_ value: some Encodable) throws {
        array.items.append(try EncodingSlot.box(value, codingPath: codingPath + [nextKey]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBuilder()
        let path = codingPath + [nextKey]
        array.items.append(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(object: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = ArrayBuilder()
        let path = codingPath + [nextKey]
        array.items.append(.array(nested))
        return UnkeyedContainer(array: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = OrderedEncoding(codingPath: codingPath + [nextKey])
        array.items.append(.encoder(encoder))
        return encoder
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer, NodeSink {
    let encoder: OrderedEncoding
    var codingPath: [any CodingKey] { encoder.codingPath }

    func put(_ node: JSONNode) { encoder.slot = .value(node) }

    mutating func encode(_ value: some Encodable) throws {
        encoder.slot = try EncodingSlot.box(value, codingPath: codingPath)
    }
}
