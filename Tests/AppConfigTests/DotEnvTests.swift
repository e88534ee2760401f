import Foundation
import AppConfig
import Postgres
import Redis
import Testing

@Suite(".env parsing")
struct DotEnvTests {
    @Test func parsesTheSeedsFile() throws {
        let text = """
            # Database
            DB_URL=postgresql://postgres:postgres@localhost:5432/resume_db
            ASYNC_DB_URL=postgresql+asyncpg://postgres:postgres@localhost:5432/resume_db

            REDIS_URL=redis://localhost:6379/0
            AWS_ACCESS_KEY_ID=AKIAEXAMPLE
            AWS_SECRET_ACCESS_KEY=abc/def+ghi=
            AWS_DEFAULT_REGION=us-east-1
            AWS_S3_BUCKET_NAME=resumes
            GEMINI_API_KEY=gm-key
            """
        let values = try DotEnv.parse(text)
        #expect(values["DB_URL"] == "postgresql://postgres:postgres@localhost:5432/resume_db")
        #expect(values["AWS_SECRET_ACCESS_KEY"] == "abc/def+ghi=")
        #expect(values.count == 8)
    }

    @Test func quotesCommentsAndExport() throws {
        let text = """
            export A=plain value # a comment
            B="double # not a comment"
            C='single $literal \\n'
            D="escapes\\n\\t\\"quoted\\""
            E=
            F=x#y
            G="multi
            line"
              H = spaced
            I=value\r
            """
        let values = try DotEnv.parse(text)
        #expect(values["A"] == "plain value")
        #expect(values["B"] == "double # not a comment")
        #expect(values["C"] == "single $literal \\n")
        #expect(values["D"] == "escapes\n\t\"quoted\"")
        #expect(values["E"] == "")
        #expect(values["F"] == "x#y")
        #expect(values["G"] == "multi\nline")
        #expect(values["H"] == "spaced")
        #expect(values["I"] == "value")
    }

    @Test(arguments: ["NOEQUALS", "1BAD=x", "A=\"unterminated", "B='open", "C=\"x\" trailing"])
    func rejectsMalformedLinesWithoutEchoingValues(line: String) {
        #expect {
            try DotEnv.parse("OK=1\n\(line)")
        } throws: { error in
            (error as? DotEnv.ParseError)?.line == 2
        }
    }
}

@Suite("Application configuration")
struct AppConfigurationTests {
    @Test func defaultsNeedNoCloudKeys() throws {
        let configuration = try AppConfiguration(values: [:])
        #expect(configuration.aws == nil)
        #expect(configuration.geminiAPIKey == nil)
        #expect(configuration.queueMode == .native)
        #expect(configuration.redis.redactedURL == "redis://127.0.0.1:6379/0")
        #expect(configuration.providerSummary.contains("local folder"))
    }

    @Test func preparedStatementsCanBeTurnedOff() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("absent-\(UUID().uuidString).env").path
        #expect(try AppConfiguration.load(environment: [:], dotEnvPath: path).postgres.preparedStatements)
        #expect(try !AppConfiguration.load(environment: ["DB_PREPARED_STATEMENTS": "false"], dotEnvPath: path).postgres.preparedStatements)
        #expect(try AppConfiguration.load(environment: ["DB_PREPARED_STATEMENTS": "ON"], dotEnvPath: path).postgres.preparedStatements)
    }

    @Test func asyncDatabaseURLIsAcceptedAlone() throws {
        let configuration = try AppConfiguration(values: ["ASYNC_DB_URL": "postgresql+asyncpg://u:p@db:5432/app"])
        #expect(configuration.postgres.url == "postgresql://u:p@db:5432/app")
    }

    @Test func environmentWinsOverDotEnv() throws {
        let path = "/tmp/resume-processor-test-\(UInt64.random(in: 0...UInt64.max)).env"
        try "REDIS_URL=redis://from-file:6379/1\nQUEUE_MODE=rq\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try AppConfiguration.load(environment: ["REDIS_URL": "redis://from-env:6390/2"], dotEnvPath: path)
        #expect(configuration.redis.endpoint == .tcp(host: "from-env", port: 6390))
        #expect(configuration.queueMode == .rq)
        let missingFile = try AppConfiguration.load(environment: [:], dotEnvPath: path + ".absent")
        #expect(missingFile.queueMode == .native)
    }

    @Test func secretsAreRedactedEverywhere() throws {
        let secrets = ["dbSecretPw", "redisSecretPw", "AKIAABCDEFGH", "awsSecretKey/+=", "geminiSecretKey", "sessionTok"]
        let configuration = try AppConfiguration(values: [
            "DB_URL": "postgresql://app:dbSecretPw@db:5432/app",
            "REDIS_URL": "redis://:redisSecretPw@cache:6379/0",
            "AWS_ACCESS_KEY_ID": "AKIAABCDEFGH",
            "AWS_SECRET_ACCESS_KEY": "awsSecretKey/+=",
            "AWS_SESSION_TOKEN": "sessionTok",
            "AWS_S3_BUCKET_NAME": "resumes",
            "GEMINI_API_KEY": "geminiSecretKey",
        ])
        var dumped = ""
        dump(configuration, to: &dumped)
        let renderings = [configuration.description, String(reflecting: configuration), "\(configuration)", dumped,
                          "\(configuration.aws!)", String(reflecting: configuration.postgres), String(reflecting: configuration.redis)]
        for rendering in renderings {
            for secret in secrets.dropFirst(2) + secrets.prefix(2) where secret != "AKIAABCDEFGH" {
                #expect(!rendering.contains(secret), "secret leaked in: \(rendering)")
            }
            #expect(!rendering.contains("AKIAABCDEFGH"))
        }
        #expect(configuration.description.contains("AWS_ACCESS_KEY_ID=AKIA***"))
        #expect(configuration.providerSummary.contains("S3 bucket resumes"))
    }

    @Test(arguments: [
        (["REDIS_URL": "rediss://h:6380?ssl_cert_reqs=sometimes"], "REDIS_URL"),
        (["REDIS_URL": "nonsense"], "REDIS_URL"),
        (["DB_URL": "mysql://u:p@h/db"], "DB_URL"),
        (["ASYNC_DB_URL": "sqlite:///x.db"], "ASYNC_DB_URL"),
        (["DB_PREPARED_STATEMENTS": "sometimes"], "DB_PREPARED_STATEMENTS"),
        (["AWS_S3_BUCKET_NAME": "b"], "AWS_ACCESS_KEY_ID"),
        (["AWS_S3_BUCKET_NAME": "b", "AWS_ACCESS_KEY_ID": "k"], "AWS_SECRET_ACCESS_KEY"),
        (["AWS_S3_BUCKET_NAME": "b", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "localhost:5000"], "AWS_ENDPOINT_URL"),
        (["QUEUE_MODE": "celery"], "QUEUE_MODE"),
    ])
    func badValuesNameTheVariable(values: [String: String], variable: String) {
        #expect {
            try AppConfiguration(values: values)
        } throws: { error in
            (error as? ConfigurationError)?.variable == variable
        }
    }
}
