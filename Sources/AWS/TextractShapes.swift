// The JSON shapes of the Textract calls TextractExtractor makes.

// MARK: - Shapes (only the fields used; unknown fields and enum values are ignored)

struct TextractStartRequest: Encodable {
    struct Location: Encodable {
        struct S3Object: Encodable {
            var bucket: String
            var name: String
            enum CodingKeys: String, CodingKey { case bucket = "Bucket", name = "Name" }
        }
        var s3Object: S3Object
        enum CodingKeys: String, CodingKey { case s3Object = "S3Object" }
    }
    var documentLocation: Location
    var clientRequestToken: String
    var jobTag: String
    enum CodingKeys: String, CodingKey {
        case documentLocation = "DocumentLocation", clientRequestToken = "ClientRequestToken", jobTag = "JobTag"
    }
}

struct TextractStartResponse: Decodable {
    var jobId: String?
    enum CodingKeys: String, CodingKey { case jobId = "JobId" }
}

struct TextractDetectRequest: Encodable {
    struct Document: Encodable {
        var s3Object: TextractStartRequest.Location.S3Object
        enum CodingKeys: String, CodingKey { case s3Object = "S3Object" }
    }
    var document: Document
    enum CodingKeys: String, CodingKey { case document = "Document" }
}

struct TextractDetectResponse: Decodable {
    var blocks: [TextractGetResponse.Block]?
    enum CodingKeys: String, CodingKey { case blocks = "Blocks" }
}

struct TextractGetRequest: Encodable {
    var jobId: String
    var maxResults: Int
    var nextToken: String?
    enum CodingKeys: String, CodingKey { case jobId = "JobId", maxResults = "MaxResults", nextToken = "NextToken" }
}

struct TextractGetResponse: Decodable {
    struct Block: Decodable {
        var blockType: String?
        var text: String?
        var page: Int?
        enum CodingKeys: String, CodingKey { case blockType = "BlockType", text = "Text", page = "Page" }
    }
    struct Warning: Decodable {
        var errorCode: String?
        enum CodingKeys: String, CodingKey { case errorCode = "ErrorCode" }
    }
    var jobStatus: String?
    var statusMessage: String?
    var nextToken: String?
    var blocks: [Block]?
    var warnings: [Warning]?
    // DocumentMetadata is not read: stock moto sends it as an object where AWS sends an integer.
    enum CodingKeys: String, CodingKey {
        case jobStatus = "JobStatus", statusMessage = "StatusMessage", nextToken = "NextToken", blocks = "Blocks",
            warnings = "Warnings"
    }
}
