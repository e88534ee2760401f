import Foundation
import Postgres
import Redis

/// A configuration value that could not be used; names the variable, never its value.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The environment variable at fault (or `.env` for a file problem).
    public var variable: String
    /// What is wrong with it.
    public var reason: String
    /// `"<VARIABLE>: <reason>"`.
    public var description: String { "\(variable): \(reason)" }
}

/// How jobs travel through Redis.
public enum QueueMode: String, Sendable, Hashable, CaseIterable {
    /// The seed's format: ids on the list `resume_processing_queue` plus `job:{id}` hashes.
    case native
    /// Python RQ's wire format on `rq:queue:resume_processing`.
    case rq
}

/// AWS settings, present only when `AWS_S3_BUCKET_NAME` is set.
public struct AWSSettings: Sendable, Hashable {
    /// `AWS_ACCESS_KEY_ID`.
    public var accessKeyID: String
    /// `AWS_SECRET_ACCESS_KEY`; never printed.
    public var secretAccessKey: String
    /// `AWS_SESSION_TOKEN`, if any; never printed.
    public var sessionToken: String?
    /// `AWS_DEFAULT_REGION` (or `AWS_REGION`). Default: `us-east-1`.
    public var region: String
    /// `AWS_S3_BUCKET_NAME`.
    public var bucket: String
    /// `AWS_ENDPOINT_URL` for S3/Textract-compatible servers (moto, MinIO); `nil` for AWS.
    public var endpointURL: String?
}

extension AWSSettings: CustomStringConvertible, CustomReflectable {
    /// Region, bucket and endpoint; the key id is masked and secrets are never shown.
    public var description: String {
        "AWS(region: \(region), bucket: \(bucket), endpoint: \(endpointURL ?? "AWS"), key: \(AppConfiguration.mask(accessKeyID)))"
    }
    /// A mirror that shows only ``description``.
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

/// Everything the executables read from the environment and `.env`, validated once at start.
///
/// Real environment variables take precedence over `.env`. Cloud providers are used only when their
/// keys are present; otherwise the embedded defaults apply (local folder, local extraction, local
/// embedder). ``description`` redacts every secret.
public struct AppConfiguration: Sendable {
    /// Redis, from `REDIS_URL`. Default: `redis://127.0.0.1:6379/0`.
    public var redis: RedisConfiguration
    /// PostgreSQL, from `DB_URL` (else `ASYNC_DB_URL`). Default:
    /// `postgresql://postgres@127.0.0.1:5432/resume_processor`.
    public var postgres: PostgresConfiguration
    /// AWS S3/Textract settings when `AWS_S3_BUCKET_NAME` is set; `nil` selects local storage and
    /// local text extraction.
    public var aws: AWSSettings?
    /// `GEMINI_API_KEY`; `nil` selects the local embedder. Never printed.
    public var geminiAPIKey: String?
    /// `QUEUE_MODE` (`native` or `rq`). Default: `native`; `--rq` overrides it.
    public var queueMode: QueueMode
    /// `DATA_DIR`: where local storage keeps uploaded files. Default: `./.data/files`.
    public var dataDirectory: String
    /// `GEMINI_MODEL`. Default: `gemini-embedding-001`.
    public var geminiModel: String = "gemini-embedding-001"
    /// `GEMINI_DIMENSIONS` (`outputDimensionality`). Default: `768`.
    public var geminiDimensions: Int = 768
    /// `GEMINI_BASE_URL`, for a proxy or a local stand-in. Default: Google's endpoint.
    public var geminiBaseURL: String?
    /// `LOCAL_EMBEDDER` (`minilm` or `hashed`): the embedder used without `GEMINI_API_KEY`.
    /// Default: `minilm`, which falls back to `hashed` (with a warning) when the model is missing.
    public var localEmbedder: LocalEmbedderChoice = .minilm
    /// `LOCAL_EMBEDDING_MODEL`: the all-MiniLM-L6-v2 folder (`config.json`, `vocab.txt`,
    /// `model.safetensors`). Default: `./.models/all-minilm-l6-v2`, where the scripts fetch it.
    public var localEmbeddingModel: String = "./.models/all-minilm-l6-v2"
    /// `OCR_LANGUAGES`: tesseract's language data for local OCR, joined by `+`, the first tried
    /// first. Default: `eng+deu+fra+spa`.
    public var ocrLanguages: String = "eng+deu+fra+spa"
    /// `MAX_IMAGE_PIXELS`: the most pixels an image (or a rasterised PDF page) may have before
    /// anything decodes it; the API refuses larger uploads, local OCR larger pages. Default: 50 000 000.
    public var maxImagePixels: Int = 50_000_000

