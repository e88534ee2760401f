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

    /// In place: `values[i] = softmax(values)[i]`, max-subtracted, with ``exponential(_:)`` (a
    /// vectorised loop; `expf` called per score took a sixth of the encoder's time).
    static func softmax(_ values: UnsafeMutablePointer<Float>, count: Int) {
        // The maximum in eight independent running maxima (one chain would wait on each compare).
        var maxima = SIMD8<Float>(repeating: -.infinity)
        var index = 0
        while index + 8 <= count {
            for lane in 0..<8 { maxima[lane] = Swift.max(maxima[lane], values[index + lane]) }
            index += 8
        }
        var maximum = maxima.max()
        while index < count {
            maximum = Swift.max(maximum, values[index])
            index += 1
        }
        for index in 0..<count { values[index] = exponential(values[index] - maximum) }
        var lanes = SIMD8<Float>()
        index = 0
        while index + 8 <= count {
            var chunk = SIMD8<Float>()
            for lane in 0..<8 { chunk[lane] = values[index + lane] }
            lanes += chunk
            index += 8
        }
        var sum = lanes.sum()
        while index < count {
            sum += values[index]
            index += 1
        }
        let inverse = 1 / sum
        for index in 0..<count { values[index] *= inverse }
    }

    /// eˣ for x ≤ 0 (softmax's max-subtracted scores), branch-free: Cephes' `expf` — x = n·ln 2 + r
    /// with |r| ≤ ln 2 / 2, a degree-5 polynomial for eʳ, 2ⁿ from the exponent bits — within
    /// 2 ulp of `expf`; inputs below -87 give e⁻⁸⁷ (≈ 1.6e-38), which the sum makes 0.
    @inline(__always)
    static func exponential(_ input: Float) -> Float {
        let x = Swift.max(input, -87)
        // Round to nearest by adding and subtracting 1.5 · 2²³ (|x · log2 e| < 2²² here): plain
        // arithmetic, where `rounded()` is a call to `rintf` that stops the loop's vectorisation.
        let shifted = x * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let e = p * r * r + r + 1
        // 2ⁿ: n sits in the low mantissa bits of `shifted` (1.5 · 2²³ + n, one binade), so the
        // exponent is built with wrapping integer operations, which cannot trap (and so vectorise).
        return e * Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
    }

    /// In place, row by row: `x = LayerNorm(x + residual)` (or `LayerNorm(x)` without one) with
    /// `gain`, `bias` and `epsilon` (biased variance, as PyTorch).
    static func addAndNormalize(_ x: inout [Float], residual: [Float]?, rows: Int, gain: [Float], bias: [Float], epsilon: Float) {
        let width = gain.count
        let zeros = residual == nil ? [Float](repeating: 0, count: rows * width) : []
        x.withUnsafeMutableBufferPointer { values in
            (residual ?? zeros).withUnsafeBufferPointer { r in
                gain.withUnsafeBufferPointer { g in
                    bias.withUnsafeBufferPointer { b in
                        for row in 0..<rows {
                            normalizeRow(values.baseAddress! + row * width, residual: r.baseAddress! + row * width, width: width, gain: g, bias: b, epsilon: epsilon)
                        }
                    }
                }
            }
        }
    }

    /// One row of ``addAndNormalize(_:residual:rows:gain:bias:epsilon:)``; sums in eight lanes.
    @inline(__always)
    private static func normalizeRow(
        _ v: UnsafeMutablePointer<Float>, residual r: UnsafePointer<Float>, width: Int, gain: UnsafeBufferPointer<Float>,
        bias: UnsafeBufferPointer<Float>, epsilon: Float
    ) {
        var lanes = SIMD8<Float>()
        var column = 0
        while column + 8 <= width {
            var chunk = SIMD8<Float>()
            for lane in 0..<8 {
                v[column + lane] += r[column + lane]
                chunk[lane] = v[column + lane]
            }
            lanes += chunk
            column += 8
        }
        var sum = lanes.sum()
        while column < width {
            v[column] += r[column]
            sum += v[column]
            column += 1
        }
        let mean = sum / Float(width)
        var squares = SIMD8<Float>()
        column = 0
        while column + 8 <= width {
            var chunk = SIMD8<Float>()
            for lane in 0..<8 { chunk[lane] = v[column + lane] - mean }
            squares += chunk * chunk
            column += 8
        }
        var variance = squares.sum()
        while column < width {
            let d = v[column] - mean
            variance += d * d
            column += 1
        }
        variance /= Float(width)
        let inverse = 1 / (variance + epsilon).squareRoot()
        for column in 0..<width {
            v[column] = (v[column] - mean) * inverse * gain[column] + bias[column]
        }
    }

    /// In place: BERT's exact GELU, `x · Φ(x) = x/2 · (1 + erf(x/√2))`, with erf as a rational
    /// function of x on [-4, 4] (±1 beyond, as in float): the approximation of Eigen and XLA,
    /// within 4.2e-7 of `erf` everywhere (checked against Python's `math.erf` on 200 001 points),
    /// so GELU's error stays below 1e-6 for the activations this model has. Unlike `erff` it has no
    /// branches or library calls, so the loop is vectorised; with `erff` GELU took a third
    /// of the encoder's time (`docs/benchmarks.md`).
    static func gelu(_ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { values in
            // A plain loop of multiplies, adds, min/max and one divide: LLVM vectorises it.
            for index in 0..<values.count {
                let v = values[index]
                values[index] = 0.5 * v * (1 + erf(v * inverseRoot2))
            }
        }
    }

    private static let inverseRoot2 = Float(1 / 2.0.squareRoot())

    /// erf (see ``gelu(_:)``).
    @inline(__always)
    static func erf(_ input: Float) -> Float {
        let x = Swift.min(Swift.max(input, -4), 4)
        let x2 = x * x
        var p: Float = -2.72614225801306e-10
        p = p * x2 + 2.77068142495902e-08
        p = p * x2 - 2.10102402082508e-06
        p = p * x2 - 5.69250639462346e-05
        p = p * x2 - 7.34990630326855e-04
        p = p * x2 - 2.95459980854025e-03
        p = p * x2 - 1.60960333262415e-02
        var q: Float = -1.45660718464996e-05
        q = q * x2 - 2.13374055278905e-04
        q = q * x2 - 1.68282697438203e-03
        q = q * x2 - 7.37332916720468e-03
        q = q * x2 - 1.42647390514189e-02
        return x * p / q
    }
}
