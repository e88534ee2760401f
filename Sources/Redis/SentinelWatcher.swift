import ClientSupport
import Logging
import NetworkTransport
import Synchronization

/// Listens on a Sentinel for `+switch-master` announcements of the client's master and marks the
/// topology stale when one arrives, so idle pooled connections reconnect to the new master
/// before their next command instead of finding out from an error.
///
/// The subscription's blocking reads run on a thread of the watcher's own; ``stop()`` wakes them
/// by shutting the socket down.
final class SentinelWatcher: Sendable {
    private struct State {
        var started = false
        var stopped = false
        var task: Task<Void, Never>?
    }

    private let configuration: RedisConfiguration
    private let sentinel: RedisSentinelConfiguration
    private let topology: RedisTopology
    private let logger: Logger
    private let state = Mutex(State())
    private let descriptor = Atomic<Int32>(-1)
    private let executor = BlockingExecutor(label: "redis.sentinel-watch")

    init(configuration: RedisConfiguration, topology: RedisTopology, logger: Logger) {
        precondition(configuration.sentinel != nil, "a SentinelWatcher needs a Sentinel configuration")
        self.configuration = configuration
        self.sentinel = configuration.sentinel!
        self.topology = topology
        self.logger = logger
    }

    /// Starts listening, once; later calls do nothing.
    func startIfNeeded() {
        state.withLock { state in
            guard !state.started, !state.stopped else { return }
            state.started = true
            // Unstructured: the watcher lives as long as its client, which is not a task scope;
            // `stop()` (called by the client's shutdown) cancels it and wakes its blocked read.
            state.task = Task { await self.run() }
        }
    }

    /// Stops listening and ends the watcher's thread.
    func stop() {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.stopped = true
            return state.task
        }
        task?.cancel()
        SocketProbe.interrupt(descriptor.load(ordering: .acquiring))
        if task == nil { executor.shutdown() }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func run() async {
        let backoff = Backoff(initialDelay: .milliseconds(200), maximumDelay: .seconds(2))
        var attempt = 0
        while !isStopped && !Task.isCancelled {
            do {
                try await executor.run { [self] in try listen() }
            } catch {
                if isStopped { break }
                logger.debug("sentinel watch interrupted", metadata: ["redis.error": "\(error)"])
            }
            try? await Task.sleep(for: backoff.delay(afterAttempt: attempt))
            attempt += 1
        }
        executor.shutdown()
    }

    /// Subscribes on the first Sentinel that answers and reads announcements until the link breaks.
    private func listen() throws {
        var lastError: (any Error)?
        for address in topology.sentinels {
            let link: RedisLink
            do {
                link = try RedisLinkOpener.open(
                    address, tls: sentinel.usesTLS ? configuration.tls : nil, serverName: nil, configuration: configuration, generation: 0)
            } catch {
                lastError = error
                continue
            }
            descriptor.store(link.descriptor, ordering: .releasing)
            defer { descriptor.store(-1, ordering: .releasing) }
            if isStopped { return }
            link.setTimeout(configuration.connectTimeout)
            if let password = sentinel.password {
                try link.append(sentinel.username.map { ["AUTH", RedisArgument($0), RedisArgument(password)] } ?? ["AUTH", RedisArgument(password)])
            }
            try link.append(["SUBSCRIBE", "+switch-master"])
            try link.flush()
            if sentinel.password != nil, case .error(let message) = try link.readReply(timeout: configuration.connectTimeout) {
                throw RedisClientError(.connectionFailed, "AUTH rejected by Sentinel \(address): \(message)")
            }
            _ = try link.readReply(timeout: configuration.connectTimeout)  // the subscribe confirmation
            link.setTimeout(nil)
            while !isStopped {
                let reply = try link.readReply(timeout: nil)
                guard let parts = reply.array, parts.count == 3, parts[0].string == "message",
                      let text = parts[2].string else { continue }
                // "<master name> <old ip> <old port> <new ip> <new port>"
                let fields = text.split(separator: " ")
                guard fields.count == 5, fields[0] == sentinel.masterName else { continue }
                logger.info(
                    "redis master switched by Sentinel; connections move to the new master",
                    metadata: ["redis.master": "\(fields[3]):\(fields[4])", "redis.previous_master": "\(fields[1]):\(fields[2])"])
                topology.invalidate()
            }
            return
        }
        if let lastError { throw lastError }
    }
}
