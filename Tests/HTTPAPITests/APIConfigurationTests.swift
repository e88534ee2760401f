import HTTPAPI
import Testing

/// `HTTPAPIConfiguration.apply(environment:)`: the variables it reads, their defaults, and errors
/// that name the variable but never echo a value.
@Suite struct APIConfigurationTests {
    @Test func defaultsAndVariables() throws {
        var settings = HTTPAPIConfiguration()
        #expect(settings.limits.maxFileBytes == 10 * 1024 * 1024)
        #expect(settings.jobPostCacheTTL == .seconds(30))
        #expect(settings.maxConcurrentUploads == 32)
        #expect(settings.apiKey == nil)
        try settings.apply(environment: [
            "MAX_UPLOAD_BYTES": " 2048 ", "MAX_CONCURRENT_UPLOADS": "64", "JOB_POST_CACHE_SECONDS": "0", "API_KEY": "k-123",
        ])
        #expect(settings.limits.maxFileBytes == 2048)
        #expect(settings.maxConcurrentUploads == 64)
        #expect(settings.jobPostCacheTTL == .zero)
        #expect(settings.apiKey == "k-123")
    }

    @Test(arguments: [("MAX_UPLOAD_BYTES", "0"), ("MAX_UPLOAD_BYTES", "ten"), ("JOB_POST_CACHE_SECONDS", "-1"), ("JOB_POST_CACHE_SECONDS", "1.5"),
                       ("MAX_CONCURRENT_UPLOADS", "0"), ("MAX_CONCURRENT_UPLOADS", "many")])
    func invalidNumbersNameTheVariable(_ variable: String, _ value: String) {
        var settings = HTTPAPIConfiguration()
        do {
            try settings.apply(environment: [variable: value, "API_KEY": "secret-value"])
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            #expect(error.variable == variable)
            #expect(!error.description.contains("secret-value"))
        }
    }
}
