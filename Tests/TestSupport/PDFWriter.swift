import Foundation

/// Writes small, valid PDFs (letter pages, a correct cross-reference table) for tests: pages of
/// content-stream drawing in Helvetica (WinAnsiEncoding), or a full-page grey JPEG.
public enum PDFWriter {
    /// One page.
    public enum Page: Sendable {
        /// A content stream drawn with font `/F1`.
        case content(String)
        /// A JPEG drawn over the whole page; its size and colour components are read from its frame header.
        case jpeg([UInt8])
    }

    /// The PDF's bytes.
    public static func document(pages: [Page]) -> [UInt8] {
        // 1 catalog, 2 pages, 3 font, then per page: page, content, [image].
        var objects: [[UInt8]] = [[], [], Array("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".utf8)]
        var kids: [Int] = []
        for page in pages {
            let pageNumber = objects.count + 1
            kids.append(pageNumber)
            let contentNumber = pageNumber + 1
            switch page {
            case .content(let text):
                objects.append(Array(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents \(contentNumber) 0 R >>".utf8))
                objects.append(stream(Array(text.utf8), dictionary: ""))
            case .jpeg(let bytes):
                let (width, height, components) = frame(of: bytes)
                let imageNumber = pageNumber + 2
                objects.append(Array(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 \(imageNumber) 0 R >> >> /Contents \(contentNumber) 0 R >>".utf8))
                objects.append(stream(Array("q 612 0 0 792 0 0 cm /Im1 Do Q\n".utf8), dictionary: ""))
                objects.append(stream(
                    bytes,
                    dictionary: "/Type /XObject /Subtype /Image /Width \(width) /Height \(height) /ColorSpace \(components == 1 ? "/DeviceGray" : components == 4 ? "/DeviceCMYK" : "/DeviceRGB") /BitsPerComponent 8 /Filter /DCTDecode "))
            }
        }
        objects[0] = Array("<< /Type /Catalog /Pages 2 0 R >>".utf8)
        objects[1] = Array("<< /Type /Pages /Kids [\(kids.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(kids.count) >>".utf8)

        var output = Array("%PDF-1.4\n%\u{E2}\u{E3}\u{CF}\u{D3}\n".utf8)
        var offsets: [Int] = []
        for (index, body) in objects.enumerated() {
            offsets.append(output.count)
            output += Array("\(index + 1) 0 obj\n".utf8) + body + Array("\nendobj\n".utf8)
        }
        let xref = output.count
        output += Array("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8)
        for offset in offsets { output += Array(String(format: "%010d 00000 n \n", offset).utf8) }
        output += Array("trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n".utf8)
        return output
    }

    /// Width, height and components from the JPEG's first start-of-frame segment.
    private static func frame(of jpeg: [UInt8]) -> (Int, Int, Int) {
        var index = 2
        while index + 9 < jpeg.count, jpeg[index] == 0xFF {
            let marker = jpeg[index + 1], length = Int(jpeg[index + 2]) << 8 | Int(jpeg[index + 3])
            if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                return (Int(jpeg[index + 7]) << 8 | Int(jpeg[index + 8]), Int(jpeg[index + 5]) << 8 | Int(jpeg[index + 6]), Int(jpeg[index + 9]))
            }
            index += 2 + length
        }
        return (0, 0, 1)
    }

    private static func stream(_ bytes: [UInt8], dictionary: String) -> [UInt8] {
        Array("<< \(dictionary)/Length \(bytes.count) >>\nstream\n".utf8) + bytes + Array("\nendstream".utf8)
    }
}
