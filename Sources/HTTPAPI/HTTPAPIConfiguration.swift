import Foundation


/// Settings of the HTTP API.
public struct HTTPAPIConfiguration: Sendable {
    /// Interface to bind. Default: `127.0.0.1` (loopback only).
    public var host: String
    /// TCP port. Default: `8000`.
    public var port: Int
    /// Upload limits; `maxFileBytes` comes from `MAX_UPLOAD_BYTES` / `--max-upload-bytes`. Default: 10 MiB.
    public var limits: UploadLimits
    /// `API_KEY`: when set, every route but `/health` needs `Authorization: Bearer <key>` or
    /// `X-API-Key: <key>`. Never logged. Default: `nil` (open).
    public var apiKey: String?
    /// Bound on each `/ready` check (Redis `PING`, PostgreSQL `SELECT 1`). Default: 1 second.
    public var readinessTimeout: Duration
    /// Bound on receiving one upload body; a slower client gets 408. Default: 60 seconds.
    public var uploadTimeout: Duration
    /// A connection with no traffic for this long is closed. Default: 30 seconds.
    public var idleTimeout: Duration
    /// Page size when `limit` is absent. Default: `20`; the maximum is always `100`.
    public var defaultPageSize: Int
    /// Uploads received at once; one more is answered 503 `busy` with `Retry-After`, which bounds
    /// the memory held by bodies in flight (each up to the file cap). Default: `32`
    /// (`MAX_CONCURRENT_UPLOADS`).
    public var maxConcurrentUploads: Int
    /// How long an upload trusts that a job post it has seen exists, instead of asking PostgreSQL
    /// again; a post deleted meanwhile is still caught by the foreign key (the upload gets 404 and
    /// its file is removed). `.zero` asks every time. Default: 30 seconds (`JOB_POST_CACHE_SECONDS`).
    public var jobPostCacheTTL: Duration

    /// Creates a configuration; see the properties for the defaults.
    public init(
        host: String = "127.0.0.1", port: Int = 8000, limits: UploadLimits = UploadLimits(), apiKey: String? = nil,
        readinessTimeout: Duration = .seconds(1), uploadTimeout: Duration = .seconds(60), idleTimeout: Duration = .seconds(30),
        defaultPageSize: Int = 20, maxConcurrentUploads: Int = 32, jobPostCacheTTL: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.limits = limits
        self.apiKey = apiKey
        self.readinessTimeout = readinessTimeout
        self.uploadTimeout = uploadTimeout
        self.idleTimeout = idleTimeout
        self.defaultPageSize = defaultPageSize
        self.maxConcurrentUploads = maxConcurrentUploads
        self.jobPostCacheTTL = jobPostCacheTTL
    }

    /// Reads `MAX_UPLOAD_BYTES`, `MAX_IMAGE_PIXELS`, `MAX_CONCURRENT_UPLOADS`, `JOB_POST_CACHE_SECONDS` and `API_KEY`
    /// from merged environment/`.env` values; an invalid number names the variable (never a key's
    /// value).
    public mutating func apply(environment values: [String: String]) throws(HTTPAPIConfigurationError) {
        if let text = values["MAX_UPLOAD_BYTES"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let bytes = Int(text), bytes >= 1, bytes <= 1 << 30 else {
                throw HTTPAPIConfigurationError(variable: "MAX_UPLOAD_BYTES", reason: "must be a whole number of bytes between 1 and 1073741824")
            }
            limits.maxFileBytes = bytes
        }
        if let text = values["MAX_IMAGE_PIXELS"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let pixels = Int(text), pixels >= 1, pixels <= 1 << 32 else {
                throw HTTPAPIConfigurationError(variable: "MAX_IMAGE_PIXELS", reason: "must be a whole number of pixels between 1 and 4294967296")
            }
            limits.maxImagePixels = pixels
        }
        if let text = values["MAX_CONCURRENT_UPLOADS"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let count = Int(text), count >= 1, count <= 100_000 else {
                throw HTTPAPIConfigurationError(variable: "MAX_CONCURRENT_UPLOADS", reason: "must be a whole number between 1 and 100000")
            }
            maxConcurrentUploads = count
        }
        if let text = values["JOB_POST_CACHE_SECONDS"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let seconds = Int(text), seconds >= 0, seconds <= 86_400 else {
                throw HTTPAPIConfigurationError(variable: "JOB_POST_CACHE_SECONDS", reason: "must be a whole number of seconds between 0 and 86400")
            }
            jobPostCacheTTL = .seconds(seconds)
        }
        if let key = values["API_KEY"], !key.isEmpty {
            apiKey = key
        }
    }
}

/// An API setting that could not be used; names the variable, never its value.
public struct HTTPAPIConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The variable at fault.
    public var variable: String
    /// What is wrong with it.
    public var reason: String
    /// `"<VARIABLE>: <reason>"`.
    public var description: String { "\(variable): \(reason)" }
}