    /// The variables this configuration reads, for `--help` texts and the README.
    public static let variables = [
        "REDIS_URL", "DB_URL", "ASYNC_DB_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_S3_BUCKET_NAME", "AWS_ENDPOINT_URL", "GEMINI_API_KEY", "GEMINI_MODEL", "GEMINI_DIMENSIONS", "GEMINI_BASE_URL", "QUEUE_MODE",
        "DATA_DIR", "DB_PREPARED_STATEMENTS", "LOCAL_EMBEDDER", "LOCAL_EMBEDDING_MODEL", "OCR_LANGUAGES", "MAX_IMAGE_PIXELS",
    ]

    /// Loads the configuration from the process environment and the `.env` file at `dotEnvPath`
    /// (ignored when absent). Environment variables win over the file.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        dotEnvPath: String? = ".env"
    ) throws(ConfigurationError) -> AppConfiguration {
        var values: [String: String] = [:]
        if let dotEnvPath, FileManager.default.fileExists(atPath: dotEnvPath) {
            guard let data = FileManager.default.contents(atPath: dotEnvPath) else {
                throw ConfigurationError(variable: ".env", reason: "\(dotEnvPath) is not readable")
            }
            do {
                values = try DotEnv.parse(String(decoding: data, as: UTF8.self))
            } catch {
                throw ConfigurationError(variable: ".env", reason: error.description)
            }
        }
        for (key, value) in environment { values[key] = value }
        return try AppConfiguration(values: values)
    }

    /// Builds a configuration from already-merged key/value pairs.
    public init(values: [String: String]) throws(ConfigurationError) {
        func value(_ key: String) -> String? {
            guard let text = values[key]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        do {
            redis = try RedisConfiguration(url: value("REDIS_URL") ?? "redis://127.0.0.1:6379/0")
        } catch {
            throw ConfigurationError(variable: "REDIS_URL", reason: error.message)
        }
        let dbVariable = value("DB_URL") != nil ? "DB_URL" : "ASYNC_DB_URL"
        do {
            postgres = try PostgresConfiguration(
                url: value("DB_URL") ?? value("ASYNC_DB_URL") ?? "postgresql://postgres@127.0.0.1:5432/resume_processor"
            )
        } catch {
            throw ConfigurationError(variable: dbVariable, reason: error.message)
        }
        if let prepared = value("DB_PREPARED_STATEMENTS") {
            switch prepared.lowercased() {
            case "1", "true", "yes", "on": postgres.preparedStatements = true
            case "0", "false", "no", "off": postgres.preparedStatements = false
            default: throw ConfigurationError(variable: "DB_PREPARED_STATEMENTS", reason: "must be true or false (got \(prepared))")
            }
        }
        if let bucket = value("AWS_S3_BUCKET_NAME") {
            guard let key = value("AWS_ACCESS_KEY_ID") else {
                throw ConfigurationError(variable: "AWS_ACCESS_KEY_ID", reason: "required when AWS_S3_BUCKET_NAME is set")
            }
            guard let secret = value("AWS_SECRET_ACCESS_KEY") else {
                throw ConfigurationError(variable: "AWS_SECRET_ACCESS_KEY", reason: "required when AWS_S3_BUCKET_NAME is set")
            }
            let region = value("AWS_DEFAULT_REGION") ?? value("AWS_REGION") ?? "us-east-1"
            guard region.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw ConfigurationError(variable: "AWS_DEFAULT_REGION", reason: "must look like us-east-1")
            }
            let endpoint = value("AWS_ENDPOINT_URL")
            if let endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
                throw ConfigurationError(variable: "AWS_ENDPOINT_URL", reason: "must start with http:// or https://")
            }
            aws = AWSSettings(
                accessKeyID: key, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"),
                region: region, bucket: bucket, endpointURL: endpoint
            )
        } else {
            aws = nil
        }
        geminiAPIKey = value("GEMINI_API_KEY")
        if let model = value("GEMINI_MODEL") {
            guard model.allSatisfy({ $0.isLetter || $0.isNumber || "-._".contains($0) }) else {
                throw ConfigurationError(variable: "GEMINI_MODEL", reason: "must be a model name such as gemini-embedding-001")
            }
            geminiModel = model
        }
        if let text = value("GEMINI_DIMENSIONS") {
            guard let dimensions = Int(text), (1...3072).contains(dimensions) else {
                throw ConfigurationError(variable: "GEMINI_DIMENSIONS", reason: "must be a whole number from 1 to 3072")
            }
            geminiDimensions = dimensions
        }
        if let base = value("GEMINI_BASE_URL") {
            guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
                throw ConfigurationError(variable: "GEMINI_BASE_URL", reason: "must start with http:// or https://")
            }
            geminiBaseURL = base
        }
        if let mode = value("QUEUE_MODE") {
            guard let parsed = QueueMode(rawValue: mode.lowercased()) else {
                throw ConfigurationError(variable: "QUEUE_MODE", reason: "must be 'native' or 'rq'")
            }
            queueMode = parsed
        } else {
            queueMode = .native
        }
        dataDirectory = value("DATA_DIR") ?? "./.data/files"
        if let choice = value("LOCAL_EMBEDDER") {
            guard let parsed = LocalEmbedderChoice(rawValue: choice.lowercased()) else {
                throw ConfigurationError(variable: "LOCAL_EMBEDDER", reason: "must be 'minilm' or 'hashed'")
            }
            localEmbedder = parsed
        }
        if let model = value("LOCAL_EMBEDDING_MODEL") { localEmbeddingModel = model }
        if let languages = value("OCR_LANGUAGES") {
            let names = languages.split(separator: "+", omittingEmptySubsequences: false)
            guard (1...16).contains(names.count), names.allSatisfy({ name in
                (1...32).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            }) else {
                throw ConfigurationError(variable: "OCR_LANGUAGES", reason: "must be tesseract language names joined by '+', such as eng+deu")
            }
            ocrLanguages = languages
        }
        if let text = value("MAX_IMAGE_PIXELS") {
            guard let pixels = Int(text), pixels >= 1, pixels <= 1 << 32 else {
                throw ConfigurationError(variable: "MAX_IMAGE_PIXELS", reason: "must be a whole number of pixels between 1 and 4294967296")
            }
            maxImagePixels = pixels
        }
    }

    /// Whether ``localEmbeddingModel`` holds the model's three files.
    public var localEmbeddingModelIsPresent: Bool {
        ["config.json", "vocab.txt", "model.safetensors"].allSatisfy {
            FileManager.default.isReadableFile(atPath: (localEmbeddingModel as NSString).appendingPathComponent($0))
        }
    }

    /// The local embedder that will run: MiniLM when chosen and present, else hashed.
    public var effectiveLocalEmbedder: LocalEmbedderChoice {
        localEmbedder == .minilm && localEmbeddingModelIsPresent ? .minilm : .hashed
    }

    /// The providers this configuration selects, in words.
    public var providerSummary: String {
        let storage = aws.map { "S3 bucket \($0.bucket)" } ?? "local folder \(dataDirectory)"
        let extraction = aws == nil
            ? "local (pdftotext/DOCX/TXT, tesseract OCR \(ocrLanguages))" : "Amazon Textract (PDF and images; DOCX/TXT locally)"
        let embedding: String
        if geminiAPIKey != nil {
            embedding = "Gemini \(geminiModel) (\(geminiDimensions) dims)"
        } else if effectiveLocalEmbedder == .minilm {
            embedding = "local all-MiniLM-L6-v2 (384 dims, semantic) from \(localEmbeddingModel)"
        } else if localEmbedder == .hashed {
            embedding = "local hashed n-grams (768 dims, lexical; LOCAL_EMBEDDER=hashed)"
        } else {
            embedding = "local hashed n-grams (768 dims, lexical) — WARNING: no all-MiniLM-L6-v2 model at "
                + "\(localEmbeddingModel) (fetch it with scripts/run.sh, or set LOCAL_EMBEDDING_MODEL)"
        }
        return "storage: \(storage); extraction: \(extraction); embedding: \(embedding)"
    }
}

