import AWS
import Foundation
import Providers
import TestSupport
import Testing

@Suite("S3Storage against moto")
struct S3StorageTests {
    @Test("put, head, get and delete round-trip binary content")
    func roundTrip() async throws {
        let storage = try await makeMotoStorage()
        let key = uniqueStorageKey()
        var bytes = Data((0...255).map { UInt8($0) })
        var generator = SystemRandomNumberGenerator()
        bytes += Data((0..<300_000).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        try await storage.put(key: key, data: bytes, contentType: "application/pdf")

        let info = try #require(try await storage.head(key: key))
        #expect(info.size == bytes.count)
        #expect(info.contentType == "application/pdf")
        #expect(try await storage.get(key: key) == bytes)

        // Replacing keeps the newest bytes.
        try await storage.put(key: key, data: Data("second".utf8), contentType: "text/plain; charset=utf-8")
        #expect(try await storage.get(key: key) == Data("second".utf8))
        #expect(try await storage.head(key: key)?.contentType == "text/plain; charset=utf-8")

        try await storage.delete(key: key)
        #expect(try await storage.head(key: key) == nil)
        // Deleting again is not an error.
        try await storage.delete(key: key)
    }

    @Test("an empty object round-trips")
    func emptyObject() async throws {
        let storage = try await makeMotoStorage()
        let key = uniqueStorageKey(.txt)
        try await storage.put(key: key, data: Data(), contentType: "text/plain; charset=utf-8")
        #expect(try await storage.head(key: key)?.size == 0)
        #expect(try await storage.get(key: key).isEmpty)
    }

    @Test("a missing key: GET is .notFound naming the key, HEAD is nil")
    func missingKey() async throws {
        let storage = try await makeMotoStorage()
        let key = uniqueStorageKey()
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await storage.get(key: key) })
        #expect(error.code == .notFound)
        #expect(!error.isTransient)
        #expect(error.message.contains("s3://\(storage.configuration.bucket)/\(key)"))
        #expect(error.message.contains("NoSuchKey"))
        #expect(error.message.contains("GetObject"))
        #expect(try await storage.head(key: key) == nil)
    }

    @Test("a missing bucket is a configuration error")
    func missingBucket() async throws {
        let configuration = S3Configuration(
            bucket: uniqueBucket("missing"), endpoint: try TestEnvironment.motoURL, credentials: motoCredentials)
        let storage = S3Storage(configuration: configuration, logger: TestEnvironment.logger)
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await storage.get(key: uniqueStorageKey()) })
        #expect(error.code == .configuration)
        #expect(error.message.contains("NoSuchBucket"))
        let putError = try #require(await providerError { () async throws(ProviderError) in
            try await storage.put(key: uniqueStorageKey(), data: Data("x".utf8), contentType: "text/plain")
        })
        #expect(putError.code == .configuration)
    }

    @Test("invalid keys are refused before any request", arguments: ["../etc/passwd", "/abs.pdf", "a b.pdf", "a//b.pdf", "", "résumé.pdf"])
    func invalidKeys(_ key: String) async throws {
        let transport = RecordingTransport()
        let storage = try await makeMotoStorage(transport: transport)
        let before = await transport.exchanges.count
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await storage.get(key: key) })
        #expect(error.code == .rejected)
        #expect(error.message.contains("not a valid storage key"))
        #expect(await transport.exchanges.count == before)
    }

    @Test("createBucketIfMissing creates once, then finds the bucket")
    func createBucket() async throws {
        let configuration = S3Configuration(
            bucket: uniqueBucket(), region: "eu-west-1", endpoint: try TestEnvironment.motoURL, credentials: motoCredentials)
        let storage = S3Storage(configuration: configuration, logger: TestEnvironment.logger)
        #expect(try await storage.createBucketIfMissing())
        #expect(try await !storage.createBucketIfMissing())
        let key = uniqueStorageKey()
        try await storage.put(key: key, data: Data("eu".utf8), contentType: "text/plain")
        #expect(try await storage.get(key: key) == Data("eu".utf8))
    }

    @Test("concurrent uploads and downloads of different keys")
    func concurrency() async throws {
        let storage = try await makeMotoStorage()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let key = uniqueStorageKey()
                    let body = Data("document \(index)".utf8)
                    try await storage.put(key: key, data: body, contentType: "text/plain")
                    let read = try await storage.get(key: key)
                    #expect(read == body)
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("a server that never answers is a transient .timeout within the request deadline")
    func requestDeadline() async throws {
        let silent = try SilentServer()
        let configuration = S3Configuration(
            bucket: "silent", endpoint: silent.url, credentials: motoCredentials, timeout: .milliseconds(300))
        let storage = S3Storage(configuration: configuration, logger: TestEnvironment.logger)
        let clock = ContinuousClock()
        let started = clock.now
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await storage.get(key: uniqueStorageKey()) })
        let elapsed = clock.now - started
        #expect(error.code == .timeout, "\(error)")
        #expect(error.isTransient)
        #expect(elapsed >= .milliseconds(280), "after \(elapsed): \(error)")
        // Without the deadline the silent server would hold the request forever. The bound is wide
        // because the whole suite runs in parallel with CPU-bound fuzz tests that can starve the
        // cooperative pool (and so the deadline's timer) for tens of seconds.
        #expect(elapsed < .seconds(90), "took \(elapsed)")
        withExtendedLifetime(silent) {}
    }

    @Test("connection refused is transient .unavailable")
    func connectionRefused() async throws {
        let port = try freeLoopbackPort()
        let configuration = S3Configuration(
            bucket: "closed", endpoint: URL(string: "http://127.0.0.1:\(port)")!, credentials: motoCredentials, timeout: .seconds(5))
        let storage = S3Storage(configuration: configuration, logger: TestEnvironment.logger)
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await storage.get(key: uniqueStorageKey()) })
        #expect(error.code == .unavailable)
        #expect(error.isTransient)
        #expect(error.message.contains("GetObject"))
    }
}

