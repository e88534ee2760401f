import AppConfig
import ApplicationStore
import ArgumentParser
import Foundation
import Gemini
import HTTPAPI
import LocalProviders
import Logging
import Postgres
import Providers
import Redis
import ResumePipeline
import ServiceLifecycle
import Synchronization
import JobProcessing
import WorkerRuntime

#if canImport(Glibc)
import Glibc
#endif

/// A ``TextExtractor`` standing in for a remote extraction service such as Textract: it reads the
/// stored file (as the service would fetch it), waits `delay` (the service's latency) and answers
/// the text the service would send back, prepared beforehand. No extraction runs on this machine;
/// a file with no prepared answer is an error.
struct SimulatedRemoteExtractor: TextExtractor {
    let answers: [Data: String]
    let delay: Duration

    var name: String { "simulated-remote" }

    func extractText(from document: StoredDocument) async throws(ProviderError) -> String {
        let bytes = try await document.storage.get(key: document.key)
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw ProviderError(.timeout, "cancelled")
        }
        guard let text = answers[bytes] else { throw ProviderError(.unreadableDocument, "no prepared answer for \(document.key)") }
        return text
    }
}
