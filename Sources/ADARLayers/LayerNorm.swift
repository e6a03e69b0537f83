import ADARCore

/// Layer normalisation over the last dimension:
/// `y = γ ⊙ (x − μ)/√(σ² + ε) + β`, `μ` and `σ²` the row's mean and biased
/// variance (divided by `d`), `ε = 10⁻⁸` as SASRec.pytorch sets it
/// (`torch.nn.LayerNorm(d, eps=1e-8)`; PyTorch's default would be 10⁻⁵).
///
/// Backward, with `x̂ = (x − μ)·r`, `r = 1/√(σ² + ε)` and `ĝ = dy ⊙ γ`:
/// `dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂))`, `dγ = Σ_rows dy ⊙ x̂`, `dβ = Σ_rows dy`.
public struct LayerNorm: Sendable {
    public let dimension: Int
    /// Offsets of `γ` and `β` in the model's flat parameter array.
    public let gain: Int
    public let shift: Int
    public static let epsilon = 1e-8

    public init(dimension: Int, at offset: Int) {
        self.dimension = dimension
        gain = offset
        shift = offset + dimension
    }

    public var parameterCount: Int { 2 * dimension }

    /// `y` from `x` (`rows × d`); keeps `x̂` (`rows × d`) and `r` (`rows`) for the backward.
    @_specialize(where S == Float)
    func forward<S: LayerScalar>(
        _ x: UnsafePointer<S>, rows: Int, parameters p: UnsafePointer<S>, normalised: UnsafeMutablePointer<S>,
        inverseDeviation: UnsafeMutablePointer<S>, into y: UnsafeMutablePointer<S>, threads: Int
    ) {
        let d = dimension, epsilon = S(Self.epsilon)
        let divisor = S(LayerMutation.active == .layerNormUnbiasedVariance ? d - 1 : d)
        nonisolated(unsafe) let (x, xhat, inv, y, gamma, beta) = (x, normalised, inverseDeviation, y, p + gain, p + shift)
        let chunks = LayerChunks.count(rows)
        forEachChunk(chunks, threads: threads) { chunk in
            for r in chunkRange(chunk, of: chunks, count: rows) {
                let row = x + r * d, h = xhat + r * d, out = y + r * d
                var sum: S = 0
                for k in 0..<d { sum += row[k] }
                let mean = sum / S(d)
                var squares: S = 0
                for k in 0..<d {
                    let c = row[k] - mean
                    squares += c * c
                }
                let inverse = 1 / (squares / divisor + epsilon).squareRoot()
                inv[r] = inverse
                for k in 0..<d {
                    h[k] = (row[k] - mean) * inverse
                    out[k] = gamma[k] * h[k] + beta[k]
                }
            }
        }
    }

    /// `dx += r·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂))` (or `=` unless `accumulate`);
    /// `dγ`, `dβ` into the gradient array (overwritten), each summed over rows in order.
    @_specialize(where S == Float)
    func backward<S: LayerScalar>(
        outputGradient dy: UnsafePointer<S>, rows: Int, normalised: UnsafePointer<S>, inverseDeviation: UnsafePointer<S>,
        parameters p: UnsafePointer<S>, gradient g: UnsafeMutablePointer<S>, inputGradient dx: UnsafeMutablePointer<S>,
        accumulate: Bool, threads: Int
    ) {
        let d = dimension
        let dGamma = g + gain, dBeta = g + shift
        dGamma.update(repeating: 0, count: d)
        dBeta.update(repeating: 0, count: d)
        for r in 0..<rows {
            let row = dy + r * d, h = normalised + r * d
            for k in 0..<d {
                dGamma[k] += row[k] * h[k]
                dBeta[k] += row[k]
            }
        }
        nonisolated(unsafe) let (dy, xhat, inv, dx, gamma) = (dy, normalised, inverseDeviation, dx, p + gain)
        let chunks = LayerChunks.count(rows)
        forEachChunk(chunks, threads: threads) { chunk in
            for r in chunkRange(chunk, of: chunks, count: rows) {
                let row = dy + r * d, h = xhat + r * d, out = dx + r * d
                var meanG: S = 0, meanGX: S = 0
                for k in 0..<d {
                    let gk = row[k] * gamma[k]
                    meanG += gk
                    meanGX += gk * h[k]
                }
                meanG /= S(d)
                meanGX /= S(d)
                for k in 0..<d {
                    let value = inv[r] * (row[k] * gamma[k] - meanG - h[k] * meanGX)
                    out[k] = accumulate ? out[k] + value : value
                }
            }
        }
    }
}
