/// Small helpers for the connection URLs of Redis and PostgreSQL.
public enum URLText {
    /// `text` with `%XX` escapes decoded as UTF-8 bytes; malformed escapes are kept as they are.
    public static func percentDecoded<S: StringProtocol>(_ text: S) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
