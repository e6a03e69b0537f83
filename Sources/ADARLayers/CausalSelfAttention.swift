import ADARCore

/// Causal multi-head self-attention with a key padding mask, as PyTorch's
/// `MultiheadAttention(d, h, dropout)` that SASRec.pytorch uses:
/// `[Q | K | V] = A·W_inᵀ + b_in` (`W_in` is `3d × d`, PyTorch's
/// `in_proj_weight`), per head `h` (width `d_h = d/heads`, columns
/// `h·d_h ..< (h+1)·d_h`): `P = softmax(Q_h·K_hᵀ/√d_h)` over the visible keys,
/// dropout on `P` (the attention weights), `O_h = P·V_h`; then
/// `out = O·W_outᵀ + b_out`.
///
/// Visible keys of query `p` in a sequence whose first non-padding slot is
/// `start`: `start … p` (causal mask and key padding mask). A query with no
/// visible key (`p < start`: a padding slot) gets `O = 0`, hence
/// `out = b_out`, and passes no gradient to any `Q`, `K`, `V`. Masked
/// entries of `P` are exactly 0 and get exactly zero gradient. The softmax
/// subtracts the row maximum before `exp`.
///
/// Per sequence the work is on the window `start ..< L` only (`m = L − start`
/// rows): `2·m²·d` flops for the scores and as many for `P·V` forward, twice
/// that backward; the projections `8·rows·d²` forward. Memory kept for the
/// backward: `P` (`B·heads·L²` values) and, under dropout, its mask (bytes).
public struct CausalSelfAttention: Sendable {
    public let dimension: Int
    public let heads: Int
    public let inputProjection: Linear
    public let outputProjection: Linear

    public init(dimension: Int, heads: Int, at offset: Int) {
        self.dimension = dimension
        self.heads = heads
        inputProjection = Linear(inputs: dimension, outputs: 3 * dimension, at: offset)
        outputProjection = Linear(inputs: dimension, outputs: dimension, at: offset + inputProjection.parameterCount)
    }

    public var parameterCount: Int { inputProjection.parameterCount + outputProjection.parameterCount }

    var headWidth: Int { dimension / heads }

    /// `1/√d_h`, formed in binary64 and rounded once.
    @_specialize(where S == Float)
    func scoreScale<S: LayerScalar>(_: S.Type = S.self) -> S { S(1 / Double(headWidth).squareRoot()) }

    /// `out` (`rows × d`) from `a` (`rows × d`, `rows = B·L`); keeps `qkv`,
    /// `P`, its dropout mask and `context` (`O`) for the backward.
    @_specialize(where S == Float)
    func forward<S: LayerScalar>(
        _ a: UnsafePointer<S>, sequences: Int, length: Int, starts: UnsafePointer<Int>, parameters p: UnsafePointer<S>,
        buffers w: AttentionBuffers<S>, dropout: Dropout, site: Int, into out: UnsafeMutablePointer<S>, threads: Int
    ) {
        let rows = sequences * length, d = dimension, heads = heads, dh = headWidth, L = length
        let scale: S = scoreScale(), keep: S = dropout.scale()
        let leak = LayerMutation.active == .causalMaskOffByOne ? 1 : 0
        inputProjection.forward(a, rows: rows, parameters: p, into: w.qkv, threads: threads)
        nonisolated(unsafe) let starts = starts
        let pairs = sequences * heads, chunks = LayerChunks.count(pairs)
        forEachChunk(chunks, threads: threads) { chunk in
            let scratch = w.scratch + chunk * 2 * L * L
            for pair in chunkRange(chunk, of: chunks, count: pairs) {
                let s = pair / heads, h = pair % heads, start = starts[s], m = L - start
                if h == 0 { (w.context + s * L * d).update(repeating: 0, count: start * d) }
                guard m > 0 else { continue }
                let probabilities = w.probabilities + pair * L * L, mask = w.mask + pair * L * L
                let q = w.qkv + (s * L + start) * 3 * d + h * dh
                GEMM.product(transposeB: true, m: m, n: m, k: dh, alpha: scale, q, lda: 3 * d, q + d, ldb: 3 * d,
                             probabilities, ldc: m)
                for i in 0..<m {
                    let row = probabilities + i * m, visible = Swift.min(i + 1 + leak, m)
                    var maximum = row[0]
                    for j in 1..<visible { maximum = Swift.max(maximum, row[j]) }
                    var sum: S = 0
                    for j in 0..<visible {
                        row[j] = S.exponential(row[j] - maximum)
                        sum += row[j]
                    }
                    for j in 0..<visible { row[j] /= sum }
                    for j in visible..<m { row[j] = 0 }
                }
                var weights = UnsafePointer(probabilities)
                if dropout.isActive {
                    for i in 0..<m {
                        dropout.fillMask(site: site, row: s * L + start + i, components: h * L + start ..< h * L + L,
                                         into: mask + i * m)
                    }
                    for k in 0 ..< m * m { scratch[k] = mask[k] != 0 ? probabilities[k] * keep : 0 }
                    weights = UnsafePointer(scratch)
                }
                GEMM.product(m: m, n: dh, k: m, weights, lda: m, q + 2 * d, ldb: 3 * d,
                             w.context + (s * L + start) * d + h * dh, ldc: d)
            }
        }
        outputProjection.forward(w.context, rows: rows, parameters: p, into: out, threads: threads)
    }

