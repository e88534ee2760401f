import AppConfig
import AWS
import Foundation
import LocalProviders
import Logging
import Providers

/// The résumé storage a process uses, chosen by configuration: S3 when `AWS_S3_BUCKET_NAME` is
/// set, else the local folder `DATA_DIR`. The API (which writes uploads) and the worker (which
/// reads them) build it here, so both always agree — and the API links no pipeline to do so.
public enum ResumeStorageFactory {
    /// The storage `configuration` selects.
    public static func make(_ configuration: AppConfiguration, logger: Logger) -> any ResumeStorage {
        guard let aws = configuration.aws else {
            return LocalFolderStorage(configuration: LocalFolderStorageConfiguration(root: configuration.dataDirectory))
        }
        return S3Storage(configuration: S3Configuration(
            bucket: aws.bucket, region: aws.region, endpoint: endpoint(aws), credentials: credentials(aws)), logger: logger)
    }

    /// The AWS credentials of `aws`.
    public static func credentials(_ aws: AWSSettings) -> AWSCredentials {
        AWSCredentials(accessKeyID: aws.accessKeyID, secretAccessKey: aws.secretAccessKey, sessionToken: aws.sessionToken)
    }

    /// The endpoint override of `aws` (moto, LocalStack), if any.
    public static func endpoint(_ aws: AWSSettings) -> URL? {
        aws.endpointURL.flatMap(URL.init(string:))
    }
}
