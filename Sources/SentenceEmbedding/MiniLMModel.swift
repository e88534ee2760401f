import Foundation

/// The weights and forward pass of a BERT encoder as all-MiniLM-L6-v2 has it (6 layers, width
/// 384, 12 heads, feed-forward 1 536, GELU, post-layer-norm, absolute positions), followed by
/// sentence-transformers' mean pooling and L2 normalisation.
///
/// Not thread-safe for concurrent calls (it reuses scratch buffers): ``MiniLMEmbedder`` runs it
/// on one dedicated thread.
final class MiniLMModel: @unchecked Sendable {  // `@unchecked`: used only on one thread, see above
    struct Layer {
        var qkvWeight: [Float], qkvBias: [Float]  // queries, keys, values stacked: [3·width, width]
        var outputWeight: [Float], outputBias: [Float]
        var attentionNormGain: [Float], attentionNormBias: [Float]
        var intermediateWeight: [Float], intermediateBias: [Float]
        var downWeight: [Float], downBias: [Float]
        var outputNormGain: [Float], outputNormBias: [Float]
    }

    let width: Int, heads: Int, intermediate: Int, maximumPositions: Int, vocabularySize: Int
    let epsilon: Float
    let wordEmbeddings: [Float], positionEmbeddings: [Float], tokenTypeEmbedding: [Float]
    let embeddingNormGain: [Float], embeddingNormBias: [Float]
    let layers: [Layer]

    /// Parallel lanes of one call (``MiniLMConfiguration/threads``), each with its scratch buffers.
    let lanes: Int
    private let scratches: [EncoderScratch]

    /// Loads the weights from `model.safetensors` with the sizes of `configuration`; `lanes`
    /// sequences of a batch are encoded side by side.
    init(weights file: SafetensorsFile, configuration: BertConfiguration, lanes: Int = 1) throws(SentenceEmbeddingError) {
        self.lanes = max(1, lanes)
        scratches = (0..<max(1, lanes)).map { _ in EncoderScratch() }
        let w = configuration.hiddenSize, f = configuration.intermediateSize
        width = w
        heads = configuration.attentionHeads
        intermediate = f
        maximumPositions = configuration.maximumPositions
        vocabularySize = configuration.vocabularySize
        epsilon = configuration.layerNormEpsilon
        guard heads > 0, w % heads == 0 else { throw SentenceEmbeddingError(.badFormat, "width \(w) is not a multiple of \(heads) heads") }
        // Checkpoints name their tensors with or without the `bert.` prefix.
        let prefix = file.entries["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func tensor(_ name: String, _ shape: [Int]) throws(SentenceEmbeddingError) -> [Float] {
            try file.floats(prefix + name, shape: shape)
        }
        wordEmbeddings = try tensor("embeddings.word_embeddings.weight", [vocabularySize, w])
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", [maximumPositions, w])
        tokenTypeEmbedding = Array(try tensor("embeddings.token_type_embeddings.weight", [configuration.typeVocabularySize, w]).prefix(w))
        embeddingNormGain = try tensor("embeddings.LayerNorm.weight", [w])
        embeddingNormBias = try tensor("embeddings.LayerNorm.bias", [w])
        var layers: [Layer] = []
        for index in 0..<configuration.layers {
            let p = "encoder.layer.\(index)."
            layers.append(Layer(
                qkvWeight: try tensor(p + "attention.self.query.weight", [w, w]) + tensor(p + "attention.self.key.weight", [w, w])
                    + tensor(p + "attention.self.value.weight", [w, w]),
                qkvBias: try tensor(p + "attention.self.query.bias", [w]) + tensor(p + "attention.self.key.bias", [w])
                    + tensor(p + "attention.self.value.bias", [w]),
                outputWeight: try tensor(p + "attention.output.dense.weight", [w, w]),
                outputBias: try tensor(p + "attention.output.dense.bias", [w]),
                attentionNormGain: try tensor(p + "attention.output.LayerNorm.weight", [w]),
                attentionNormBias: try tensor(p + "attention.output.LayerNorm.bias", [w]),
                intermediateWeight: try tensor(p + "intermediate.dense.weight", [f, w]),
                intermediateBias: try tensor(p + "intermediate.dense.bias", [f]),
                downWeight: try tensor(p + "output.dense.weight", [w, f]),
                downBias: try tensor(p + "output.dense.bias", [w]),
                outputNormGain: try tensor(p + "output.LayerNorm.weight", [w]),
                outputNormBias: try tensor(p + "output.LayerNorm.bias", [w])))
        }
        self.layers = layers
    }

