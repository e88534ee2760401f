import ApplicationStore
import Foundation
import Synchronization
import LocalProviders
import Providers
import ResumePipeline
import Testing
import TestSupport

/// The local embedder's vectors under another name: same length, another model.
struct RenamedEmbedder: Embedder {
    let base = LocalEmbedder()
    let name: String
    var dimensions: Int { base.dimensions }
    func embed(_ texts: [String], task: EmbeddingTask) async throws(ProviderError) -> [[Float]] {
        try await base.embed(texts.map { "\(name) \($0)" }, task: task)
    }
}

@Suite("Vectors of different models are never compared", .timeLimit(.minutes(3)))
struct EmbeddingModelTests {
    func processor(_ harness: PipelineHarness, _ embedder: any Embedder) -> ResumeProcessor {
        let providers = ResumeProviders(storage: harness.providers.storage, extractor: harness.providers.extractor, embedder: embedder)
        return ResumeProcessor(repository: harness.repository, providers: providers, logger: TestEnvironment.logger)
    }

    @Test func aSwitchOfEmbedderRanksOnlyTheNewModelUntilReembed() async throws {
        try await PipelineHarness.with { harness in
            let post = try await harness.makeJobPost()
            let files = PipelineFixtures.files.filter { $0.outcome == "text" && $0.kind != .pdf }.prefix(3)
            try #require(files.count == 3)
            var old: [UUID] = []
            for file in files {
                let id = try await harness.upload(file, to: post).id
                try await harness.processor.process(applicationID: id)
                old.append(id)
            }
            let before = try await harness.repository.candidates(jobPostID: post.id, limit: 10, after: nil).items
            #expect(Set(before.map(\.id)) == Set(old))
            #expect(before.allSatisfy { $0.embeddingModel == "local-hash-ngram-768" && $0.embedding?.count == 768 })
            #expect(try await harness.repository.jobPost(id: post.id)?.embeddingModel == "local-hash-ngram-768")

            // Another model of the same length: the post's vector is recomputed, not reused.
            let other = RenamedEmbedder(name: "other-model-768")
            let fresh = try await harness.upload(files.first!, to: post).id
            try await processor(harness, other).process(applicationID: fresh)
            let storedPost = try #require(try await harness.repository.jobPost(id: post.id))
            #expect(storedPost.embeddingModel == "other-model-768")
            let expectedPost = try await other.embed([post.embeddingText], task: .query)[0]
            #expect(storedPost.embedding == expectedPost)
            let after = try await harness.repository.candidates(jobPostID: post.id, limit: 10, after: nil).items
            #expect(after.map(\.id) == [fresh], "only the new model's row is ranked")

            // reembed brings the others back, scored against the new vector; a second run does nothing.
            let reembedder = Reembedder(repository: harness.repository, embedder: other, logger: TestEnvironment.logger)
            let progress = ProgressLog()
            let summary = try await reembedder.run(jobPostID: nil) { done, total in progress.append(done, total) }
            #expect(summary == Reembedder.Summary(posts: 0, applications: 3))
            #expect(progress.last?.total == 3 && progress.last?.done == 3)
            let ranked = try await harness.repository.candidates(jobPostID: post.id, limit: 10, after: nil).items
            #expect(Set(ranked.map(\.id)) == Set(old + [fresh]))
            for row in ranked {
                let vector = try await other.embed([row.extractedText ?? ""], task: .document)[0]
                #expect(row.embeddingModel == "other-model-768" && row.embedding == vector)
                #expect(abs((row.matchScore ?? -2) - cosineSimilarity(vector, expectedPost)) < 1e-9)
            }
            #expect(try await reembedder.run(jobPostID: nil) == Reembedder.Summary(posts: 0, applications: 0))
        }
    }

    @Test func reembedOfOnePostLeavesTheOthers() async throws {
        try await PipelineHarness.with { harness in
            let first = try await harness.makeJobPost()
            let second = try await harness.makeJobPost()
            let file = try #require(PipelineFixtures.files.first { $0.outcome == "text" && $0.kind != .pdf })
            for post in [first, second] {
                try await harness.processor.process(applicationID: try await harness.upload(file, to: post).id)
            }
            let other = LocalEmbedder(dimensions: 64)
            let summary = try await Reembedder(repository: harness.repository, embedder: other, logger: TestEnvironment.logger)
                .run(jobPostID: second.id)
            #expect(summary == Reembedder.Summary(posts: 1, applications: 1))
            #expect(try await harness.repository.jobPost(id: first.id)?.embeddingModel == "local-hash-ngram-768")
            #expect(try await harness.repository.jobPost(id: second.id)?.embedding?.count == 64)
            let rows = try await harness.repository.candidates(jobPostID: second.id, limit: 10, after: nil).items
            #expect(rows.count == 1 && rows[0].embeddingModel == "local-hash-ngram-64" && rows[0].embedding?.count == 64)
            #expect(try await harness.repository.candidates(jobPostID: first.id, limit: 10, after: nil).items.count == 1)
        }
    }
}

/// Progress calls, in order.
final class ProgressLog: Sendable {
    private let calls = Mutex<[(done: Int, total: Int)]>([])
    func append(_ done: Int, _ total: Int) { calls.withLock { $0.append((done, total)) } }
    var last: (done: Int, total: Int)? { calls.withLock { $0.last } }
}