extension AppConfiguration: CustomStringConvertible, CustomReflectable {
    /// A multi-line summary with every secret redacted.
    public var description: String {
        var lines = [
            "REDIS_URL=\(redis.redactedURL)",
            "DB_URL=\(postgres.redactedURL)",
            "QUEUE_MODE=\(queueMode.rawValue)",
        ]
        if let aws {
            lines.append("AWS_ACCESS_KEY_ID=\(Self.mask(aws.accessKeyID))")
            lines.append("AWS_SECRET_ACCESS_KEY=***")
            if aws.sessionToken != nil { lines.append("AWS_SESSION_TOKEN=***") }
            lines.append("AWS_DEFAULT_REGION=\(aws.region)")
            lines.append("AWS_S3_BUCKET_NAME=\(aws.bucket)")
            if let endpoint = aws.endpointURL { lines.append("AWS_ENDPOINT_URL=\(endpoint)") }
        }
        lines.append("GEMINI_API_KEY=\(geminiAPIKey == nil ? "(unset)" : "***")")
        lines.append("DATA_DIR=\(dataDirectory)")
        if geminiAPIKey == nil {
            lines.append("LOCAL_EMBEDDER=\(localEmbedder.rawValue)")
            lines.append("LOCAL_EMBEDDING_MODEL=\(localEmbeddingModel)")
        }
        lines.append(providerSummary)
        return lines.joined(separator: "\n")
    }

    /// A mirror that shows only the redacted description, so `dump` cannot print secrets.
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }

    /// Shows the first four characters of an access key id (as the AWS console does), never a secret.
    static func mask(_ keyID: String) -> String {
        keyID.count <= 4 ? "***" : "\(keyID.prefix(4))***"
    }
}

/// Which embedder runs locally (no `GEMINI_API_KEY`).
public enum LocalEmbedderChoice: String, Sendable, CaseIterable {
    /// all-MiniLM-L6-v2 in Swift: semantic, 384 dimensions.
    case minilm
    /// Hashed word and n-gram features: lexical, 768 dimensions, needs no model.
    case hashed
}
