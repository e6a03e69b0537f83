import ADAR
import ADARCore

/// MixGCF (Huang et al., KDD 2021): a synthesised hard negative for each row.
///
/// With `L` propagation layers (LightGCN; `L = 0` for MF), layer `l`'s
/// embedding of node `x` written `x⁽ˡ⁾`, the row's pooled user embedding `u`
/// (the layer mean, the scored one) and `M` candidates `c_1 … c_M`:
/// - *positive mixing*: `c'_m⁽ˡ⁾ = α_l·i⁽ˡ⁾ + (1 − α_l)·c_m⁽ˡ⁾` with one
///   `α_l ~ U(0, a)` per row and layer, shared by the candidates (the
///   authors' code draws it with shape `[batch, 1, L + 1, 1]` and a = 1; the
///   protocol tunes `a`, `TrainingConfiguration.positiveMixingMax`);
/// - *hop mixing*: in each layer the mixed candidate scoring highest against
///   `u` is kept, `m_l = argmax_m ⟨u, c'_m⁽ˡ⁾⟩` (the first on ties), and the
///   negative is their layer mean `n = (1/(L + 1))·Σ_l c'_{m_l}⁽ˡ⁾`.
///
/// The row's loss is BPR's `softplus(−(⟨u, i⟩ − ⟨u, n⟩))`. The choices `m_l`
/// and the `α_l` are constants of the gradient; `n` is differentiable in the
/// layer embeddings of the positive and of the chosen candidates, so
/// `∂n/∂i⁽ˡ⁾ = α_l/(L + 1)·I` and `∂n/∂c_{m_l}⁽ˡ⁾ = (1 − α_l)/(L + 1)·I`.
/// For MF (`L = 0`) this is positive mixing alone, as the issue asks.
public enum MixGCFRule {
    /// The candidate kept in one layer: `argmax_m ⟨u, α·i + (1 − α)·c_m⟩`, the first on ties.
    /// `candidate(m)` points at candidate `m`'s embedding in this layer.
    public static func choose(
        user: UnsafePointer<Float>, positive: UnsafePointer<Float>, alpha: Float, candidates: Int, dimension d: Int,
        candidate: (Int) -> UnsafePointer<Float>
    ) -> Int {
        var best = 0, bestScore = -Float.infinity
        for m in 0..<candidates {
            let c = candidate(m)
            var score: Float = 0
            for k in 0..<d { score += user[k] * (alpha * positive[k] + (1 - alpha) * c[k]) }
            if m == 0 || score > bestScore { best = m; bestScore = score }
        }
        return best
    }

    /// The row's `α_0 … α_L`, each uniform in `[0, maximum)` (`maximum` in (0, 1]; the paper's 1 by
    /// default): a pure function of the run's seed, the epoch and the row, like the candidates, so
    /// rows can be synthesised in any order.
    public static func alphas(seed: UInt64, epoch: Int, row: UInt64, layers: Int, maximum: Float = 1) -> [Float] {
        var rng = UniformNegatives.generator(seed: seed ^ alphaDomain, epoch: epoch, row: row)
        // The top 24 bits: a binary32 value in [0, 1) exactly, then scaled (exact for maximum = 1).
        return (0...layers).map { _ in Float(rng.next() >> 40) * 0x1p-24 * maximum }
    }

    /// Separates the α stream from the candidates' stream of the same (seed, epoch, row).
    static let alphaDomain: UInt64 = 0x4D69_7847_4346_0001
}
