import FuzzSupport
import FuzzTargets
import HTTPAPI
import Testing

/// The short CI version of `bench fuzz`'s multipart and SigV4 targets: mutated upload forms fed to
/// the streaming form reader in random chunkings must parse or be refused with a typed reason, and
/// signing random requests must be deterministic and well-formed. Surviving is the main assertion;
/// the seed and iteration are in every failure message.
@Suite("Upload form and SigV4 fuzzing")
struct FormAndSigningFuzzTests {
    @Test(arguments: [UInt64(11), 12, 13])
    func mutatedFormsParseOrAreRefused(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let forms = MultipartSeeds.bodies()
        var parsed = 0
        for iteration in 0..<4_000 {
            let (contentType, body) = forms[random.below(forms.count)]
            let input = ByteMutator.mutate(body, &random)
            do {
                let parts = try UploadFormProbe.parse(
                    contentType: contentType, body: input, chunkSize: 1 + random.below(300), limits: UploadLimits(maxFileBytes: 4096))
                #expect(parts.count <= UploadLimits().maxParts, "seed \(seed) iteration \(iteration)")
                parsed += 1
            } catch {
                // A typed refusal is the other allowed outcome.
            }
        }
        // The mutator leaves some inputs valid; if none parsed, the seeds themselves broke.
        #expect(parsed > 0, "seed \(seed): no mutated form parsed at all")
    }

    @Test func unmutatedSeedsParse() throws {
        for (contentType, body) in MultipartSeeds.bodies() {
            #expect(try !UploadFormProbe.parse(contentType: contentType, body: body, chunkSize: 7).isEmpty)
        }
    }

    @Test func signingRandomRequestsIsDeterministicAndWellFormed() {
        var random = SplitMix64(seed: 21)
        for iteration in 0..<3_000 {
            #expect(SigV4Fuzz.check(&random), "seed 21 iteration \(iteration)")
        }
    }
}

/// The long form of ``FormGuardTests``: random delimiter injections, mutated, in random chunkings.
/// MultipartKit must do exactly what the reader's model predicts (never `.inconsistent`, never a
/// trap — a trap ends the test process), with and without the plain-body shortcut.
@Suite("Form guard differential fuzzing")
struct FormGuardFuzzTests {
    @Test(arguments: [UInt64(51), 52])
    func injectedDelimitersNeverDesynchroniseTheModel(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var parsed = 0
        for iteration in 0..<5_000 {
            let body = DelimiterInjection.randomForm(&random)
            let chunk = 1 + random.below(random.below(4) == 0 ? 400 : 12)
            let direct = FormGuardTests.outcome(body, chunk: chunk, direct: true)
            #expect(direct != .failure(.inconsistent), "seed \(seed) iteration \(iteration)")
            #expect(direct == FormGuardTests.outcome(body, chunk: chunk, direct: false), "seed \(seed) iteration \(iteration)")
            if case .success = direct { parsed += 1 }
        }
        #expect(parsed > 500, "seed \(seed): too few forms parsed for the fuzzing to mean anything")
    }
}
