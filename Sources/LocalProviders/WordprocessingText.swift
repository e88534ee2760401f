import Foundation
import Providers

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Plain text from WordprocessingML (`word/document.xml`).
///
/// Rules: the text of `w:t` runs is joined without separators; `w:tab` → `\t`; `w:br`/`w:cr` →
/// `\n`; the end of a paragraph → `\n`. In tables a paragraph inside a cell ends with a space, a
/// cell with `\t` and a row with `\n`. Deleted text (`w:delText`), field codes (`w:instrText`) and
/// `mc:Fallback` (duplicates of `mc:Choice`) are skipped. Elements are matched by namespace, so
/// any prefix and both the transitional and strict namespaces work. External entities are never
/// resolved.
enum WordprocessingText {
    static let transitionalNamespace = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    static let strictNamespace = "http://purl.oclc.org/ooxml/wordprocessingml/main"
    static let compatibilityNamespace = "http://schemas.openxmlformats.org/markup-compatibility/2006"

    /// The text of a `word/document.xml`; ``ProviderError/Code/unreadableDocument`` when it is not
    /// well-formed XML.
    static func text(of xml: [UInt8]) throws(ProviderError) -> String {
        let parser = XMLParser(data: Data(xml))
        let walker = Walker()
        parser.delegate = walker
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        // swift-corelibs-foundation's parse() can return true after a fatal error (mismatched
        // tags), so the error callback and parserError are checked as well.
        let parsed = parser.parse()
        guard parsed, parser.parserError == nil, !walker.failed else {
            let line = parser.lineNumber
            throw ProviderError(.unreadableDocument, "the DOCX's word/document.xml is not well-formed XML (line \(line))")
        }
        return walker.text
    }

    /// The SAX delegate; used by one parse on one thread.
    private final class Walker: NSObject, XMLParserDelegate {
        var text = ""
        /// Whether the parser reported an error.
        var failed = false
        /// Local names of the open Word elements (non-Word elements as "").
        private var stack: [String] = []
        private var capturing = 0
        private var skipping = 0
        private var cellDepth = 0

        private func wordName(_ elementName: String, _ namespaceURI: String?) -> String? {
            guard namespaceURI == WordprocessingText.transitionalNamespace || namespaceURI == WordprocessingText.strictNamespace else {
                return nil
            }
            return elementName
        }

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
        ) {
            if namespaceURI == WordprocessingText.compatibilityNamespace, elementName == "Fallback" {
                skipping += 1
                stack.append("mc:Fallback")
                return
            }
            guard let name = wordName(elementName, namespaceURI) else {
                stack.append("")
                return
            }
            let parent = stack.last
            stack.append(name)
            if name == "delText" || name == "instrText" {
                skipping += 1
                return
            }
            guard skipping == 0 else { return }
            switch name {
            case "t":
                capturing += 1
            case "tab" where parent == "r":
                text.append("\t")
            case "br" where parent == "r", "cr" where parent == "r":
                text.append("\n")
            case "noBreakHyphen":
                text.append("-")
            case "tc":
                cellDepth += 1
            default:
                break
            }
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            let name = stack.popLast() ?? ""
            if name == "mc:Fallback" {
                skipping -= 1
                return
            }
            if name == "delText" || name == "instrText" {
                skipping -= 1
                return
            }
            guard skipping == 0 else { return }
            switch name {
            case "t":
                capturing = max(0, capturing - 1)
            case "p":
                text.append(cellDepth > 0 ? " " : "\n")
            case "tc":
                cellDepth = max(0, cellDepth - 1)
                trimTrailingSpaces()
                text.append("\t")
            case "tr":
                if text.last == "\t" { text.removeLast() }
                text.append("\n")
            case "tbl":
                text.append("\n")
            default:
                break
            }
        }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
            failed = true
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if capturing > 0 && skipping == 0 { text.append(string) }
        }

        private func trimTrailingSpaces() {
            while text.last == " " { text.removeLast() }
        }
    }
}
