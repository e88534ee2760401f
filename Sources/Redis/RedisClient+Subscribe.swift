import Logging

/// A message received on a subscribed channel.
public struct RedisPubSubMessage: Sendable, Hashable {
    /// The channel the message was published to.
    public var channel: String
    /// The pattern that matched, for pattern subscriptions.
    public var pattern: String?
    /// The message bytes.
    public var payload: [UInt8]

    /// The payload decoded as UTF-8.
    public var text: String { String(decoding: payload, as: UTF8.self) }
}

/// The messages of an active subscription, in arrival order.
public struct RedisSubscription: AsyncSequence, Sendable {
    /// The element type.
    public typealias Element = RedisPubSubMessage
    let stream: AsyncThrowingStream<RedisPubSubMessage, any Error>

    /// Creates the iterator.
    public func makeAsyncIterator() -> AsyncThrowingStream<RedisPubSubMessage, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}

extension RedisClient {
    /// Subscribes to `channels` (and `patterns`) on a dedicated connection and runs `body` with the
    /// message sequence. The subscription is active before `body` starts; it ends, and the
    /// connection closes, when `body` returns or throws.
    ///
    /// If the server connection drops, the subscription reconnects with backoff and subscribes
    /// again; messages published while it was down are lost, as Redis pub/sub does not store them.
    public func subscribe<Result: Sendable>(
        to channels: [String],
        patterns: [String] = [],
        _ body: (RedisSubscription) async throws -> Result
    ) async throws -> Result {
        precondition(!channels.isEmpty || !patterns.isEmpty, "subscribe needs a channel or a pattern")
        let connection = try await makeDedicatedConnection()
        defer { connection.close() }
        let commands: [RedisCommand] =
            channels.map { ["SUBSCRIBE", RedisArgument($0)] } + patterns.map { ["PSUBSCRIBE", RedisArgument($0)] }
        _ = try await connection.pipeline(commands)

        let (stream, continuation) = AsyncThrowingStream.makeStream(of: RedisPubSubMessage.self)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await Self.pump(connection, resubscribe: commands, into: continuation)
            }
            defer { group.cancelAll() }
            return try await body(RedisSubscription(stream: stream))
        }
    }

    /// Reads pushed replies until cancelled, reconnecting and resubscribing after a lost connection.
    private static func pump(
        _ connection: RedisConnection,
        resubscribe commands: [RedisCommand],
        into continuation: AsyncThrowingStream<RedisPubSubMessage, any Error>.Continuation
    ) async {
        defer { continuation.finish() }
        while !Task.isCancelled {
            do {
                let reply = try await connection.readPushedReply()
                if let message = parse(reply) { continuation.yield(message) }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                connection.logger.debug("redis subscription lost; resubscribing", metadata: ["redis.error": "\(error)"])
                do {
                    try await connection.ensureConnected()
                    _ = try await connection.execute(commands, blockingFor: nil)
                } catch {
                    if Task.isCancelled { return }
                    continuation.finish(throwing: error)
                    return
                }
            }
        }
    }

    private static func parse(_ reply: RedisReply) -> RedisPubSubMessage? {
        guard let parts = reply.array, let kind = parts.first?.string else { return nil }
        switch kind {
        case "message" where parts.count == 3:
            return RedisPubSubMessage(channel: parts[1].string ?? "", pattern: nil, payload: parts[2].bytes ?? [])
        case "pmessage" where parts.count == 4:
            return RedisPubSubMessage(channel: parts[2].string ?? "", pattern: parts[1].string, payload: parts[3].bytes ?? [])
        default:
            return nil
        }
    }
}
