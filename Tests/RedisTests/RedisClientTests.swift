import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ClientSupport
import Redis
import Testing
import TestSupport

@Suite("Redis client against a real redis-server", .timeLimit(.minutes(2)))
struct RedisClientTests {
    @Test func binarySafeValuesWithNULBytes() async throws {
        try await withTestRedis { redis in
            let key = uniqueKey()
            let value: [UInt8] = [0, 1, 0, 255, 10, 13, 0, 36, 42, 0]
            try await redis.send(["SET", RedisArgument(key), RedisArgument(bytes: value)])
            let reply = try await redis.send("GET", RedisArgument(key))
            #expect(reply.bytes == value)
            // Keys may hold NUL bytes too.
            let binaryKey = RedisArgument(bytes: Array(key.utf8) + [0, 0, 7])
            try await redis.send(["SET", binaryKey, "x"])
            #expect(try await redis.send(["GET", binaryKey]).string == "x")
            #expect(try await redis.send("GET", RedisArgument(key + "\0\0")).isNull)
            try await redis.send(["DEL", RedisArgument(key), binaryKey])
        }
    }

    /// A script goes by SHA-1; the server's first NOSCRIPT is answered by sending it in full once,
    /// after the batch it was in, and from then on the SHA-1 suffices.
    @Test func scriptsGoBySHA1AndFallBackToTheBodyOnce() async throws {
        try await withTestRedis { redis in
            let key = uniqueKey()
            // A body no server has seen: its own comment makes its SHA-1 new.
            let script = RedisScript("-- \(key)\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(script.sha1.count == 40 && script.sha1.allSatisfy(\.isHexDigit))
            #expect(try await redis.send("SCRIPT", "EXISTS", RedisArgument(script.sha1)).array?.first?.int == 0)
            let call = script.command(keys: [RedisArgument(key)], arguments: ["5"])
            #expect(call.first == "EVALSHA")
            let replies = try await redis.pipeline([call, ["GET", RedisArgument(key)], call])
            // Both unknown-script calls ran after the batch, in order; the GET between them saw neither.
            #expect(replies[0].int == 5 && replies[2].int == 10)
            #expect(replies[1].isNull)
            #expect(try await redis.send("SCRIPT", "EXISTS", RedisArgument(script.sha1)).array?.first?.int == 1)
            #expect(try await redis.send(call).int == 15)
            // A script's own error comes back as it is.
            let failing = RedisScript("-- \(key)\nreturn redis.error_reply('ERR nope')")
            let reply = try await redis.pipeline([failing.command(keys: [], arguments: [])])
            guard case .error(let message) = reply[0] else {
                Issue.record("expected an error reply, got \(reply[0])")
                return
            }
            #expect(message == "ERR nope")
            try await redis.send("DEL", RedisArgument(key))
        }
    }

    /// A write to a closed socket must be an error, not a `SIGPIPE` that ends the process.
    @Test func brokenPipesAreIgnoredOnceAConnectionExists() async throws {
        try await withTestRedis { redis in
            try await redis.send("PING")
            var current = sigaction()
            #expect(sigaction(SIGPIPE, nil, &current) == 0)
            let handler = unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self)
            #expect(handler == unsafeBitCast(SIG_IGN, to: Int.self))
        }
    }

    @Test func oneMegabyteValue() async throws {
        try await withTestRedis { redis in
            let key = uniqueKey()
            let value = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            try await redis.send(["SET", RedisArgument(key), RedisArgument(bytes: value)])
            #expect(try await redis.send("STRLEN", RedisArgument(key)).int == 1 << 20)
            #expect(try await redis.send("GET", RedisArgument(key)).bytes == value)
            try await redis.send("DEL", RedisArgument(key))
        }
    }

    @Test func pipelineOfTenThousandCommands() async throws {
        try await withTestRedis { redis in
            let key = uniqueKey()
            let commands = (0..<10_000).map { _ in ["INCR", RedisArgument(key)] as RedisCommand }
            let replies = try await redis.pipeline(commands)
            #expect(replies.count == 10_000)
            #expect(replies.map(\.int) == (1...10_000).map { Optional($0) })
            try await redis.send("DEL", RedisArgument(key))
        }
    }

