import Foundation

/// The sizes a BERT checkpoint's `config.json` gives (Hugging Face's names in comments).
/// Defaults are all-MiniLM-L6-v2's.
public struct BertConfiguration: Sendable, Equatable {
    /// `hidden_size`. Default 384.
    public var hiddenSize = 384
    /// `num_attention_heads`. Default 12.
    public var attentionHeads = 12
    /// `num_hidden_layers`. Default 6.
    public var layers = 6
    /// `intermediate_size`. Default 1 536.
    public var intermediateSize = 1536
    /// `max_position_embeddings`. Default 512.
    public var maximumPositions = 512
    /// `vocab_size`. Default 30 522.
    public var vocabularySize = 30522
    /// `type_vocab_size`. Default 2.
    public var typeVocabularySize = 2
    /// `layer_norm_eps`. Default 1e-12.
    public var layerNormEpsilon: Float = 1e-12

    /// The defaults.
    public init() {}

    /// Reads `config.json`; only `bert` models with `gelu` and absolute positions are accepted.
    public init(contentsOf url: URL) throws(SentenceEmbeddingError) {
        guard let data = try? Data(contentsOf: url) else { throw SentenceEmbeddingError(.missingFile, "cannot read \(url.lastPathComponent)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SentenceEmbeddingError(.badFormat, "\(url.lastPathComponent) is not a JSON object")
        }
        if let type = object["model_type"] as? String, type != "bert" {
            throw SentenceEmbeddingError(.badFormat, "model_type \(type) is not bert")
        }
        if let activation = object["hidden_act"] as? String, activation != "gelu" {
            throw SentenceEmbeddingError(.badFormat, "hidden_act \(activation) is not supported (gelu only)")
        }
        if let positions = object["position_embedding_type"] as? String, positions != "absolute" {
            throw SentenceEmbeddingError(.badFormat, "position_embedding_type \(positions) is not supported")
        }
        func integer(_ key: String, _ fallback: Int) -> Int { (object[key] as? Int) ?? fallback }
        hiddenSize = integer("hidden_size", hiddenSize)
        attentionHeads = integer("num_attention_heads", attentionHeads)
        layers = integer("num_hidden_layers", layers)
        intermediateSize = integer("intermediate_size", intermediateSize)
        maximumPositions = integer("max_position_embeddings", maximumPositions)
        vocabularySize = integer("vocab_size", vocabularySize)
        typeVocabularySize = integer("type_vocab_size", typeVocabularySize)
        if let epsilon = object["layer_norm_eps"] as? Double { layerNormEpsilon = Float(epsilon) }
    }
}
