import NetworkTransport

/// Opens a ``RedisLink``: TCP or Unix socket, then TLS when configured. Blocking; runs on the
/// connection's own thread.
enum RedisLinkOpener {
    /// Connects to `address` within the configuration's connect timeout, with TLS when `tls` is
    /// set (SNI and name check against `serverName`, else the host connected to).
    static func open(
        _ address: TransportAddress, tls: TLSConfiguration?, serverName: String?, configuration: RedisConfiguration, generation: UInt64
    ) throws(RedisClientError) -> RedisLink {
        do {
            let socket = try SocketConnector.connect(address, timeout: configuration.connectTimeout)
            guard let tls else { return RedisLink(stream: socket, address: address, generation: generation) }
            let context = try TLSClientContext.shared(for: tls)
            let name: String
            switch address {
            case .tcp(let host, _): name = serverName ?? host
            case .unix: name = serverName ?? "localhost"
            }
            let stream = try TLSStream(over: socket, context: context, serverName: name, timeout: configuration.connectTimeout)
            return RedisLink(stream: stream, address: address, generation: generation)
        } catch {
            var failure = RedisClientError(.connectionFailed, "cannot connect to \(address)\(tls == nil ? "" : " (TLS)"): \(error.message)")
            failure.retryable = error.isRetryable
            throw failure
        }
    }
}