    @Test func pipelineReturnsErrorRepliesInPlace() async throws {
        try await withTestRedis { redis in
            let key = uniqueKey()
            let replies = try await redis.pipeline([
                ["SET", RedisArgument(key), "text"], ["INCR", RedisArgument(key)], ["GET", RedisArgument(key)],
            ])
            #expect(replies[0] == .status("OK"))
            #expect(replies[1].errorMessage?.contains("not an integer") == true)
            #expect(replies[2].string == "text")
            try await redis.send("DEL", RedisArgument(key))
        }
    }

    @Test func sendThrowsServerErrors() async throws {
        try await withTestRedis { redis in
            await #expect {
                try await redis.send("NOSUCHCOMMAND", "x")
            } throws: { error in
                (error as? RedisClientError)?.code == .serverError
            }
        }
    }

    /// A restarting server answers `LOADING …` until its AOF is read (the chaos suite's Redis
    /// restart found a worker that gave up on it): that and the other passing conditions are
    /// transient, command errors are not.
    @Test func passingServerConditionsAreTransient() async throws {
        for message in ["LOADING Redis is loading the dataset in memory", "BUSY Redis is busy running a script.",
                        "TRYAGAIN Multiple keys request during rehashing", "MASTERDOWN Link with MASTER is down",
                        "READONLY You can't write against a read only replica.", "CLUSTERDOWN The cluster is down"] {
            #expect(RedisClientError(.serverError, message).isTransient, "\(message)")
        }
        for message in ["ERR unknown command 'NOSUCHCOMMAND'", "WRONGTYPE Operation against a key", "LOADINGX nope", "NOSCRIPT No matching script"] {
            #expect(!RedisClientError(.serverError, message).isTransient, "\(message)")
        }
        try await withTestRedis { redis in
            do {
                _ = try await redis.send("NOSUCHCOMMAND", "x")
                Issue.record("no error")
            } catch {
                #expect((error as? RedisClientError)?.isTransient == false)
            }
        }
    }

    @Test func transactionSurfacesPerCommandErrors() async throws {
        try await withTestRedis { redis in
            let key = uniqueKey()
            let results = try await redis.transaction([
                ["SET", RedisArgument(key), "abc"],
                ["INCR", RedisArgument(key)],
                ["APPEND", RedisArgument(key), "def"],
            ])
            let replies = try #require(results)
            #expect(replies.count == 3)
            #expect(replies[0] == .status("OK"))
            #expect(replies[1].errorMessage?.hasPrefix("ERR") == true)
            #expect(replies[2] == .integer(6))
            #expect(try await redis.send("GET", RedisArgument(key)).string == "abcdef")
            try await redis.send("DEL", RedisArgument(key))
        }
    }

    @Test func transactionWithRejectedCommandRunsNothing() async throws {
        try await withTestRedis { redis in
            let key = uniqueKey()
            await #expect {
                try await redis.transaction([["SET", RedisArgument(key), "1"], ["NOSUCHCOMMAND"]])
            } throws: { thrown in
                let error = thrown as? RedisClientError
                return error?.code == .transactionAborted && error?.message.contains("NOSUCHCOMMAND") == true
            }
            let exists = try await redis.send("EXISTS", RedisArgument(key))
            #expect(exists == .integer(0))
        }
    }

    @Test func watchConflictAbortsTransaction() async throws {
        try await withTestRedis { redis in
            let key = uniqueKey()
            try await redis.send("SET", RedisArgument(key), "1")
            let outcome = try await redis.withConnection { connection in
                try await connection.watching([key]) { connection in
                    // Another client changes the watched key between WATCH and EXEC.
                    try await redis.send("SET", RedisArgument(key), "changed")
                    return try await connection.transaction([["SET", RedisArgument(key), "mine"]])
                }
            }
            #expect(outcome == nil)
            #expect(try await redis.send("GET", RedisArgument(key)).string == "changed")
            // Without interference the same transaction applies.
            let applied = try await redis.withConnection { connection in
                try await connection.watching([key]) { try await $0.transaction([["SET", RedisArgument(key), "mine"]]) }
            }
            #expect(applied == [.status("OK")])
            try await redis.send("DEL", RedisArgument(key))
        }
    }

    @Test func blmoveTimesOutWithNilOnTime() async throws {
        try await withTestRedis { redis in
            let connection = try await redis.makeDedicatedConnection()
            defer { connection.close() }
            let source = uniqueKey("src"), destination = uniqueKey("dst")
            let clock = ContinuousClock()
            let start = clock.now
            let reply = try await connection.sendBlocking(
                ["BLMOVE", RedisArgument(source), RedisArgument(destination), "LEFT", "RIGHT", "0.3"], timeout: .milliseconds(300))
            let elapsed = clock.now - start
            #expect(reply.isNull)
            #expect(elapsed >= .milliseconds(290))
            // The defect this guards against is waiting for the socket's 30 s command timeout; the
            // bound leaves room for a starved two-core machine running the whole suite at once.
            #expect(elapsed < .seconds(10))
            // And it returns the element when there is one.
            try await redis.send("RPUSH", RedisArgument(source), "job-1")
            let moved = try await connection.sendBlocking(
                ["BLMOVE", RedisArgument(source), RedisArgument(destination), "LEFT", "RIGHT", "1"], timeout: .seconds(1))
            #expect(moved.string == "job-1")
            #expect(try await redis.send("LRANGE", RedisArgument(destination), "0", "-1") == .array([.bulk(Array("job-1".utf8))]))
            try await redis.send("DEL", RedisArgument(destination))
        }
    }

    @Test func cancellingABlockedPopReturnsPromptly() async throws {
        try await withTestRedis { redis in
            let name = "cancel-\(UUID().uuidString.prefix(8))"
            var configuration = redis.configuration
            configuration.clientName = name
            let connection = try await RedisConnection.connect(configuration: configuration, logger: TestEnvironment.logger)
            defer { connection.close() }
            let key = uniqueKey()
            let task = Task {
                try await connection.sendBlocking(["BLPOP", RedisArgument(key), "30"], timeout: .seconds(30))
            }
            try await waitUntil(.seconds(5), "BLPOP to block on the server") {
                let clients = try await redis.send("CLIENT", "LIST").string ?? ""
                return clients.split(separator: "\n").contains { $0.contains("name=\(name)") && $0.contains("cmd=blpop") }
            }
            let clock = ContinuousClock()
            let start = clock.now
            task.cancel()
            let result = await task.result
            // Without the interrupt the BLPOP (timeout 0) would never return; the bound leaves room
            // for a starved machine.
            #expect(clock.now - start < .seconds(10))
            #expect(throws: CancellationError.self) { try result.get() }
            // The connection repairs itself for the next command.
            #expect(try await connection.send("PING") == .status("PONG"))
        }
    }

    @Test func pubSubDeliversMessagesInOrder() async throws {
        try await withTestRedis { redis in
            let channel = uniqueKey("channel")
            let received = try await redis.subscribe(to: [channel], patterns: [channel.prefix(20) + "*"]) { messages in
                for index in 0..<3 {
                    try await redis.send("PUBLISH", RedisArgument(channel), RedisArgument(bytes: Array("message \(index)".utf8) + [0]))
                }
                var collected: [RedisPubSubMessage] = []
                try await withTimeout(.seconds(5), "three messages on each subscription") {
                    var iterator = messages.makeAsyncIterator()
                    var local: [RedisPubSubMessage] = []
                    while local.count < 6, let message = try await iterator.next() { local.append(message) }
                    return local
                }.forEach { collected.append($0) }
                return collected
            }
            let direct = received.filter { $0.pattern == nil }
            let patterned = received.filter { $0.pattern != nil }
            #expect(direct.map(\.payload) == (0..<3).map { Array("message \($0)".utf8) + [0] })
            #expect(patterned.count == 3)
            #expect(direct.allSatisfy { $0.channel == channel })
        }
    }

    @Test func reconnectsAfterClientKill() async throws {
        try await withTestRedis(maximumConnections: 1) { redis in
            let connection = try await redis.makeDedicatedConnection()
            defer { connection.close() }
            let id = try #require(try await connection.send("CLIENT", "ID").int)
            try await redis.send("CLIENT", "KILL", "ID", RedisArgument(id))
            // The killed idle connection is noticed before the next command and replaced.
            #expect(try await connection.send("PING") == .status("PONG"))
            let newID = try #require(try await connection.send("CLIENT", "ID").int)
            #expect(newID != id)
        }
    }

    @Test func reconnectsAfterServerRestart() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.reconnectBudget = .seconds(10)
        let redis = RedisClient(configuration: configuration, logger: TestEnvironment.logger)
        let key = uniqueKey()
        try await redis.send("SET", RedisArgument(key), "before")
        try await server.stop()
        // Bring the server back a little later, while the next command is already retrying.
        let restart = Task {
            try await Task.sleep(for: .milliseconds(400))
            try await server.start()
        }
        #expect(try await redis.send("SET", RedisArgument(key), "after") == .status("OK"))
        #expect(try await redis.send("GET", RedisArgument(key)).string == "after")
        try await restart.value
        await redis.shutdown()
        try await server.stop()
    }

    @Test func failsClearlyWhenNothingListens() async throws {
        let port = try freeLoopbackPort()
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(port)/0")
        configuration.reconnectBudget = .milliseconds(300)
        await #expect {
            _ = try await RedisConnection.connect(configuration: configuration, logger: TestEnvironment.logger)
        } throws: { error in
            (error as? RedisClientError)?.code == .connectionFailed
        }
    }

    @Test func wrongPasswordIsNotRetriedAndNotLeaked() async throws {
        var configuration = try RedisConfiguration(url: try TestEnvironment.redisURL)
        configuration.password = "definitely-wrong-password"
        let clock = ContinuousClock()
        let start = clock.now
        await #expect {
            _ = try await RedisConnection.connect(configuration: configuration, logger: TestEnvironment.logger)
        } throws: { error in
            let text = "\(error)"
            return (error as? RedisClientError)?.code == .connectionFailed && text.contains("AUTH")
                && !text.contains("definitely-wrong-password")
        }
        // Retrying would take the 10 s reconnect budget; the bound leaves room for a starved machine.
        #expect(clock.now - start < .seconds(8))
    }

    @Test func thousandConcurrentTasksThroughAPoolOfEight() async throws {
        let name = "pool-\(UUID().uuidString.prefix(8))"
        try await withTestRedis(maximumConnections: 8, clientName: name) { redis in
            let key = uniqueKey()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<1_000 {
                    group.addTask { try await redis.send("INCR", RedisArgument(key)) }
                }
                try await group.waitForAll()
            }
            #expect(try await redis.send("GET", RedisArgument(key)).int == 1_000)
            let statistics = redis.poolStatistics
            #expect(statistics.open <= 8)
            #expect(statistics.waiters == 0)
            #expect(statistics.idle == statistics.open)
            let clients = try await redis.send("CLIENT", "LIST").string ?? ""
            let ours = clients.split(separator: "\n").filter { $0.contains("name=\(name) ") }
            #expect(ours.count == statistics.open)
            #expect(ours.count <= 8)
            try await redis.send("DEL", RedisArgument(key))
        }
        // After shutdown no connection of ours is left on the server.
        try await withTestRedis { redis in
            try await waitUntil(.seconds(5), "pool connections to close") {
                let clients = try await redis.send("CLIENT", "LIST").string ?? ""
                return !clients.contains("name=\(name) ")
            }
        }
    }

    @Test func cancelledPoolWaiterLeavesNoLeak() async throws {
        try await withTestRedis(maximumConnections: 1) { redis in
            let key = uniqueKey()
            let holder = Task {
                try await redis.withConnection { connection in
                    try await connection.sendBlocking(["BLPOP", RedisArgument(key), "2"], timeout: .seconds(2))
                }
            }
            try await waitUntil(.seconds(5), "the only connection to be leased") { redis.poolStatistics.open == 1 && redis.poolStatistics.idle == 0 }
            let waiter = Task { try await redis.send("PING") }
            try await waitUntil(.seconds(5), "a waiter to queue") { redis.poolStatistics.waiters == 1 }
            waiter.cancel()
            let waited = await waiter.result
            #expect(throws: CancellationError.self) { try waited.get() }
            holder.cancel()
            _ = await holder.result
            #expect(redis.poolStatistics.waiters == 0)
            #expect(try await redis.send("PING") == .status("PONG"))
        }
    }
}
