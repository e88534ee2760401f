import Logging
import ServiceLifecycle
import UnixSignals

/// Runs a `ServiceGroup` with RQ's two-step shutdown: the first SIGTERM or SIGINT is a warm
/// shutdown (stop taking work, let running work finish within the group's
/// `maximumGracefulShutdownDuration`, then cancel it); a second one is a cold shutdown (cancel now;
/// running jobs are recorded as interrupted). Build the group without signals of its own:
/// ServiceLifecycle refuses a signal that is both graceful and cancelling.
public enum TwoStepShutdown {
    private struct ColdShutdown: Error {}

    /// Runs `group` until it ends, handling SIGTERM/SIGINT as described above.
    public static func run(_ group: ServiceGroup, logger: Logger) async throws {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                tasks.addTask {
                    var received = 0
                    for await signal in signals {
                        received += 1
                        if received == 1 {
                            logger.notice("warm shutdown: finishing running work (send the signal again for a cold shutdown)",
                                          metadata: ["signal": "\(signal)"])
                            await group.triggerGracefulShutdown()
                        } else {
                            logger.notice("cold shutdown: cancelling running work", metadata: ["signal": "\(signal)"])
                            throw ColdShutdown()
                        }
                    }
                }
                // Whichever ends first: the group (done) or a cold shutdown (cancels the group).
                try await tasks.next()
                tasks.cancelAll()
            }
        } catch is ColdShutdown {
            return
        }
    }
}
