/// Character classes and trimming for form fields and header parameters, with the meaning of
/// Foundation's `CharacterSet.whitespaces` / `.whitespacesAndNewlines` / `.controlCharacters` but
/// without going through `NSString` (which took ~5 % of the upload route's CPU in `bench api`).
enum FieldText {
    /// `CharacterSet.whitespaces`: tab, the space separators (general category Zs) and, as in
    /// swift-corelibs-foundation, ZERO WIDTH SPACE (U+200B).
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar == " " || scalar == "\t" }
        return scalar.value == 0x200B || scalar.properties.generalCategory == .spaceSeparator
    }

    /// `CharacterSet.whitespacesAndNewlines`: ``isSpace(_:)`` plus LF, VT, FF, CR, NEL and the line
    /// and paragraph separators (general category Z*).
    static func isSpaceOrNewline(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: true
        default: isSpace(scalar)
        }
    }

    /// A control character (general category Cc: U+0000–U+001F and U+007F–U+009F).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// The bidirectional formatting characters (ALM, LRM, RLM, LRE…RLO, LRI…PDI), which can make
    /// a displayed name read in another order than it is stored.
    static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// `text` without the scalars at either end for which `strip` holds; the middle is not walked.
    static func trimming(_ text: String, _ strip: (Unicode.Scalar) -> Bool = isSpace) -> String {
        trimming(text[...], strip)
    }

    /// `text` without the scalars at either end for which `strip` holds.
    static func trimming(_ text: Substring, _ strip: (Unicode.Scalar) -> Bool = isSpace) -> String {
        let scalars = text.unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end, strip(scalars[start]) { start = scalars.index(after: start) }
        while end > start, strip(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        return String(scalars[start..<end])
    }

    /// An ASCII letter or digit.
    static func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }
}
