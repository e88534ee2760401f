/// A Redis reply, copied out of hiredis into Swift memory before the C reply is freed.
public enum RedisReply: Sendable, Hashable {
    /// A simple-string status such as `OK` or `QUEUED`.
    case status(String)
    /// An error reply such as `ERR unknown command` or `WRONGTYPE …`.
    case error(String)
    /// An integer reply.
    case integer(Int)
    /// A bulk string: raw bytes, binary-safe.
    case bulk([UInt8])
    /// The nil reply (missing key, timed-out blocking pop, aborted transaction).
    case null
    /// An array (multi-bulk) reply.
    case array([RedisReply])

    /// The reply as text: a bulk string decoded as UTF-8 or a status; `nil` otherwise.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    /// The reply as an integer: an integer reply, or a bulk string holding a decimal integer.
    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .bulk(let bytes): Int(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// The reply's bytes if it is a bulk string.
    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    /// The elements if the reply is an array.
    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether the reply is the nil reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The error text if the reply is an error reply.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}

extension RedisReply: CustomStringConvertible {
    /// A short rendering for logs and test failures (bulk strings are shown as text when printable).
    public var description: String {
        switch self {
        case .status(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulk(let bytes): "$\"\(String(decoding: bytes.prefix(80), as: UTF8.self))\"\(bytes.count > 80 ? "…" : "")"
        case .null: "(nil)"
        case .array(let elements): "[\(elements.map(\.description).joined(separator: ", "))]"
        }
    }
}

extension RedisReply {
    /// A flat field/value array (the reply of `HGETALL`, or a stream entry's fields) as a
    /// dictionary of raw values; `[:]` for anything else.
    public var fieldMap: [String: [UInt8]] {
        guard let items = array else { return [:] }
        var fields: [String: [UInt8]] = [:]
        fields.reserveCapacity(items.count / 2)
        var index = 0
        while index + 1 < items.count {
            if let name = items[index].string { fields[name] = items[index + 1].bytes ?? [] }
            index += 2
        }
        return fields
    }
}
