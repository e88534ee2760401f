#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Socket-level helpers shared by the plain and TLS streams.
enum SocketOptions {
    /// Sets `SO_RCVTIMEO` and `SO_SNDTIMEO`; `nil` (or zero) blocks forever.
    static func setTimeout(_ descriptor: Int32, _ timeout: Duration?) {
        guard descriptor >= 0 else { return }
        let (seconds, attoseconds) = (timeout ?? .zero).components
        var value = timeval(tv_sec: .init(seconds), tv_usec: .init(attoseconds / 1_000_000_000_000))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Whether an idle socket polls readable or hung up (end of file or error for a
    /// request/response peer that never speaks unasked); one `poll(2)` with zero timeout.
    static func pollsReadable(_ descriptor: Int32) -> Bool {
        guard descriptor >= 0 else { return true }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, 0)
        if ready < 0 { return true }
        if ready == 0 { return false }
        return entry.revents & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR) | Int16(POLLNVAL)) != 0
    }

    /// `close(2)`, named so that the streams' own `close()` methods do not shadow it.
    static func closeDescriptor(_ descriptor: Int32) {
        _ = close(descriptor)
    }

    /// `connect(2)`, named so that ``SocketConnector/connect(_:timeout:)`` does not shadow it.
    static func systemConnect(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
        connect(descriptor, address, length)
    }

    /// `strerror(errno)` as text.
    static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// Whether `code` is a read/write timeout of `SO_RCVTIMEO`/`SO_SNDTIMEO`.
    static func isTimeout(_ code: Int32) -> Bool {
        code == EAGAIN || code == EWOULDBLOCK || code == ETIMEDOUT
    }
}
