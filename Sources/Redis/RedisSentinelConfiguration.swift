import NetworkTransport

/// How to find the master of a Redis replication group through Sentinel.
///
/// Each new connection asks the Sentinels, in order, for the master's address
/// (`SENTINEL get-master-addr-by-name`), checks the server it reaches with `ROLE`, and asks
/// again after a connection error, a `READONLY` reply or a `+switch-master` announcement.
public struct RedisSentinelConfiguration: Sendable, Hashable {
    /// The Sentinels to ask, tried in order (the one that answered last goes first).
    public var sentinels: [TransportAddress]
    /// The monitored master's name (`sentinel monitor NAME …`).
    public var masterName: String
    /// ACL user for the Sentinels themselves (`sentinel_username`). Default: `nil`.
    public var username: String?
    /// Password for the Sentinels themselves (`sentinel_password`), not the data password. Never
    /// printed. Default: `nil`.
    public var password: String?
    /// Whether the Sentinels are spoken to over TLS too (`rediss+sentinel://`, unless
    /// `sentinel_ssl=false`), with the data connections' TLS settings. Default: `false`.
    public var usesTLS: Bool
    /// How long a write that must survive a failover (``RedisConnection/pipelineReplicated(_:wrote:)``)
    /// waits for a replica to confirm it while its master has, or lately had, replicas; after that
    /// the write is taken as done and a warning logged.
    /// Default: `.seconds(30)` (a failover here demotes the old master within about ten).
    public var replicaWait: Duration

    /// Creates a Sentinel configuration.
    public init(
        sentinels: [TransportAddress], masterName: String, username: String? = nil, password: String? = nil, usesTLS: Bool = false,
        replicaWait: Duration = .seconds(30)
    ) {
        self.replicaWait = replicaWait
        self.sentinels = sentinels
        self.masterName = masterName
        self.username = username
        self.password = password
        self.usesTLS = usesTLS
    }
}