    /// The mean-pooled, L2-normalised sentence vector of each sequence of `batch` (`[CLS] … [SEP]`,
    /// each cut at ``maximumPositions``; ids outside the vocabulary are read as 0, `[PAD]`).
    ///
    /// The sequences' rows are stacked into one matrix, so every linear layer is one matrix
    /// product over all of them (where OpenBLAS is fast); attention, the only step that mixes
    /// rows, runs per sequence. No padding, so no mask: each result equals the sequence's alone.
    /// With several lanes the batch is cut into that many parts of about equal pieces, encoded
    /// side by side (OpenBLAS single-threaded in each), so layer norm, GELU, softmax and attention
    /// run in parallel too; a single sequence uses OpenBLAS's threads instead.
    func sentenceVectors(_ batch: [[Int32]]) -> [[Float]] {
        let parts = min(lanes, batch.count)
        guard parts > 1 else {
            LinearAlgebra.setThreads(lanes)
            return encode(batch, with: scratches[0])
        }
        LinearAlgebra.setThreads(1)
        let total = batch.reduce(0) { $0 + $1.count }
        var bounds = [0]
        var pieces = 0
        for (index, ids) in batch.enumerated() {
            pieces += ids.count
            if bounds.count < parts && pieces * parts >= total * bounds.count && index + 1 < batch.count { bounds.append(index + 1) }
        }
        bounds.append(batch.count)
        let cuts = bounds
        let results = ResultSlots(count: cuts.count - 1)
        DispatchQueue.concurrentPerform(iterations: cuts.count - 1) { part in
            results.set(part, encode(Array(batch[cuts[part]..<cuts[part + 1]]), with: scratches[part]))
        }
        return results.all.flatMap { $0 }
    }

    private func encode(_ batch: [[Int32]], with scratch: EncoderScratch) -> [[Float]] {
        var sequences: [(start: Int, count: Int)] = []
        var rows = 0
        for ids in batch {
            let count = min(ids.count, maximumPositions)
            sequences.append((rows, count))
            rows += count
        }
        guard rows > 0 else { return batch.map { _ in [Float](repeating: 0, count: width) } }
        // Embeddings: word + position + token type 0, then layer norm.
        scratch.hidden = [Float](repeating: 0, count: rows * width)
        scratch.hidden.withUnsafeMutableBufferPointer { h in
            for (ids, sequence) in zip(batch, sequences) {
                for position in 0..<sequence.count {
                    let id = Int(ids[position]) < vocabularySize && ids[position] >= 0 ? Int(ids[position]) : 0
                    let row = sequence.start + position
                    for column in 0..<width {
                        h[row * width + column] = wordEmbeddings[id * width + column] + positionEmbeddings[position * width + column]
                            + tokenTypeEmbedding[column]
                    }
                }
            }
        }
        LinearAlgebra.addAndNormalize(&scratch.hidden, residual: nil, rows: rows, gain: embeddingNormGain, bias: embeddingNormBias, epsilon: epsilon)
        for layer in layers {
            LinearAlgebra.linear(scratch.hidden, rows: rows, inputs: width, weight: layer.qkvWeight, bias: layer.qkvBias, into: &scratch.qkv)
            LinearAlgebra.attention(scratch.qkv, rows: rows, sequences: sequences, width: width, heads: heads, scores: &scratch.scores, into: &scratch.context)
            LinearAlgebra.linear(scratch.context, rows: rows, inputs: width, weight: layer.outputWeight, bias: layer.outputBias, into: &scratch.attended)
            LinearAlgebra.addAndNormalize(&scratch.attended, residual: scratch.hidden, rows: rows, gain: layer.attentionNormGain, bias: layer.attentionNormBias, epsilon: epsilon)
            LinearAlgebra.linear(scratch.attended, rows: rows, inputs: width, weight: layer.intermediateWeight, bias: layer.intermediateBias, into: &scratch.expanded)
            LinearAlgebra.gelu(&scratch.expanded)
            LinearAlgebra.linear(scratch.expanded, rows: rows, inputs: intermediate, weight: layer.downWeight, bias: layer.downBias, into: &scratch.projected)
            LinearAlgebra.addAndNormalize(&scratch.projected, residual: scratch.attended, rows: rows, gain: layer.outputNormGain, bias: layer.outputNormBias, epsilon: epsilon)
            swap(&scratch.hidden, &scratch.projected)
        }
        // Mean pooling over each sequence's positions, then L2 normalisation.
        return sequences.map { sequence in
            guard sequence.count > 0 else { return [Float](repeating: 0, count: width) }
            var pooled = [Double](repeating: 0, count: width)
            for row in sequence.start..<(sequence.start + sequence.count) {
                for column in 0..<width { pooled[column] += Double(scratch.hidden[row * width + column]) }
            }
            return Self.normalized(pooled.map { $0 / Double(sequence.count) })
        }
    }

    /// `vector / max(‖vector‖, 1e-12)`, as `torch.nn.functional.normalize`.
    static func normalized(_ vector: [Double]) -> [Float] {
        let norm = max(vector.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        return vector.map { Float($0 / norm) }
    }
}

/// One lane's scratch buffers, reused across calls (touched only by the lane that owns it).
final class EncoderScratch: @unchecked Sendable {  // `@unchecked`: one lane at a time, see above
    var hidden: [Float] = [], qkv: [Float] = [], scores: [Float] = [], context: [Float] = []
    var projected: [Float] = [], expanded: [Float] = [], attended: [Float] = []
}

/// The results of the lanes of one call, each written once by its lane before `concurrentPerform` returns.
private final class ResultSlots: @unchecked Sendable {  // `@unchecked`: disjoint slots, read after the join
    private var slots: [[[Float]]]
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func set(_ index: Int, _ value: [[Float]]) { slots[index] = value }
    var all: [[[Float]]] { slots }
}
