/// Extracts the boundary of a `multipart/form-data` content type, or explains why not.
enum MultipartContentType {
    enum Outcome: Equatable {
        case boundary(String)
        case notMultipart
        case badBoundary
    }

    static func parse(_ contentType: String?) -> Outcome {
        guard let contentType else { return .notMultipart }
        let parameters = HeaderParameters.parse(contentType)
        guard parameters.value.lowercased() == "multipart/form-data" else { return .notMultipart }
        guard !parameters.malformed, !parameters.duplicateKeys,
              let boundary = parameters.parameters["boundary"], (1...70).contains(boundary.utf8.count),
              !boundary.hasSuffix(" "),
              boundary.utf8.allSatisfy({ byte in
                  (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                      || Array("'()+_,-./:=? ".utf8).contains(byte)
              })
        else { return .badBoundary }
        return .boundary(boundary)
    }
}

/// `value; key=token; key="quoted \" string"` as in `Content-Type` and `Content-Disposition`.
struct HeaderParameters {
    var value: String
    /// Lowercased keys; a repeated key makes the header invalid (``duplicateKeys``).
    var parameters: [String: String]
    var duplicateKeys = false
    var malformed = false

    static func parse(_ header: String) -> HeaderParameters {
        var result = HeaderParameters(value: "", parameters: [:])
        let scalars = Array(header.unicodeScalars)
        var index = 0
        func skipSpaces() { while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 } }
        var value = ""
        while index < scalars.count, scalars[index] != ";" { value.unicodeScalars.append(scalars[index]); index += 1 }
        result.value = FieldText.trimming(value)
        while index < scalars.count {
            index += 1  // ';'
            skipSpaces()
            var key = ""
            while index < scalars.count, scalars[index] != "=", scalars[index] != ";" { key.unicodeScalars.append(scalars[index]); index += 1 }
            key = FieldText.trimming(key).lowercased()
            var parameter = ""
            if index < scalars.count, scalars[index] == "=" {
                index += 1
                skipSpaces()
                if index < scalars.count, scalars[index] == "\"" {
                    index += 1
                    var closed = false
                    while index < scalars.count {
                        let scalar = scalars[index]
                        index += 1
                        if scalar == "\\", index < scalars.count {
                            parameter.unicodeScalars.append(scalars[index])
                            index += 1
                        } else if scalar == "\"" {
                            closed = true
                            break
                        } else {
                            parameter.unicodeScalars.append(scalar)
                        }
                    }
                    if !closed { result.malformed = true }
                    while index < scalars.count, scalars[index] != ";" {
                        if scalars[index] != " " && scalars[index] != "\t" { result.malformed = true }
                        index += 1
                    }
                } else {
                    while index < scalars.count, scalars[index] != ";" { parameter.unicodeScalars.append(scalars[index]); index += 1 }
                    parameter = FieldText.trimming(parameter)
                }
            }
            guard !key.isEmpty else { continue }
            if result.parameters[key] != nil { result.duplicateKeys = true }
            result.parameters[key] = parameter
        }
        return result
    }
}
