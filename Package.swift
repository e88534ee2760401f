// swift-tools-version: 6.1
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode with complete strict concurrency
/// and explicit `any` for existentials.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "resume-processor",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "worker", targets: ["worker"]),
        .executable(name: "api", targets: ["api"]),
        .executable(name: "bench", targets: ["bench"]),
        .library(name: "Redis", targets: ["Redis"]),
        .library(name: "Postgres", targets: ["Postgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // C libraries from the distribution, one Swift home each.
        // No pkgConfig: hiredis.pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM rejects with a warning;
        // the header lives in /usr/include/hiredis and needs no flags.
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"]), .brew(["hiredis"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // OpenSSL for Redis over TLS (Debian's hiredis 0.14 has none); only NetworkTransport imports it.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"]), .brew(["openssl"])]
        ),
        // OpenBLAS for the local embedding model's matrix products; only SentenceEmbedding imports it.
        .systemLibrary(
            name: "COpenBLAS",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),

        // Clients and codecs.
        .target(
            name: "ClientSupport",
            dependencies: [.product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: swiftSettings
        ),
        // Blocking byte streams for clients that bring their own protocol: TCP/Unix sockets and TLS.
        .target(name: "NetworkTransport", dependencies: ["COpenSSL"], swiftSettings: swiftSettings),
        .target(
            name: "Redis",
            dependencies: [
                "CHiredis", "ClientSupport", "NetworkTransport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ", "ClientSupport", "Timestamps",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "ProcessSupport", swiftSettings: swiftSettings),
        // Calendar arithmetic and the timestamp texts of both queue formats (RQ's ISO text, float seconds).
        .target(name: "Timestamps", swiftSettings: swiftSettings),
        .target(name: "Pickle", swiftSettings: swiftSettings),
        .target(name: "FuzzSupport", swiftSettings: swiftSettings),
        // The labelled ranking set's reader and scoring, shared by the ranking test and `bench ranking`.
        .target(name: "RankingEvaluation", dependencies: ["Providers"], swiftSettings: swiftSettings),
        // The local stand-in for the Gemini API (no mock exists offline), shared by the Gemini tests and `bench pipeline`.
        .target(name: "FakeGemini", swiftSettings: swiftSettings),
        // Fuzz targets over the upload form reader and the SigV4 signer, shared by `bench fuzz` and the tests.
        .target(name: "FuzzTargets", dependencies: ["FuzzSupport", "AWS", "RQ", "Pickle"], swiftSettings: swiftSettings),
        // The job-processing core (slots, timeouts, stops, shutdown, retries, statistics, metrics)
        // and its driver protocol; it knows no Redis and no queue format.
        .target(
            name: "JobProcessing",
            dependencies: [
                "Pickle", "ClientSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The two queue formats, each with its driver.
        .target(
            name: "NativeQueue",
            dependencies: ["Timestamps", "Pickle", "Redis", "ClientSupport", "JobProcessing", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RQ",
            dependencies: ["Timestamps", "Pickle", "Zlib", "Redis", "ClientSupport", "JobProcessing", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The processor assembled with either driver: `RQWorker`, `NativeWorker`.
        .target(
            name: "WorkerRuntime",
            dependencies: ["JobProcessing", "RQ", "Redis", "NativeQueue", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(name: "Zlib", dependencies: ["CZlib"], swiftSettings: swiftSettings),
        .target(name: "AppConfig", dependencies: ["Redis", "Postgres"], swiftSettings: swiftSettings),
        .target(name: "ApplicationStore", dependencies: ["Postgres"], swiftSettings: swiftSettings),

        .target(
            name: "MetricsExport",
            dependencies: [
                "ClientSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Enqueueing and inspecting the résumé job in either queue format (API and worker's sweeper).
        .target(
            name: "ResumeJobs",
            dependencies: ["Timestamps", "AppConfig", "NativeQueue", "Pickle", "Redis", "RQ"],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "ResumePipeline",
            dependencies: [
                "ApplicationStore", "AppConfig", "AWS", "ClientSupport", "Gemini", "LocalProviders", "Pickle", "Postgres",
                "Providers", "ResumeJobs", "JobProcessing", "SentenceEmbedding", "StorageFactory",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // The résumé storage chosen by configuration (S3 or the local folder), for the API and the worker.
        .target(
            name: "StorageFactory",
            dependencies: ["AppConfig", "AWS", "LocalProviders", "Providers", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // The résumé domain: provider protocols, then one adapter module per provider family.
        .target(name: "Providers", dependencies: ["ClientSupport", "Timestamps"], swiftSettings: swiftSettings),
        .target(
            name: "AWS",
            dependencies: ["Timestamps", 
                "Providers", "ClientSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LocalProviders",
            // DOCX: a small ZIP reader over system zlib, not ZIPFoundation (its 0.9.20 manifest warns
            // on every Linux build about an unhandled resource; see README "Fixed choices, changed").
            dependencies: ["Providers", "ProcessSupport", "Zlib", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // all-MiniLM-L6-v2 in Swift: WordPiece tokenizer, BERT encoder over OpenBLAS, mean pooling.
        .target(
            name: "SentenceEmbedding",
            dependencies: ["COpenBLAS", "ClientSupport", "Providers"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Gemini",
            dependencies: ["Providers", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HTTPAPI",
            dependencies: [
                "Providers", "LocalProviders", "ApplicationStore", "Postgres", "Redis", "RQ", "NativeQueue", "Pickle", "AppConfig", "ResumeJobs", "Timestamps",
                "ClientSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                // The API's metrics go to swift-prometheus's registry directly (no global
                // MetricsSystem); swift-metrics is linked for its types and keeps the package used.
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AppSupport",
            dependencies: [
                "AppConfig", "ApplicationStore", "ClientSupport", "NetworkTransport", "Redis", "Postgres", "LocalProviders",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Executables.
        .executableTarget(
            name: "worker",
            dependencies: [
                "AppConfig", "AppSupport", "Redis", "Postgres", "RQ", "Pickle", "NativeQueue", "JobProcessing", "WorkerRuntime", "MetricsExport",
                "ApplicationStore", "ResumeJobs", "ResumePipeline", "Timestamps", "Providers",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "api",
            dependencies: [
                "StorageFactory",
                "AppConfig", "AppSupport", "Redis", "Postgres", "HTTPAPI", "RQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "bench",
            dependencies: [
                "Redis", "ClientSupport", "ProcessSupport", "RQ", "Pickle", "Zlib", "FuzzSupport", "JobProcessing", "WorkerRuntime", "Postgres", "ApplicationStore",
                "AppConfig", "HTTPAPI", "ResumePipeline", "Providers", "LocalProviders", "Gemini", "FakeGemini", "FuzzTargets", "SentenceEmbedding",
                "RankingEvaluation",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Tests: real servers, started by scripts/test.sh.
        .target(
            name: "TestSupport",
            dependencies: ["Redis", "Postgres", "ProcessSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "ClientSupport", "NetworkTransport", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "ApplicationStore", "ClientSupport", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "AppConfigTests", dependencies: ["AppConfig", "Redis", "Postgres"], swiftSettings: swiftSettings),
        .testTarget(name: "ZlibTests", dependencies: ["Zlib"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SentenceEmbeddingTests",
            dependencies: ["SentenceEmbedding", "Providers", "LocalProviders", "RankingEvaluation", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "RQTests", dependencies: ["Timestamps", "RQ", "Pickle", "Redis", "TestSupport", "FuzzSupport", "FuzzTargets"], swiftSettings: swiftSettings),
        .testTarget(name: "NativeQueueTests", dependencies: ["NativeQueue", "Redis", "Pickle", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "JobProcessingTests",
            dependencies: ["JobProcessing", "Pickle", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkerRuntimeTests",
            dependencies: [
                "WorkerRuntime", "JobProcessing", "RQ", "Pickle", "NativeQueue", "Redis", "TestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LocalProvidersTests",
            dependencies: ["LocalProviders", "Providers", "Zlib", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GeminiTests",
            dependencies: ["Gemini", "FakeGemini", "Providers", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HTTPAPITests",
            dependencies: [
                "HTTPAPI", "Providers", "LocalProviders", "ApplicationStore", "Postgres", "Redis", "RQ", "NativeQueue", "Pickle",
                "AppConfig", "ResumeJobs", "TestSupport", "FuzzSupport", "FuzzTargets",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ResumePipelineTests",
            dependencies: [
                "ResumePipeline", "ResumeJobs", "ApplicationStore", "LocalProviders", "NativeQueue", "Postgres", "Providers", "Redis",
                "RQ", "JobProcessing", "WorkerRuntime", "AppConfig", "ClientSupport", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PickleTests", dependencies: ["Pickle", "ProcessSupport", "FuzzSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AWSTests",
            dependencies: ["AWS", "Providers", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
