import Foundation
import LocalProviders
import Providers
import TestSupport

/// The text `extractor` reads from `bytes` stored under a fresh key as `kind`.
func extractText(_ bytes: [UInt8], as kind: DocumentKind, with extractor: LocalExtractor) async throws(ProviderError) -> String {
    let key = uniqueKey("resume")
    let document = StoredDocument(key: key, kind: kind, storage: DictionaryStorageFixture([key: Data(bytes)]))
    return try await extractor.extractText(from: document)
}

/// The error `extractor` throws for `bytes` as `kind`, or `nil` when it reads them.
func extractionError(_ bytes: [UInt8], as kind: DocumentKind, with extractor: LocalExtractor) async -> ProviderError? {
    do {
        _ = try await extractText(bytes, as: kind, with: extractor)
        return nil
    } catch {
        return error
    }
}
