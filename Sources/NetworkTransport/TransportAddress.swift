/// Where a stream connects to.
public enum TransportAddress: Sendable, Hashable, CustomStringConvertible {
    /// A TCP host (name, IPv4 or IPv6 text) and port.
    case tcp(host: String, port: Int)
    /// A Unix domain socket path.
    case unix(path: String)

    /// `host:port` (IPv6 in brackets) or the socket path.
    public var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): path
        }
    }
}
