import Foundation

/// BERT's uncased WordPiece tokenizer, as `tokenizers`' `BertNormalizer` + `BertPreTokenizer` +
/// `WordPiece` (the fast tokenizer sentence-transformers loads for all-MiniLM-L6-v2).
///
/// 1. Clean-up: U+0000, U+FFFD and other-category characters (Cc, Cf, Cs, Co, Cn) are dropped,
///    except tab, newline and carriage return; every white-space character becomes a space.
/// 2. CJK ideographs get a space on each side, so each is a word of its own.
/// 3. Accents are stripped: canonical decomposition (NFD), then nonspacing marks (Mn) dropped.
/// 4. Lower case, one code point at a time (full mappings).
/// 5. Words split at white space; punctuation (Unicode P* and every ASCII punctuation character,
///    `$+<=>^`|~` included) becomes a word of its own.
/// 6. Each word, greedily, the longest vocabulary entry from its start, then the longest `##`
///    continuation, and so on; a word longer than 100 code points, or one with a part found
///    nowhere, is the single piece `[UNK]`.
public struct WordPieceTokenizer: Sendable {
    /// Piece → id, from `vocab.txt` (the line number, from 0).
    let vocabulary: [String: Int32]
    /// `[CLS]`, `[SEP]`, `[UNK]` ids.
    public let classifierID: Int32, separatorID: Int32, unknownID: Int32
    /// Words longer than this many code points are `[UNK]` (BERT: 100).
    public let maximumWordLength = 100

    /// Reads `vocab.txt` (one piece a line).
    public init(vocabularyAt url: URL) throws(SentenceEmbeddingError) {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw SentenceEmbeddingError(.missingFile, "cannot read \(url.lastPathComponent)")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        if lines.last == "" { lines.removeLast() }
        try self.init(pieces: lines)
    }

    /// A tokenizer over `pieces` (id = index).
    public init(pieces: [String]) throws(SentenceEmbeddingError) {
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(pieces.count)
        for (index, piece) in pieces.enumerated() where vocabulary[piece] == nil {
            vocabulary[piece] = Int32(index)
        }
        guard let cls = vocabulary["[CLS]"], let sep = vocabulary["[SEP]"], let unk = vocabulary["[UNK]"] else {
            throw SentenceEmbeddingError(.badFormat, "the vocabulary has no [CLS], [SEP] or [UNK]")
        }
        self.vocabulary = vocabulary
        self.classifierID = cls
        self.separatorID = sep
        self.unknownID = unk
    }

    /// The word-piece ids of `text`, without `[CLS]`/`[SEP]`.
    public func pieceIDs(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for word in Self.words(in: text) { appendPieces(of: word, to: &ids) }
        return ids
    }

    /// `[CLS]` + ``pieceIDs(_:)`` + `[SEP]`, what the model reads.
    public func encode(_ text: String) -> [Int32] {
        [classifierID] + pieceIDs(text) + [separatorID]
    }

    /// The normalised words and punctuation marks of `text` (steps 1–5).
    static func words(in text: String) -> [[Unicode.Scalar]] {
        // 1 and 2: clean-up, white space, CJK padding.
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value == 0 || value == 0xFFFD { continue }
            if value == 0x09 || value == 0x0A || value == 0x0D || scalar.properties.isWhitespace {
                cleaned.append(" ")
                continue
            }
            if isOther(scalar) { continue }
            if isCJK(value) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        // 3 and 4: NFD, nonspacing marks out, lower case.
        var normalized: [Unicode.Scalar] = []
        for scalar in String(cleaned).decomposedStringWithCanonicalMapping.unicodeScalars {
            if scalar.properties.generalCategory == .nonspacingMark { continue }
            if scalar.properties.changesWhenLowercased {
                normalized.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                normalized.append(scalar)
            }
        }
        // 5: white space and punctuation.
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for scalar in normalized {
            if scalar.properties.isWhitespace {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
            } else if isPunctuation(scalar) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
                words.append([scalar])
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Step 6 for one word.
    private func appendPieces(of word: [Unicode.Scalar], to ids: inout [Int32]) {
        guard word.count <= maximumWordLength else { ids.append(unknownID); return }
        var pieces: [Int32] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32?
            while start < end {
                var candidate = start > 0 ? "##" : ""
                candidate.unicodeScalars.append(contentsOf: word[start..<end])
                if let id = vocabulary[candidate] { found = id; break }
                end -= 1
            }
            guard let found else { ids.append(unknownID); return }
            pieces.append(found)
            start = end
        }
        ids.append(contentsOf: pieces)
    }

    /// General category C*: control, format, surrogate, private use, unassigned.
    private static func isOther(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: true
        default: false
        }
    }

    /// BERT's CJK ideograph blocks.
    private static func isCJK(_ value: UInt32) -> Bool {
        switch value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            true
        default: false
        }
    }

    /// Unicode punctuation (P*) or any ASCII punctuation character.
    private static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if (0x21...0x2F).contains(value) || (0x3A...0x40).contains(value) || (0x5B...0x60).contains(value) || (0x7B...0x7E).contains(value) {
            return true
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }
}
