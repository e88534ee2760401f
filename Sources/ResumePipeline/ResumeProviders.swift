import AppConfig
import AWS
import Foundation
import Gemini
import LocalProviders
import Logging
import Providers
import SentenceEmbedding
import StorageFactory

/// The providers one process uses, chosen by configuration: S3 + Textract when
/// `AWS_S3_BUCKET_NAME` is set (DOCX and TXT still extracted locally), Gemini when
/// `GEMINI_API_KEY` is set; otherwise the embedded defaults (local folder, local extraction,
/// local embedder), which need no account.
public struct ResumeProviders: Sendable {
    /// Where files are.
    public var storage: any ResumeStorage
    /// Text extraction.
    public var extractor: any TextExtractor
    /// Embeddings.
    public var embedder: any Embedder

    /// Creates a set.
    public init(storage: any ResumeStorage, extractor: any TextExtractor, embedder: any Embedder) {
        self.storage = storage
        self.extractor = extractor
        self.embedder = embedder
    }

    /// The set `configuration` selects.
    public static func make(_ configuration: AppConfiguration, logger: Logger) -> ResumeProviders {
        let ocr = OCRConfiguration(languages: configuration.ocrLanguages, maximumPixels: configuration.maxImagePixels)
        let local = LocalExtractor(configuration: LocalExtractorConfiguration(ocr: ocr), logger: logger)
        let storage = ResumeStorageFactory.make(configuration, logger: logger)
        let extractor: any TextExtractor
        if let aws = configuration.aws {
            let textract = TextractExtractor(
                configuration: TextractConfiguration(
                    region: aws.region, endpoint: ResumeStorageFactory.endpoint(aws), credentials: ResumeStorageFactory.credentials(aws),
                    bucket: aws.bucket),
                logger: logger)
            extractor = RoutingExtractor(textract: textract, other: local)
        } else {
            extractor = local
        }
        return ResumeProviders(storage: storage, extractor: extractor, embedder: embedder(configuration, logger: logger))
    }

    /// The embedder `configuration` selects: Gemini with `GEMINI_API_KEY`, else the local one.
    public static func embedder(_ configuration: AppConfiguration, logger: Logger) -> any Embedder {
        guard let key = configuration.geminiAPIKey else { return localEmbedder(configuration, logger: logger) }
        var gemini = GeminiConfiguration(apiKey: key, model: configuration.geminiModel, dimensions: configuration.geminiDimensions)
        if let base = configuration.geminiBaseURL.flatMap(URL.init(string:)) { gemini.baseURL = base }
        return GeminiEmbedder(configuration: gemini, logger: logger)
    }

    /// The local embedder: all-MiniLM-L6-v2 when chosen and loadable, otherwise the hashed one,
    /// with a warning that says why (ranking is then lexical, not semantic).
    public static func localEmbedder(_ configuration: AppConfiguration, logger: Logger) -> any Embedder {
        guard configuration.localEmbedder == .minilm else { return LocalEmbedder() }
        // The same presence check `worker check` prints, so the two never disagree.
        guard configuration.localEmbeddingModelIsPresent else {
            logger.warning(
                "no all-MiniLM-L6-v2 model: using the lexical hashed embedder (fetch the model with scripts/run.sh or set LOCAL_EMBEDDING_MODEL)",
                metadata: ["model.directory": "\(configuration.localEmbeddingModel)"])
            return LocalEmbedder()
        }
        do {
            return try MiniLMEmbedder(configuration: MiniLMConfiguration(directory: URL(fileURLWithPath: configuration.localEmbeddingModel)))
        } catch {
            logger.warning(
                "the all-MiniLM-L6-v2 model did not load: using the lexical hashed embedder",
                metadata: ["model.directory": "\(configuration.localEmbeddingModel)", "error": "\(error)"])
            return LocalEmbedder()
        }
    }

    /// `storage/extractor/embedder` names, for logs.
    public var summary: String { "storage=\(storage.name) extractor=\(extractor.name) embedder=\(embedder.name)" }
}

/// PDFs and images to one extractor (Textract), DOCX and text to another (local): Textract reads
/// PDFs and images, not DOCX or text.
public struct RoutingExtractor: TextExtractor {
    let textract: any TextExtractor
    let other: any TextExtractor

    /// Routes PDFs and PNG/JPEG/TIFF images to `textract` and the rest to `other`.
    public init(textract: any TextExtractor, other: any TextExtractor) {
        self.textract = textract
        self.other = other
    }

    /// `<textract>+<other>`.
    public var name: String { "\(textract.name)+\(other.name)" }

    /// Extracts with the extractor for `document.kind`.
    public func extractText(from document: StoredDocument) async throws(ProviderError) -> String {
        document.kind == .pdf || document.kind.isImage
            ? try await textract.extractText(from: document) : try await other.extractText(from: document)
    }
}
