import Foundation
import SentenceEmbedding
import Testing

/// The tokenizer's rules on a vocabulary small enough to reason about.
@Suite struct WordPieceTokenizerTests {
    let tokenizer = try! WordPieceTokenizer(pieces: [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "runn", "##ing", "run", ",", "!", "$", "cafe", "中", "a", "##a",
    ])

    @Test func greedyLongestMatchWithContinuations() {
        #expect(tokenizer.pieceIDs("unaffable running") == [4, 5, 6, 7, 8])
        #expect(tokenizer.encode("run") == [2, 9, 3])
    }

    @Test func aWordWithAnUnknownPartIsOneUnknown() {
        #expect(tokenizer.pieceIDs("unaffablex run") == [1, 9])
    }

    @Test func punctuationAndASCIISymbolsStandAlone() {
        #expect(tokenizer.pieceIDs("run,run!$run") == [9, 10, 9, 11, 12, 9])
    }

    @Test func accentsCaseControlAndWhitespaceAreNormalised() {
        #expect(tokenizer.pieceIDs("CAFÉ\u{0000}\u{200B}\tRun\u{00A0}Café") == [13, 9, 13])
    }

    @Test func cjkIdeographsAreWordsOfTheirOwn() {
        #expect(tokenizer.pieceIDs("run中run") == [9, 14, 9])
    }

    @Test func wordsOverOneHundredCodePointsAreUnknown() {
        #expect(tokenizer.pieceIDs(String(repeating: "a", count: 100)) == [15] + [Int32](repeating: 16, count: 99))
        #expect(tokenizer.pieceIDs(String(repeating: "a", count: 101)) == [1])
    }

    @Test func aVocabularyWithoutSpecialsIsRefused() {
        #expect(throws: SentenceEmbeddingError.self) { try WordPieceTokenizer(pieces: ["a", "b"]) }
    }
}
