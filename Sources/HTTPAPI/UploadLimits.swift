import Providers

/// Limits of one upload request.
public struct UploadLimits: Sendable, Hashable {
    /// The largest file accepted, in bytes. Default: 10 MiB (`MAX_UPLOAD_BYTES`).
    public var maxFileBytes: Int
    /// Room for the text fields and multipart framing on top of the file. Default: 64 KiB.
    public var formOverheadBytes: Int
    /// The largest text field kept, in bytes (longer ones are reported as too long). Default: 4 KiB.
    public var maxFieldBytes: Int
    /// The most parts in one form. Default: 16.
    public var maxParts: Int
    /// The largest header block of one part (from the CR LF after its delimiter to the empty line
    /// that ends its headers), in bytes. Default: 16 KiB.
    public var maxPartHeaderBytes: Int
    /// The largest sum of all parts' header blocks, in bytes. Default: 64 KiB.
    public var maxHeaderBytes: Int
    /// The most pixels an uploaded image (every page of a TIFF) may declare in its header; larger
    /// images are refused before they are stored. Default: 50 million (`MAX_IMAGE_PIXELS`, which
    /// the worker's OCR applies too).
    public var maxImagePixels: Int

    /// Creates limits.
    public init(
        maxFileBytes: Int = 10 * 1024 * 1024, formOverheadBytes: Int = 64 * 1024, maxFieldBytes: Int = 4096, maxParts: Int = 16,
        maxPartHeaderBytes: Int = 16 * 1024, maxHeaderBytes: Int = 64 * 1024, maxImagePixels: Int = ImageHeader.defaultMaximumPixels
    ) {
        self.maxImagePixels = maxImagePixels
        self.maxFileBytes = maxFileBytes
        self.formOverheadBytes = formOverheadBytes
        self.maxFieldBytes = maxFieldBytes
        self.maxParts = maxParts
        self.maxPartHeaderBytes = maxPartHeaderBytes
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// The largest request body accepted (saturating: a huge `maxFileBytes` does not overflow).
    public var maxBodyBytes: Int {
        let (sum, overflow) = maxFileBytes.addingReportingOverflow(formOverheadBytes)
        return overflow ? Int.max : sum
    }
}
