/// A parser for `.env` files as written by Python projects (python-dotenv's dialect).
///
/// Supported: `KEY=value`, `export KEY=value`, blank lines, `#` comment lines, ` #` comments after
/// unquoted values, `'single quoted'` (literal) and `"double quoted"` values (with `\n`, `\t`,
/// `\"`, `\\` escapes, and spanning lines), surrounding whitespace trimmed.
public enum DotEnv {
    /// A line that could not be parsed.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// 1-based line number.
        public var line: Int
        /// What is wrong (never the value, which may be a secret).
        public var reason: String
        /// `".env line N: reason"`.
        public var description: String { ".env line \(line): \(reason)" }
    }

    /// Parses `.env` text into key/value pairs (a later duplicate key wins).
    public static func parse(_ text: String) throws(ParseError) -> [String: String] {
        var result: [String: String] = [:]
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? line.dropLast() : line
        }
        var index = 0
        while index < lines.count {
            let lineNumber = index + 1
            var line = lines[index].trimmingWhitespace()
            index += 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") || line.hasPrefix("export\t") {
                line = line.dropFirst(7).trimmingWhitespace()
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ParseError(line: lineNumber, reason: "expected KEY=value")
            }
            let key = line[..<equals].trimmingWhitespace()
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }),
                  !(key.first?.isNumber ?? true) else {
                throw ParseError(line: lineNumber, reason: "invalid variable name")
            }
            var raw = line[line.index(after: equals)...].trimmingWhitespace()
            let value: String
            if let quote = raw.first, quote == "\"" || quote == "'" {
                // Gather continuation lines until the closing quote.
                var body = raw.dropFirst()
                var closing = findClosingQuote(body, quote)
                while closing == nil && index < lines.count {
                    body = Substring(String(body) + "\n" + lines[index])
                    index += 1
                    closing = findClosingQuote(body, quote)
                }
                guard let closing else {
                    throw ParseError(line: lineNumber, reason: "unterminated \(quote == "\"" ? "double" : "single") quote")
                }
                let inner = body[..<closing]
                let after = body[body.index(after: closing)...].trimmingWhitespace()
                guard after.isEmpty || after.hasPrefix("#") else {
                    throw ParseError(line: lineNumber, reason: "unexpected text after the closing quote")
                }
                value = quote == "\"" ? unescape(inner) : String(inner)
            } else {
                if let comment = raw.firstRange(of: " #") ?? raw.firstRange(of: "\t#") {
                    raw = raw[..<comment.lowerBound].trimmingWhitespace()
                }
                value = String(raw)
            }
            result[String(key)] = value
        }
        return result
    }

    private static func findClosingQuote(_ text: Substring, _ quote: Character) -> String.Index? {
        var escaped = false
        for index in text.indices {
            let character = text[index]
            if escaped {
                escaped = false
            } else if character == "\\" && quote == "\"" {
                escaped = true
            } else if character == quote {
                return index
            }
        }
        return nil
    }

    private static func unescape(_ text: Substring) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                switch character {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "r": result.append("\r")
                case "\"": result.append("\"")
                case "\\": result.append("\\")
                case "$": result.append("$")
                default:
                    result.append("\\")
                    result.append(character)
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        if escaped { result.append("\\") }
        return result
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var text = self
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return text
    }
}
