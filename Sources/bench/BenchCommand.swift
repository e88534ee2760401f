import ArgumentParser

/// `bench`: release-mode benchmarks that measure this project next to its references in one run.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, each printed next to its reference measured in the same run (use -c release).",
        subcommands: [RedisBench.self, CodecBench.self, FuzzCommand.self, WorkerBench.self, APIBench.self, PipelineBench.self, EmbedBench.self, OCRBench.self, RankingBench.self]
    )
}
