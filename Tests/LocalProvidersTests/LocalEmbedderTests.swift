import LocalProviders
import Providers
import TestSupport
import Testing

@Suite("Local hashed n-gram embedder")
struct LocalEmbedderTests {
    let embedder = LocalEmbedder()

    private func norm(_ vector: [Float]) -> Double {
        vector.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    @Test func nameDimensionsAndNorm() async throws {
        #expect(embedder.name == "local-hash-ngram-768")
        #expect(embedder.dimensions == 768)
        #expect(LocalEmbedder(dimensions: 256).name == "local-hash-ngram-256")
        let vectors = try await embedder.embed(["Senior Swift engineer", "Zoë Müller, Zürich", "x"], task: .document)
        #expect(vectors.count == 3)
        for vector in vectors {
            #expect(vector.count == 768)
            #expect(abs(norm(vector) - 1) < 1e-5)
        }
        let small = try await LocalEmbedder(dimensions: 64).embed(["Senior Swift engineer"], task: .query)
        #expect(small[0].count == 64 && abs(norm(small[0]) - 1) < 1e-5)
    }

    @Test func deterministicAcrossCallsTasksAndProcesses() async throws {
        let text = "Backend engineer: Swift, PostgreSQL, Redis, Kubernetes. Swift again."
        let first = try await embedder.embed([text], task: .document)[0]
        let second = try await LocalEmbedder().embed([text], task: .query)[0]
        #expect(first == second)  // bit for bit, and the task does not matter
        // Golden values: FNV-1a 64 is fixed, so this holds in every process and on every machine
        // (Swift's Hasher would differ per process). Computed independently in Python:
        // fnv1a64(tag 1, "swift" as UTF-32LE) = 0x972405bf7a1045b1, tagged in the low 3 bits.
        let word = LocalEmbedder(dimensions: 1_000_003).vector(for: "Swift")
        let expectedWordBucket = Int((UInt64(0x9724_05BF_7A10_45B1) >> 3) % 1_000_003)
        #expect(word[expectedWordBucket] < 0)  // bit 63 set → negative sign
        #expect(word.filter { $0 != 0 }.count == 1 + 5 + 4)  // 1 word, 5 trigrams, 4 four-grams of "<swift>"
        let wordWeight = 1.0 / (1.0 + 9 * 0.04).squareRoot()
        #expect(abs(Double(word[expectedWordBucket]) + wordWeight) < 1e-6)
    }

    @Test func emptyTextGivesTheZeroVector() async throws {
        let vectors = try await embedder.embed(["", "  \n\t-- !!", "the and of"], task: .document)
        for vector in vectors { #expect(vector == [Float](repeating: 0, count: 768)) }
    }

    @Test func caseAndPunctuationDoNotMatter() {
        let a = embedder.vector(for: "Senior Swift Engineer, PostgreSQL & Redis!")
        let b = embedder.vector(for: "senior swift engineer postgresql redis")
        #expect(cosineSimilarity(a, b) > 0.999)
    }

    @Test func textsSharingMoreTermsScoreHigher() {
        // Lexical similarity: shared words, word pairs and word fragments, not meaning.
        let query = embedder.vector(for: "Backend engineer: Swift, PostgreSQL, Redis, Kubernetes")
        let similar = embedder.vector(for: "Swift backend developer using PostgreSQL and Redis on Kubernetes")
        let related = embedder.vector(for: "Frontend engineer using React, TypeScript and CSS")
        let unrelated = embedder.vector(for: "Boulangerie: gestion d'équipe, caisse et inventaires")
        #expect(cosineSimilarity(query, similar) > 0.5)
        #expect(cosineSimilarity(query, similar) > cosineSimilarity(query, related))
        #expect(cosineSimilarity(query, related) > cosineSimilarity(query, unrelated))
        #expect(abs(cosineSimilarity(query, unrelated)) < 0.1)
        // Character n-grams relate inflections and compounds a little.
        let stem = cosineSimilarity(embedder.vector(for: "postgres"), embedder.vector(for: "postgresql"))
        #expect(stem > 0.2 && stem < 0.9)
        #expect(abs(cosineSimilarity(embedder.vector(for: "postgres"), embedder.vector(for: "kubernetes"))) < 0.1)
    }

    @Test func fixtureRankingPutsTheBackendEngineerFirst() async throws {
        let fixtures = ResumeFixtures.shared
        let extractor = LocalExtractor(logger: TestEnvironment.logger)
        let post = embedder.vector(for: fixtures.jobPost)
        var scores: [String: Double] = [:]
        for name in fixtures.rankingHint {
            let text = try await extractor.extractText(from: ResumeFixtures.bytes(name), declaredKind: fixtures.file(name).kind)
            scores[name] = cosineSimilarity(post, embedder.vector(for: text))
        }
        let best = scores.max { $0.value < $1.value }?.key
        #expect(best == "alice_chen.pdf", "\(scores)")
        #expect(scores["alice_chen.pdf"]! > scores["zoe_mueller.txt"]!)
        #expect(scores["francois_lefevre_cp1252.txt"]! == scores.values.min())
    }

    @Test func handlesLongAndUnusualText() async throws {
        let long = String(repeating: "Distributed systems engineer, C++ and C# on Kubernetes. ", count: 4_000)  // ~230 000 characters
        let clock = ContinuousClock()
        let started = clock.now
        let vector = embedder.vector(for: long)
        #expect(clock.now - started < .seconds(10))  // debug build on a busy machine; release is far faster
        #expect(abs(norm(vector) - 1) < 1e-5)
        // C++ and C# stay distinct from C.
        #expect(embedder.vector(for: "C++") != embedder.vector(for: "C#"))
        #expect(cosineSimilarity(embedder.vector(for: "C++"), embedder.vector(for: "C")) < 0.9)
        // Non-Latin scripts and emoji neither crash nor vanish.
        let mixed = embedder.vector(for: "Инженер 工程师 مهندس 👩‍💻 ÅNGSTRÖM")
        #expect(abs(norm(mixed) - 1) < 1e-5)
        #expect(cosineSimilarity(embedder.vector(for: "ÅNGSTRÖM"), embedder.vector(for: "ångström")) > 0.999)
    }
}