    /// Given `dOut`: the parameters' gradients (overwritten) and `dA` into
    /// `inputGradient` (overwritten). Uses `buffers.contextGradient` and
    /// `buffers.qkvGradient` as scratch.
    @_specialize(where S == Float)
    func backward<S: LayerScalar>(
        _ a: UnsafePointer<S>, outputGradient dOut: UnsafePointer<S>, sequences: Int, length: Int,
        starts: UnsafePointer<Int>, parameters p: UnsafePointer<S>, buffers w: AttentionBuffers<S>, dropout: Dropout,
        gradient g: UnsafeMutablePointer<S>, inputGradient da: UnsafeMutablePointer<S>, threads: Int
    ) {
        let rows = sequences * length, d = dimension, heads = heads, dh = headWidth, L = length
        let scale: S = scoreScale(), keep: S = dropout.scale()
        outputProjection.backward(w.context, outputGradient: dOut, rows: rows, parameters: p, gradient: g,
                                  inputGradient: w.contextGradient, threads: threads)
        nonisolated(unsafe) let starts = starts
        let pairs = sequences * heads, chunks = LayerChunks.count(pairs)
        forEachChunk(chunks, threads: threads) { chunk in
            let weights = w.scratch + chunk * 2 * L * L, dWeights = weights + L * L
            for pair in chunkRange(chunk, of: chunks, count: pairs) {
                let s = pair / heads, h = pair % heads, start = starts[s], m = L - start
                if h == 0 { (w.qkvGradient + s * L * 3 * d).update(repeating: 0, count: start * 3 * d) }
                guard m > 0 else { continue }
                let probabilities = w.probabilities + pair * L * L, mask = w.mask + pair * L * L
                let q = w.qkv + (s * L + start) * 3 * d + h * dh, dq = w.qkvGradient + (s * L + start) * 3 * d + h * dh
                let dO = w.contextGradient + (s * L + start) * d + h * dh
                for k in 0 ..< m * m { weights[k] = !dropout.isActive ? probabilities[k] : mask[k] != 0 ? probabilities[k] * keep : 0 }
                // dV = P′ᵀ·dO, dP′ = dO·Vᵀ.
                GEMM.product(transposeA: true, m: m, n: dh, k: m, weights, lda: m, dO, ldb: d, dq + 2 * d, ldc: 3 * d)
                GEMM.product(transposeB: true, m: m, n: m, k: dh, dO, lda: d, q + 2 * d, ldb: 3 * d, dWeights, ldc: m)
                // dS = P ⊙ (dP − ⟨P, dP⟩_row)/√d_h on visible entries, 0 on masked ones.
                for i in 0..<m {
                    let pRow = probabilities + i * m, dRow = dWeights + i * m, mRow = mask + i * m
                    var dot: S = 0
                    for j in 0...i {
                        if dropout.isActive { dRow[j] = mRow[j] != 0 ? dRow[j] * keep : 0 }
                        dot += pRow[j] * dRow[j]
                    }
                    for j in 0...i { dRow[j] = pRow[j] * (dRow[j] - dot) * scale }
                    for j in (i + 1)..<m { dRow[j] = 0 }
                }
                // dQ = dS·K, dK = dSᵀ·Q.
                GEMM.product(m: m, n: dh, k: m, dWeights, lda: m, q + d, ldb: 3 * d, dq, ldc: 3 * d)
                GEMM.product(transposeA: true, m: m, n: dh, k: m, dWeights, lda: m, q, ldb: 3 * d, dq + d, ldc: 3 * d)
            }
        }
        inputProjection.backward(a, outputGradient: w.qkvGradient, rows: rows, parameters: p, gradient: g,
                                 inputGradient: da, threads: threads)
    }
}

/// Caller-owned buffers of one attention layer (see `SASRecWorkspace`).
struct AttentionBuffers<S: LayerScalar>: @unchecked Sendable {
    var qkv, qkvGradient, probabilities, context, contextGradient, scratch: UnsafeMutablePointer<S>
    var mask: UnsafeMutablePointer<UInt8>
}
