extension RedisConnection {
    /// Runs `commands` inside `MULTI`/`EXEC` in one round trip.
    ///
    /// - Returns: one reply per command (a command that failed at run time, such as `INCR` on a
    ///   string, gives ``RedisReply/error(_:)`` in its slot while the others still apply), or `nil`
    ///   when a key under `WATCH` changed and the server discarded the transaction.
    /// - Throws: ``RedisClientError`` with code `transactionAborted` when the server refused to
    ///   queue a command (wrong arity, unknown command): nothing ran; the message names the command.
    public func transaction(_ commands: [RedisCommand]) async throws -> [RedisReply]? {
        let replies = try await pipeline([["MULTI"]] + commands + [["EXEC"]])
        let exec = replies[replies.count - 1]
        switch exec {
        case .array(let results):
            return results
        case .null:
            return nil
        case .error(let message):
            let rejected = zip(commands, replies.dropFirst()).enumerated().first { $0.element.1.errorMessage != nil }
            if let rejected {
                let name = String(decoding: rejected.element.0.first?.bytes ?? [], as: UTF8.self)
                let reason = rejected.element.1.errorMessage ?? ""
                // A replica (READONLY) or a master without its replicas (NOREPLICAS) refuses every
                // write: a passing server state, retried like the same error outside a transaction.
                if RedisClientError.isTransientServerError(reason) { throw RedisClientError(.serverError, reason) }
                throw RedisClientError(.transactionAborted, "command \(rejected.offset) (\(name)) was rejected: \(reason)")
            }
            if RedisClientError.isTransientServerError(message) { throw RedisClientError(.serverError, message) }
            throw RedisClientError(.transactionAborted, message)
        default:
            throw RedisClientError(.protocolError, "unexpected EXEC reply \(exec)")
        }
    }

    /// Runs `body` with `keys` under `WATCH`; a transaction sent from `body` on this connection
    /// returns `nil` if another client changed a watched key meanwhile. `UNWATCH` is sent if
    /// `body` throws.
    public func watching<Result: Sendable>(
        _ keys: [String],
        _ body: (RedisConnection) async throws -> Result
    ) async throws -> Result {
        try await send(["WATCH"] + keys.map { RedisArgument($0) })
        do {
            return try await body(self)
        } catch {
            _ = try? await send(["UNWATCH"])
            throw error
        }
    }
}
