import Foundation
import ADARCore

/// Per-row outputs of `BPRLoss32` (spec S7), caller-owned and reused.
/// After a call, `rows` rows are valid.
public final class LossBuffers: @unchecked Sendable {
    public private(set) var rows = 0
    public private(set) var dimension = 0
    private var capacityRows = 0, capacityValues = 0
    @usableFromInline var loss = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    @usableFromInline var userGradient = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    @usableFromInline var positiveGradient = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    @usableFromInline var negativeGradient = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    @usableFromInline var fallbackGradient = UnsafeMutablePointer<Float>.allocate(capacity: 0)

    public init() {}
    deinit { release() }

    /// `L` per row.
    public var losses: UnsafeBufferPointer<Float> { .init(start: loss, count: rows) }
    /// `∂L/∂e_u`, `rows × d`.
    public var userGradients: UnsafeBufferPointer<Float> { .init(start: userGradient, count: rows * dimension) }
    /// `∂L/∂e_i`, `rows × d`.
    public var positiveGradients: UnsafeBufferPointer<Float> { .init(start: positiveGradient, count: rows * dimension) }
    /// `∂L/∂e_{j_1}` (the sampled negative), `rows × d`.
    public var negativeGradients: UnsafeBufferPointer<Float> { .init(start: negativeGradient, count: rows * dimension) }
    /// `∂L/∂e_{j_h}` for the row's fallback candidate `h` (non-zero only under
    /// `fallback = hardest, gradientFlow = through` on fallback rows), `rows × d`.
    public var fallbackGradients: UnsafeBufferPointer<Float> { .init(start: fallbackGradient, count: rows * dimension) }

    func prepare(rows: Int, dimension: Int) {
        if rows > capacityRows || rows * dimension > capacityValues {
            release()
            capacityRows = max(rows, capacityRows)
            capacityValues = max(rows * dimension, capacityValues)
            loss = .allocate(capacity: capacityRows)
            userGradient = .allocate(capacity: capacityValues)
            positiveGradient = .allocate(capacity: capacityValues)
            negativeGradient = .allocate(capacity: capacityValues)
            fallbackGradient = .allocate(capacity: capacityValues)
        }
        self.rows = rows
        self.dimension = dimension
    }

    private func release() {
        loss.deallocate(); userGradient.deallocate(); positiveGradient.deallocate()
        negativeGradient.deallocate(); fallbackGradient.deallocate()
    }
}

extension ADARSynthesizer {
    /// S7 in binary32 for rows already synthesised into `synthesis`:
    /// `L = softplus(−(s_0 − s_uj)) + w·softplus(−(s_0 − ⟨e_u, x⁻⟩)) + λ/2·(‖e_u‖² + ‖e_i‖² + ‖e_j‖²)`
    /// with `j = j_1`, and its gradients; `w` is the row's (`ADARConfiguration.augmentationWeight(fallbackRow:)`).
    public func loss(
        _ input: IndexedRows32, synthesis: SynthesisBuffers, into output: LossBuffers, threads: Int = defaultThreadCount
    ) throws(ADARError) {
        try input.withAccess { (access) throws(ADARError) in
            try lossPass(access, rows: input.rows, synthesis: synthesis, into: output, threads: threads)
        }
    }

    /// The dense-input form of `loss(_:synthesis:into:threads:)`.
    public func loss(
        _ input: DenseRows32, synthesis: SynthesisBuffers, into output: LossBuffers, threads: Int = defaultThreadCount
    ) throws(ADARError) {
        try input.withAccess { (access) throws(ADARError) in
            try lossPass(access, rows: input.rows, synthesis: synthesis, into: output, threads: threads)
        }
    }

    private func lossPass(
        _ access: RowAccess, rows: Int, synthesis: SynthesisBuffers, into output: LossBuffers, threads: Int
    ) throws(ADARError) {
        guard synthesis.rows == rows, synthesis.dimension == access.dimension else {
            throw .shapeMismatch(field: "synthesis", expected: rows, actual: synthesis.rows)
        }
        output.prepare(rows: rows, dimension: access.dimension)
        let chunks = Self.chunkCount(rows: rows, threads: threads)
        let body = { @Sendable (chunk: Int) in
            // The loss reads only the sampled negative j_1 of the pool.
            access.visit(chunkRange(chunk, of: chunks, count: rows), candidates: 1) { b in
                lossRow(b, access, synthesis: synthesis, output: output)
            }
        }
        forEachChunk(chunks, threads: threads, body)
    }

