import AppConfig
import AppSupport
import ArgumentParser
import Foundation
import Providers
import ResumePipeline

/// `worker embed [--provider local|gemini] TEXT…`: prints, one JSON array a line, the vector the
/// pipeline would store for each text — to check a configuration, and for tests.
struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Print the embedding of each TEXT as one JSON array per line (the vector the pipeline would store)."
    )

    enum Provider: String, ExpressibleByArgument, CaseIterable {
        case configured, local, gemini
    }

    @OptionGroup var options: CommonOptions

    @Option(help: "Which embedder: the configured one (Gemini with GEMINI_API_KEY, else local), local (LOCAL_EMBEDDER), or gemini.")
    var provider: Provider = .configured

    @Flag(help: "Embed as a query (job post) instead of a document (résumé); only Gemini tells them apart.")
    var query = false

    @Argument(help: "The texts; '-' reads one text from standard input.")
    var texts: [String]

    func run() async throws {
        let logger = options.logger(label: "embed")
        var configuration = Startup.loadConfiguration(dotEnvPath: options.envFile)
        switch provider {
        case .configured: break
        case .local: configuration.geminiAPIKey = nil
        case .gemini:
            guard configuration.geminiAPIKey != nil else { throw ValidationError("--provider gemini needs GEMINI_API_KEY") }
        }
        let embedder = ResumeProviders.embedder(configuration, logger: logger)
        let inputs = texts.map { $0 == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : $0 }
        let vectors: [[Float]]
        do {
            vectors = try await embedder.embed(inputs, task: query ? .query : .document)
        } catch {
            throw ValidationError("\(embedder.name): \(error)")
        }
        FileHandle.standardError.write(Data("\(embedder.name), \(embedder.dimensions) dimensions\n".utf8))
        for vector in vectors {
            print("[" + vector.map { "\($0)" }.joined(separator: ",") + "]")
        }
    }
}
