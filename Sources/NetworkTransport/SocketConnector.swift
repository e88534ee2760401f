#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens connected sockets with a bound on the time connecting may take. Blocking: call it on the
/// connection's own thread.
public enum SocketConnector {
    /// Connects to `address` within `timeout`, trying each resolved address of a host name in turn.
    /// TCP sockets get `TCP_NODELAY` and keep-alive; the socket is left in blocking mode.
    public static func connect(_ address: TransportAddress, timeout: Duration) throws(TransportError) -> PlainStream {
        switch address {
        case .tcp(let host, let port): return PlainStream(descriptor: try connectTCP(host: host, port: port, timeout: timeout))
        case .unix(let path): return PlainStream(descriptor: try connectUnix(path: path, timeout: timeout))
        }
    }

    private static func connectTCP(host: String, port: Int, timeout: Duration) throws(TransportError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw TransportError(.connectFailed, "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            entry = current.pointee.ai_next
            let descriptor = socket(current.pointee.ai_family, current.pointee.ai_socktype, current.pointee.ai_protocol)
            if descriptor < 0 {
                lastError = SocketOptions.errnoText()
                continue
            }
            if let failure = finishConnect(descriptor, current.pointee.ai_addr, current.pointee.ai_addrlen, timeout: timeout) {
                SocketOptions.closeDescriptor(descriptor)
                lastError = failure
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = setsockopt(descriptor, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
            return descriptor
        }
        throw TransportError(.connectFailed, "cannot connect to \(TransportAddress.tcp(host: host, port: port)): \(lastError)")
    }

    private static func connectUnix(path: String, timeout: Duration) throws(TransportError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { throw TransportError(.connectFailed, "socket path is too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TransportError(.connectFailed, "socket: \(SocketOptions.errnoText())") }
        let failure = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                finishConnect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size), timeout: timeout)
            }
        }
        if let failure {
            SocketOptions.closeDescriptor(descriptor)
            throw TransportError(.connectFailed, "cannot connect to \(path): \(failure)")
        }
        return descriptor
    }

    /// A non-blocking `connect(2)` bounded by `poll(2)`; returns the failure text, or `nil`.
    private static func finishConnect(
        _ descriptor: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t, timeout: Duration
    ) -> String? {
        let flags = fcntl(descriptor, F_GETFL, 0)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(descriptor, F_SETFL, flags) }
        if SocketOptions.systemConnect(descriptor, address, length) == 0 { return nil }
        guard errno == EINPROGRESS || errno == EINTR else { return SocketOptions.errnoText() }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let left = clock.now.duration(to: deadline)
            guard left > .zero else { return "timed out after \(timeout)" }
            var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&entry, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { return SocketOptions.errnoText() }
            if ready == 0 { continue }
            var failure: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &size)
            return failure == 0 ? nil : SocketOptions.errnoText(failure)
        }
    }
}
