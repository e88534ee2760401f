import COpenBLAS
import Foundation

/// The numeric kernels of the encoder: matrix products through OpenBLAS (the only file that
/// imports it), layer norm, GELU and softmax in plain Swift. Matrices are row-major `[Float]`.
enum LinearAlgebra {
    /// How many threads OpenBLAS may use for one product (process-wide, as OpenBLAS has it).
    static func setThreads(_ count: Int) {
        cblas_threads(Int32(max(1, count)))
    }

    /// `output[rows × outputs] = input[rows × inputs] · weightᵀ + bias`, PyTorch's `nn.Linear`
    /// with its `[outputs, inputs]` weight.
    static func linear(_ input: [Float], rows: Int, inputs: Int, weight: [Float], bias: [Float], into output: inout [Float]) {
        let outputs = bias.count
        if output.count != rows * outputs { output = [Float](repeating: 0, count: rows * outputs) }
        output.withUnsafeMutableBufferPointer { out in
            for row in 0..<rows {
                for column in 0..<outputs { out[row * outputs + column] = bias[column] }
            }
            input.withUnsafeBufferPointer { a in
                weight.withUnsafeBufferPointer { b in
                    cblas_linear_rows(Int32(rows), Int32(outputs), Int32(inputs), a.baseAddress, b.baseAddress, out.baseAddress, 1)
                }
            }
        }
    }

    /// Multi-head self-attention over packed projections `qkv[rows × 3·width]` (queries, keys,
    /// values side by side) of several sequences stacked row after row (`sequences`: each one's
    /// first row and row count): `context[rows × width]`, each head's `softmax(Q·Kᵀ/√d)·V` in its
    /// columns. Every position sees every position of its own sequence and none of the others
    /// (unpadded sequences: no mask).
    static func attention(
        _ qkv: [Float], rows: Int, sequences: [(start: Int, count: Int)], width: Int, heads: Int, scores: inout [Float], into context: inout [Float]
    ) {
        let headWidth = width / heads
        let stride = 3 * width
        let scale = 1 / Float(headWidth).squareRoot()
        let longest = sequences.map(\.count).max() ?? 0
        if scores.count < longest * longest { scores = [Float](repeating: 0, count: longest * longest) }
        if context.count != rows * width { context = [Float](repeating: 0, count: rows * width) }
        qkv.withUnsafeBufferPointer { packed in
            scores.withUnsafeMutableBufferPointer { s in
                context.withUnsafeMutableBufferPointer { c in
                    for sequence in sequences where sequence.count > 0 {
                        let n = sequence.count
                        for head in 0..<heads {
                            let q = packed.baseAddress! + sequence.start * stride + head * headWidth
                            let k = q + width
                            let v = q + 2 * width
                            cblas_scores(Int32(n), Int32(n), Int32(headWidth), scale, q, Int32(stride), k, Int32(stride), s.baseAddress)
                            for row in 0..<n { softmax(s.baseAddress! + row * n, count: n) }
                            cblas_mix(
                                Int32(n), Int32(headWidth), Int32(n), s.baseAddress, v, Int32(stride),
                                c.baseAddress! + sequence.start * width + head * headWidth, Int32(width))
                        }
                    }
                }
            }
        }
    }

    /// In place: `values[i] = softmax(values)[i]`, max-subtracted.
    static func softmax(_ values: UnsafeMutablePointer<Float>, count: Int) {
        var maximum = -Float.infinity
        for index in 0..<count { maximum = max(maximum, values[index]) }
        var sum: Float = 0
        for index in 0..<count {
            let e = expf(values[index] - maximum)
            values[index] = e
            sum += e
        }
        let inverse = 1 / sum
        for index in 0..<count { values[index] *= inverse }
    }

    /// In place, row by row: `x = LayerNorm(x + residual)` (or `LayerNorm(x)` without one) with
    /// `gain`, `bias` and `epsilon` (biased variance, as PyTorch).
    static func addAndNormalize(_ x: inout [Float], residual: [Float]?, rows: Int, gain: [Float], bias: [Float], epsilon: Float) {
        let width = gain.count
        let zeros = residual == nil ? [Float](repeating: 0, count: rows * width) : []
        x.withUnsafeMutableBufferPointer { values in
            (residual ?? zeros).withUnsafeBufferPointer { r in
                for row in 0..<rows {
                    let base = row * width
                    var mean: Float = 0
                    for column in 0..<width {
                        values[base + column] += r[base + column]
                        mean += values[base + column]
                    }
                    mean /= Float(width)
                    var variance: Float = 0
                    for column in 0..<width {
                        let d = values[base + column] - mean
                        variance += d * d
                    }
                    variance /= Float(width)
                    let inverse = 1 / (variance + epsilon).squareRoot()
                    for column in 0..<width {
                        values[base + column] = (values[base + column] - mean) * inverse * gain[column] + bias[column]
                    }
                }
            }
        }
    }

    /// In place: the exact GELU, `x · Φ(x) = x/2 · (1 + erf(x/√2))`, BERT's `gelu`.
    static func gelu(_ x: inout [Float]) {
        let inverseRoot2 = Float(1 / 2.0.squareRoot())
        x.withUnsafeMutableBufferPointer { values in
            for index in values.indices {
                let v = values[index]
                values[index] = 0.5 * v * (1 + erff(v * inverseRoot2))
            }
        }
    }
}
