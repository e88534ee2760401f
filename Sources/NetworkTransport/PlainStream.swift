#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A connected TCP or Unix socket, read and written with `recv(2)`/`send(2)`.
public final class PlainStream: ByteStream {
    /// The socket descriptor, or -1 once closed.
    public private(set) var descriptor: Int32

    /// Takes ownership of a connected socket.
    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close() }

    /// Writes all of `bytes` (`MSG_NOSIGNAL`: a closed peer is an error, not a signal).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            guard descriptor >= 0 else { throw TransportError(.closed, "the connection is closed") }
            let sent = send(descriptor, bytes.baseAddress!.advanced(by: offset), bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 {
                let code = errno
                if code == EINTR { continue }
                if SocketOptions.isTimeout(code) { throw TransportError(.timedOut, "the server did not take the request in time") }
                throw TransportError(.closed, "write failed: \(SocketOptions.errnoText(code))")
            }
            offset += sent
        }
    }

    /// Reads what is available (at least one byte).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int {
        while true {
            guard descriptor >= 0 else { throw TransportError(.closed, "the connection is closed") }
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if count > 0 { return count }
            if count == 0 { throw TransportError(.closed, "connection closed by the server") }
            let code = errno
            if code == EINTR { continue }
            if SocketOptions.isTimeout(code) { throw TransportError(.timedOut, "no reply from the server") }
            throw TransportError(.closed, "read failed: \(SocketOptions.errnoText(code))")
        }
    }

    /// Sets the socket's read and write timeouts.
    public func setTimeout(_ timeout: Duration?) {
        SocketOptions.setTimeout(descriptor, timeout)
    }

    /// A readable idle socket means end of file or an error: the server never speaks unasked.
    public func idleStreamLooksClosed() -> Bool {
        SocketOptions.pollsReadable(descriptor)
    }

    /// Closes the descriptor.
    public func close() {
        guard descriptor >= 0 else { return }
        SocketOptions.closeDescriptor(descriptor)
        descriptor = -1
    }
}
