#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small, non-blocking checks on a connected socket descriptor.
public enum SocketProbe {
    /// Whether an idle connection (one with no reply outstanding) has been closed by its peer.
    ///
    /// An idle request/response socket that polls readable has either reached end-of-file or
    /// received an error, because the server never speaks unasked. The check is one `poll(2)` with a
    /// zero timeout, so it never blocks.
    public static func idleConnectionLooksClosed(_ descriptor: Int32) -> Bool {
        guard descriptor >= 0 else { return true }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, 0)
        if ready < 0 { return true }
        if ready == 0 { return false }
        let closedMask = Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR) | Int16(POLLNVAL)
        return entry.revents & closedMask != 0
    }

    /// Shuts a socket down in both directions, so a thread blocked reading it wakes up with EOF.
    ///
    /// Used to cancel a blocking command: the descriptor stays open (its owner still frees it).
    public static func interrupt(_ descriptor: Int32) {
        guard descriptor >= 0 else { return }
        _ = shutdown(descriptor, Int32(SHUT_RDWR))
    }
}