@Suite("S3Storage against moto checking signatures")
struct S3SignatureTests {
    func storage(secret: String? = nil, keyID: String? = nil, signPayload: Bool = true, bucket: String) throws -> S3Storage {
        let moto = try TestEnvironment.motoSignatureChecking
        let credentials = AWSCredentials(accessKeyID: keyID ?? moto.accessKeyID, secretAccessKey: secret ?? moto.secretAccessKey)
        let configuration = S3Configuration(bucket: bucket, endpoint: moto.url, credentials: credentials, signPayload: signPayload)
        return S3Storage(configuration: configuration, logger: TestEnvironment.logger)
    }

    @Test("correct credentials: moto recomputes and accepts every signature", arguments: [true, false])
    func accepted(signPayload: Bool) async throws {
        let bucket = uniqueBucket()
        let storage = try storage(signPayload: signPayload, bucket: bucket)
        #expect(try await storage.createBucketIfMissing())
        let key = uniqueStorageKey()
        let body = Data("signed body ✓".utf8) + Data([0, 1, 2, 255])
        try await storage.put(key: key, data: body, contentType: "application/pdf")
        #expect(try await storage.head(key: key)?.size == body.count)
        #expect(try await storage.get(key: key) == body)
        try await storage.delete(key: key)
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await storage.get(key: key) })
        #expect(error.code == .notFound)
    }

    @Test("a wrong secret is .rejected (SignatureDoesNotMatch) and the secret appears nowhere")
    func wrongSecret() async throws {
        let bucket = uniqueBucket()
        try await storage(bucket: bucket).createBucketIfMissing()
        let wrongSecret = "wrong-secret-\(UUID().uuidString)"
        let storage = try storage(secret: wrongSecret, bucket: bucket)
        let error = try #require(await providerError { () async throws(ProviderError) in
            try await storage.put(key: uniqueStorageKey(), data: Data("x".utf8), contentType: "text/plain")
        })
        #expect(error.code == .rejected)
        #expect(!error.isTransient)
        #expect(error.message.contains("SignatureDoesNotMatch"))
        #expect(error.message.contains("403"))
        for text in [error.message, error.description, "\(error)", "\(storage.configuration.credentials)"] {
            #expect(!text.contains(wrongSecret))
            #expect(!text.contains("Signature="))
        }
    }

    @Test("an unknown access key is .rejected (InvalidAccessKeyId)")
    func unknownKey() async throws {
        let bucket = uniqueBucket()
        try await storage(bucket: bucket).createBucketIfMissing()
        let storage = try storage(secret: "whatever-secret", keyID: "AKIAUNKNOWN0000000000", bucket: bucket)
        let error = try #require(await providerError { () async throws(ProviderError) in _ = try await storage.get(key: uniqueStorageKey()) })
        #expect(error.code == .rejected)
        #expect(error.message.contains("InvalidAccessKeyId"))
        #expect(!error.message.contains("whatever-secret"))
    }
}
