import AppSupport
import ApplicationStore
import ArgumentParser
import Foundation
import Providers
import ResumePipeline

/// `worker reembed [--job-post ID]`: recomputes the stored embeddings and scores that another
/// embedder made (after a switch of `LOCAL_EMBEDDER`, `LOCAL_EMBEDDING_MODEL` or Gemini settings),
/// so the ranking includes them again. Idempotent and resumable; prints a progress line.
struct ReembedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reembed",
        abstract: "Recompute embeddings and match scores stored by another embedder than the configured one."
    )

    @OptionGroup var options: CommonOptions

    @Option(name: .customLong("job-post"), help: "Only this job post and its applications.")
    var jobPost: String?

    func run() async throws {
        let jobPostID: UUID?
        if let jobPost {
            guard let id = UUID(uuidString: jobPost) else { throw ValidationError("--job-post must be a UUID") }
            jobPostID = id
        } else {
            jobPostID = nil
        }
        try await options.withClients(label: "reembed") { configuration, _, postgres, logger in
            _ = try await Startup.migrate(postgres, logger: logger)
            let embedder = ResumeProviders.embedder(configuration, logger: logger)
            let reembedder = Reembedder(repository: ApplicationRepository(client: postgres), embedder: embedder, logger: logger)
            let summary = try await reembedder.run(jobPostID: jobPostID) { done, total in
                FileHandle.standardError.write(Data("re-embedded \(done)/\(total) applications with \(embedder.name)\n".utf8))
            }
            print("\(embedder.name): \(summary.posts) job post vectors and \(summary.applications) applications re-embedded")
        }
    }
}
