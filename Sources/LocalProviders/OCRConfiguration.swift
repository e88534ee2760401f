import Providers

/// Settings for the local OCR: `tesseract` for images and for PDF pages without a text layer,
/// which poppler's `pdftocairo` rasterises first (its resampling keeps accented letters that
/// `pdftoppm`'s loses; see `docs/ocr.md`).
public struct OCRConfiguration: Sendable {
    /// Whether OCR runs at all; without it an image-only PDF page has no text and an image upload
    /// fails with ``ProviderError/Code/noText``. Default: `true`.
    public var isEnabled: Bool
    /// The `tesseract` executable (a name on `PATH` or an absolute path). Default: `tesseract`.
    public var tesseractPath: String
    /// The `pdftocairo` executable (poppler-utils). Default: `pdftocairo`.
    public var pdftocairoPath: String
    /// The `pdfinfo` executable, which gives the page sizes the resolution is chosen from. Default: `pdfinfo`.
    public var pdfinfoPath: String
    /// The `pdfimages` executable, which gives the resolution of a page's scanned picture. Default: `pdfimages`.
    public var pdfimagesPath: String
    /// Tesseract's `-l` argument: installed language data joined by `+`, the first one tried
    /// first. Default: `eng+deu+fra+spa` (setting `OCR_LANGUAGES`).
    public var languages: String
    /// The highest resolution PDF pages are rasterised at. A page whose largest picture was scanned
    /// at less is rasterised at the picture's own resolution (not below 150 dpi): resampling a
    /// 200 dpi scan up to 300 dpi loses words (see `docs/ocr.md`). Lowered further for a page that
    /// would exceed ``maximumPixels``. Default: 300 dpi.
    public var dpi: Int
    /// How long one page's `pdftocairo` or `tesseract` may run before it is killed (the whole
    /// image, for a multi-page TIFF). Default: 60 s.
    public var pageTimeout: Duration
    /// The largest page that is decoded, in pixels: images whose header declares more are refused
    /// before anything decodes them. Default: ``ImageHeader/defaultMaximumPixels`` (50 million).
    public var maximumPixels: Int
    /// The address-space limit (bytes) each `pdftocairo` and `tesseract` runs under, through
    /// util-linux `prlimit`; `nil`, or no `prlimit` on `PATH`, runs them without one. Default: 2 GiB.
    public var memoryLimit: Int?

    /// Creates a configuration with the documented defaults.
    public init(
        isEnabled: Bool = true,
        tesseractPath: String = "tesseract",
        pdftocairoPath: String = "pdftocairo",
        pdfinfoPath: String = "pdfinfo",
        pdfimagesPath: String = "pdfimages",
        languages: String = OCRConfiguration.defaultLanguages,
        dpi: Int = 300,
        pageTimeout: Duration = .seconds(60),
        maximumPixels: Int = ImageHeader.defaultMaximumPixels,
        memoryLimit: Int? = 2 << 30
    ) {
        self.isEnabled = isEnabled
        self.tesseractPath = tesseractPath
        self.pdftocairoPath = pdftocairoPath
        self.pdfinfoPath = pdfinfoPath
        self.pdfimagesPath = pdfimagesPath
        self.languages = languages
        self.dpi = dpi
        self.pageTimeout = pageTimeout
        self.maximumPixels = maximumPixels
        self.memoryLimit = memoryLimit
    }

    /// `eng+deu+fra+spa`: the Debian language packs the scripts install.
    public static let defaultLanguages = "eng+deu+fra+spa"

    /// Whether `languages` is a well-formed `-l` value: 1–16 names of letters, digits and `_`
    /// joined by `+` (so a setting can never smuggle another option into the command line).
    public static func isValidLanguageList(_ languages: String) -> Bool {
        let names = languages.split(separator: "+", omittingEmptySubsequences: false)
        return (1...16).contains(names.count) && names.allSatisfy { name in
            (1...32).contains(name.count) && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
        }
    }
}
