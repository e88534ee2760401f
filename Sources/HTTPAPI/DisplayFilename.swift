/// The client's file name of an upload, reduced to something safe to display: last path
/// component, no control or bidirectional-override characters (an RTLO can make
/// `cv\u{202E}fdp.exe` look like `cvexe.pdf`), at most ``maxBytes`` UTF-8 bytes cut at a scalar
/// boundary (one grapheme of a million combining accents is one character but megabytes). Never
/// used as a path.
enum DisplayFilename {
    /// The most UTF-8 bytes (and so at most as many scalars) kept of a client's file name.
    static let maxBytes = 255

    /// The display name of `name`, or `nil` when nothing is left.
    static func make(_ name: String?) -> String? {
        guard let name else { return nil }
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let visible = String(String.UnicodeScalarView(last.unicodeScalars.filter { !FieldText.isControl($0) && !FieldText.isBidiControl($0) }))
        var kept = String.UnicodeScalarView()
        var bytes = 0
        for scalar in FieldText.trimming(visible).unicodeScalars {
            bytes += UTF8.width(scalar)
            guard bytes <= maxBytes else { break }
            kept.append(scalar)
        }
        let cleaned = FieldText.trimming(String(kept))
        guard !cleaned.isEmpty, cleaned != ".", cleaned != ".." else { return nil }
        return cleaned
    }
}
