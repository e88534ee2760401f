/// A connected, blocking byte stream: a plain socket or TLS over one.
///
/// A stream has one owner thread (the connection's own); none of its methods may be called from
/// two threads at once, except ``descriptor``, which another thread may read to interrupt a
/// blocked read with `shutdown(2)`.
public protocol ByteStream: AnyObject {
    /// The socket descriptor (for interrupting a blocked read), or -1 once closed.
    var descriptor: Int32 { get }
    /// Writes every byte, or throws.
    func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError)
    /// Reads at least one byte into `buffer` and returns the count; throws `closed` at end of
    /// stream and `timedOut` when nothing arrived within the read timeout.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int
    /// Bounds each later read (and write); `nil` waits forever.
    func setTimeout(_ timeout: Duration?)
    /// Whether an idle stream (no reply outstanding) was closed by its peer; never blocks.
    func idleStreamLooksClosed() -> Bool
    /// Closes the stream; later calls fail with `closed`.
    func close()
}
