/// Python's `float.__repr__`: the shortest digits that round-trip (Swift and CPython both pick the
/// shortest, closest decimal), laid out Python's way — positional for decimal exponents from -4 up
/// to 15 (`0.0001`, `1000000000000000.0`), otherwise `d.ddde±XX` with at least two exponent digits
/// (`1e-05`, `1e+16`); integral values end in `.0`.
enum PythonFloatFormat {
    /// `repr(value)`: `nan`, `inf`, `-inf` for the special values.
    static func repr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        let sign = value.sign == .minus ? "-" : ""
        if value == 0 { return sign + "0.0" }
        let (digits, pointPosition) = shortestDigits(value.magnitude)
        // The value is 0.DIGITS × 10^pointPosition; Python switches to exponent form when the
        // decimal exponent (pointPosition - 1) is below -4 or at least 16.
        if pointPosition <= -4 || pointPosition > 16 {
            let exponent = pointPosition - 1
            var text = sign + String(digits[0])
            if digits.count > 1 { text += "." + String(digits[1...]) }
            let exponentDigits = String(exponent.magnitude)
            text += (exponent < 0 ? "e-" : "e+") + (exponentDigits.count < 2 ? "0" : "") + exponentDigits
            return text
        }
        if pointPosition <= 0 {
            return sign + "0." + String(repeating: "0", count: -pointPosition) + String(digits)
        }
        if pointPosition >= digits.count {
            return sign + String(digits) + String(repeating: "0", count: pointPosition - digits.count) + ".0"
        }
        return sign + String(digits[..<pointPosition]) + "." + String(digits[pointPosition...])
    }

    /// The shortest round-trip digits of a positive finite value (no leading or trailing zeros)
    /// and the decimal point position: value = 0.DIGITS × 10^position. Read from Swift's
    /// `description`, which prints the same shortest digits in one of two layouts.
    static func shortestDigits(_ value: Double) -> (digits: [Character], position: Int) {
        let text = value.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var integerPart = mantissa
        var fractionPart: Substring = ""
        if let dot = mantissa.firstIndex(of: ".") {
            integerPart = mantissa[..<dot]
            fractionPart = mantissa[mantissa.index(after: dot)...]
        }
        var digits = Array(integerPart) + Array(fractionPart)
        var position = integerPart.count + exponent
        while let first = digits.first, first == "0" {
            digits.removeFirst()
            position -= 1
        }
        while let last = digits.last, last == "0" { digits.removeLast() }
        if digits.isEmpty { return (["0"], 1) }
        return (digits, position)
    }
}
