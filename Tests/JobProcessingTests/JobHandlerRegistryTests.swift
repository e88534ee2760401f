import Pickle
import Testing
import JobProcessing

@Suite("Job handler registry and built-in functions")
struct JobHandlerRegistryTests {
    private func run(_ name: String, args: [PythonValue] = [], kwargs: [(String, PythonValue)] = []) async throws -> PythonValue {
        let registry = JobHandlerRegistry.builtIns
        let handler = try #require(registry.handler(for: name))
        return try await handler(JobContext(jobID: "j1", functionName: name, args: args, kwargs: kwargs))
    }

    @Test func echoReturnsArgsAndKwargs() async throws {
        let result = try await run("resume_processor.jobs.echo", args: ["a", 2], kwargs: [("k", .bytes([0]))])
        #expect(PythonRepr.repr(result) == "{'args': ['a', 2], 'kwargs': {'k': b'\\x00'}}")
    }

    @Test func sleepReturnsItsArgumentAndIsCancellable() async throws {
        #expect(try await run("resume_processor.jobs.sleep", args: [.float(0.01)]) == .float(0.01))
        let task = Task { try await run("resume_processor.jobs.sleep", args: [60]) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        await #expect(throws: JobFailure.self) { try await run("resume_processor.jobs.sleep", args: ["x"]) }
    }

    @Test func failRaisesWithItsMessage() async throws {
        await #expect {
            try await run("resume_processor.jobs.fail", args: ["boom"])
        } throws: { error in
            (error as? JobFailure)?.description == "ValueError: boom"
        }
    }

    @Test func aliasesAndUnknownNames() async throws {
        var registry = JobHandlerRegistry()
        registry.register("app.workers.async_resume_processor.process_resume_async", aliases: ["process_resume"]) { _ in .none }
        #expect(registry.handler(for: "process_resume") != nil)
        #expect(registry.handler(for: "nope") == nil)
        #expect(registry.names == ["app.workers.async_resume_processor.process_resume_async", "process_resume"])
        #expect(JobHandlerRegistry.unknownFunction("nope").description.contains("'nope'"))
    }
}
