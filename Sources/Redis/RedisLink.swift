internal import CHiredis
import NetworkTransport

/// One open Redis connection's bytes: a ``ByteStream`` (plain socket or TLS) carrying commands
/// formatted by hiredis's argv formatter, and hiredis's RESP reader turning the bytes that come
/// back into replies. Used only on the owning connection's thread.
final class RedisLink {
    let stream: any ByteStream
    /// The server this link reached (the master Sentinel named, in Sentinel mode).
    let address: TransportAddress
    /// The topology generation at connect time; a newer one means "reconnect before use".
    let generation: UInt64
    private let reader: UnsafeMutablePointer<redisReader>
    private var output: [UInt8] = []
    private let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)
    /// Set when the link must not be reused (an I/O error, or a server that turned read-only).
    var isBroken = false

    init(stream: any ByteStream, address: TransportAddress, generation: UInt64) {
        self.stream = stream
        self.address = address
        self.generation = generation
        self.reader = redisReaderCreate()
    }

    deinit {
        redisReaderFree(reader)
        input.deallocate()
        stream.close()
    }

    var descriptor: Int32 { stream.descriptor }

    /// Whether an idle link can take a command: not broken and not closed by the server.
    var isUsable: Bool { !isBroken && !stream.idleStreamLooksClosed() }

    /// Formats `command` with hiredis and adds it to the bytes of the next ``flush()``.
    func append(_ command: RedisCommand) throws(RedisClientError) {
        let count = command.count
        var total = 0
        for argument in command { total += argument.bytes.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        let pointers = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: count)
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: count)
        defer {
            storage.deallocate()
            pointers.deallocate()
            lengths.deallocate()
        }
        var offset = 0
        for (index, argument) in command.enumerated() {
            let length = argument.bytes.count
            if length > 0 {
                argument.bytes.withUnsafeBytes { source in
                    UnsafeMutableRawBufferPointer(rebasing: storage[offset..<(offset + length)]).copyMemory(from: source)
                }
            }
            pointers[index] = UnsafePointer(storage.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self))
            lengths[index] = length
            offset += length
        }
        var formatted: UnsafeMutablePointer<CChar>?
        let size = redisFormatCommandArgv(&formatted, Int32(count), pointers, lengths)
        guard size > 0, let formatted else { throw RedisClientError(.protocolError, "could not format a command") }
        defer { redisFreeCommand(formatted) }
        output.append(contentsOf: UnsafeRawBufferPointer(start: formatted, count: Int(size)))
    }

    /// Writes the appended commands.
    func flush() throws(RedisClientError) {
        defer { output.removeAll(keepingCapacity: output.count <= 64 * 1024) }
        let failure = output.withUnsafeBytes { bytes -> TransportError? in
            do throws(TransportError) {
                try stream.write(bytes)
                return nil
            } catch {
                return error
            }
        }
        if let failure {
            isBroken = true
            throw Self.commandError(failure, timeout: nil)
        }
    }

    /// Reads the next complete reply; `timeout` only words a timeout error.
    func readReply(timeout: Duration?) throws(RedisClientError) -> RedisReply {
        while true {
            var raw: UnsafeMutableRawPointer?
            if redisReaderGetReply(reader, &raw) != REDIS_OK {
                isBroken = true
                let reason = withUnsafeBytes(of: reader.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                throw RedisClientError(.protocolError, "unreadable reply: \(reason)")
            }
            if let raw {
                defer { freeReplyObject(raw) }
                return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
            }
            let count: Int
            do {
                count = try stream.read(into: input)
            } catch {
                isBroken = true
                throw Self.commandError(error, timeout: timeout)
            }
            _ = redisReaderFeed(reader, input.baseAddress!.assumingMemoryBound(to: CChar.self), count)
        }
    }

    /// Sets the stream's read and write timeouts (`nil` waits forever).
    func setTimeout(_ timeout: Duration?) { stream.setTimeout(timeout) }

    /// A transport failure during a command, as the client's error: a timeout, or a closed link
    /// (the command may or may not have run).
    static func commandError(_ error: TransportError, timeout: Duration?) -> RedisClientError {
        if error.code == .timedOut {
            return RedisClientError(.timeout, "no reply from the server\(timeout.map { " within \($0)" } ?? "")")
        }
        var failure = RedisClientError(.connectionClosed, error.message)
        failure.retryable = error.isRetryable
        return failure
    }

    static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulk(Array(UnsafeRawBufferPointer(start: value.str, count: Int(value.len))))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: value.str, count: Int(value.len)), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: value.str, count: Int(value.len)), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] { elements.append(convert(element)) } else { elements.append(.null) }
            }
            return .array(elements)
        default:
            return .null
        }
    }
}