    @inline(__always)
    private func lossRow(_ b: Int, _ access: RowAccess, synthesis: SynthesisBuffers, output: LossBuffers) {
        let d = access.dimension
        output.loss[b] = lossRow(
            user: access.user(b), positive: access.positive(b), negative: access.candidate(b, 0),
            positiveScore: synthesis.positiveScore[b], status: synthesis.status[b], timestep: Int(synthesis.timestep[b]),
            syntheticScore: synthesis.syntheticScore[b], syntheticNegative: synthesis.syntheticNegative + b * d,
            denoised: synthesis.isDenoised(b), dimension: d,
            userGradient: output.userGradient + b * d, positiveGradient: output.positiveGradient + b * d,
            negativeGradient: output.negativeGradient + b * d, fallbackGradient: output.fallbackGradient + b * d)
    }

    /// S7 for one row given its vectors and its synthesis outcome (`s_0`,
    /// status, timestep, `⟨e_u, x⁻⟩`, `x⁻`, whether `x⁻` is τ's `x̂_0`): writes the four gradients and
    /// returns `L`. The loss pass runs exactly this per row; at package
    /// access it is a white-box hook for the conformance port.
    @inline(__always)
    package func lossRow(
        user u: UnsafePointer<Float>, positive x0: UnsafePointer<Float>, negative: UnsafePointer<Float>,
        positiveScore s0: Float, status: RowStatus, timestep: Int, syntheticScore: Float,
        syntheticNegative xNeg: UnsafePointer<Float>, denoised: Bool, dimension d: Int,
        userGradient gu: UnsafeMutablePointer<Float>, positiveGradient gi: UnsafeMutablePointer<Float>,
        negativeGradient gj: UnsafeMutablePointer<Float>, fallbackGradient gh: UnsafeMutablePointer<Float>
    ) -> Float {
        let config = configuration
        let realMargin = s0 - Kernels32.dot(u, negative, d)
        var loss = softplus32(-realMargin)
        let realWeight = logistic32(-realMargin)

        // The row's w (S7; `syntheticWeight` on synthesised rows, 0 on skipped fallback rows).
        let rowWeight = config.augmentationWeight(fallbackRow: status.isFallback)
        let augment = rowWeight > 0
        let w = Float(rowWeight)
        var synthWeight: Float = 0
        if augment {
            let syntheticMargin = s0 - syntheticScore
            loss += w * softplus32(-syntheticMargin)
            synthWeight = w * logistic32(-syntheticMargin)
        }
        let through = augment && config.gradientFlow == .through
        // ∂x⁻/∂x_0 = √ᾱ_t·I on S6 rows, I on denoised rows (S9: t, ε, ε̂ constant);
        // on fallback rows x⁻ is the candidate itself.
        let positiveFlow: Float = through && !status.isFallback ? (denoised ? 1 : sqrtAlphaBar[timestep]) : 0
        let fallbackFlow: Float = through && status.isFallback ? 1 : 0

        let lambda = Float(config.l2)
        let positiveWeight = -realWeight - synthWeight * (1 - positiveFlow), fallbackWeight = synthWeight * fallbackFlow
        // Eight components at a time; each gradient component is the same
        // expression as in the scalar tail. The squares are summed per lane
        // first: a different order than one running sum, covered by S7/E1's
        // γ_{3d} bound for 3d non-negative terms in any order.
        var squares8 = SIMD8<Float>()
        var k = 0
        while k + 8 <= d {
            let uk = Kernels32.load8(u + k), xk = Kernels32.load8(x0 + k), jk = Kernels32.load8(negative + k)
            Kernels32.store8(-realWeight * (xk - jk) - synthWeight * (xk - Kernels32.load8(xNeg + k)) + lambda * uk, gu + k)
            Kernels32.store8(positiveWeight * uk + lambda * xk, gi + k)
            Kernels32.store8(realWeight * uk + lambda * jk, gj + k)
            Kernels32.store8(fallbackWeight * uk, gh + k)
            squares8 += uk * uk + xk * xk + jk * jk
            k += 8
        }
        var squares = squares8.sum()
        while k < d {
            let uk = u[k], xk = x0[k], jk = negative[k]
            gu[k] = -realWeight * (xk - jk) - synthWeight * (xk - xNeg[k]) + lambda * uk
            gi[k] = positiveWeight * uk + lambda * xk
            gj[k] = realWeight * uk + lambda * jk
            gh[k] = fallbackWeight * uk
            squares += uk * uk + xk * xk + jk * jk
            k += 1
        }
        return loss + lambda / 2 * squares
    }
}

/// `softplus(x) = max(x, 0) + log1p(exp(−|x|))` in binary32.
@inline(__always)
func softplus32(_ x: Float) -> Float { Swift.max(x, 0) + log1pf(expf(-abs(x))) }

/// `1/(1 + e^{−x})` in binary32, without overflow.
@inline(__always)
func logistic32(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
}
