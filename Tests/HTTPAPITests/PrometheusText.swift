import Foundation

/// A small parser of the Prometheus text exposition format (0.0.4): `# HELP`/`# TYPE` comments and
/// `name{label="value",…} number` samples, with label-value escapes. Throws on any other line.
struct PrometheusText {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    static func parse(_ text: String) throws -> PrometheusText {
        var result = PrometheusText()
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Substring(rawLine)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count >= 3, parts[1] == "HELP" || parts[1] == "TYPE" else {
                    throw ParseError(description: "line \(number + 1): bad comment")
                }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3])) else {
                        throw ParseError(description: "line \(number + 1): bad TYPE")
                    }
                    result.types[String(parts[2])] = String(parts[3])
                }
                continue
            }
            var index = line.startIndex
            var name = ""
            while index < line.endIndex, line[index].isLetter || line[index].isNumber || line[index] == "_" || line[index] == ":" {
                name.append(line[index])
                index = line.index(after: index)
            }
            guard !name.isEmpty, !(name.first!.isNumber) else { throw ParseError(description: "line \(number + 1): bad metric name") }
            var labels: [String: String] = [:]
            if index < line.endIndex, line[index] == "{" {
                index = line.index(after: index)
                while index < line.endIndex, line[index] != "}" {
                    var key = ""
                    while index < line.endIndex, line[index] != "=" {
                        key.append(line[index])
                        index = line.index(after: index)
                    }
                    guard index < line.endIndex else { throw ParseError(description: "line \(number + 1): unterminated label") }
                    index = line.index(after: index)
                    guard index < line.endIndex, line[index] == "\"" else { throw ParseError(description: "line \(number + 1): unquoted label") }
                    index = line.index(after: index)
                    var value = ""
                    var closed = false
                    while index < line.endIndex {
                        let character = line[index]
                        index = line.index(after: index)
                        if character == "\\", index < line.endIndex {
                            let escaped = line[index]
                            index = line.index(after: index)
                            value.append(escaped == "n" ? "\n" : escaped)
                        } else if character == "\"" {
                            closed = true
                            break
                        } else {
                            value.append(character)
                        }
                    }
                    guard closed, !key.isEmpty else { throw ParseError(description: "line \(number + 1): bad label") }
                    labels[key] = value
                    if index < line.endIndex, line[index] == "," { index = line.index(after: index) }
                }
                guard index < line.endIndex else { throw ParseError(description: "line \(number + 1): unterminated labels") }
                index = line.index(after: index)
            }
            let rest = line[index...].trimmingCharacters(in: .whitespaces).split(separator: " ")
            guard let first = rest.first, rest.count <= 2 else { throw ParseError(description: "line \(number + 1): no value") }
            let value: Double? = switch first {
            case "+Inf": .infinity
            case "-Inf": -.infinity
            case "NaN": .nan
            default: Double(first)
            }
            guard let value else { throw ParseError(description: "line \(number + 1): bad value \(first)") }
            result.samples.append(Sample(name: name, labels: labels, value: value))
        }
        return result
    }
}
