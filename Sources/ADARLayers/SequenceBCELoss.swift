import ADARCore

/// S10's backbone loss, the binary cross-entropy of Kang & McAuley (2018):
/// over the training rows (positive item `≠ 0`),
/// `L = (1/N)·Σ [softplus(−⟨h_p, e_pos⟩) + softplus(⟨h_p, e_neg⟩)] + l2·‖E‖²`,
/// `softplus(x) = max(x, 0) + log1p(e^{−|x|})` (S7), `E` the item table the
/// input shares (unscaled here). `l2·‖E‖²` over the whole table, not halved,
/// is SASRec.pytorch's `l2_emb` term (default 0).
///
/// Gradient: `∂/∂h_p = (−σ(−s_pos)·e_pos + σ(s_neg)·e_neg)/N`,
/// `∂/∂e_pos += −σ(−s_pos)·h_p/N`, `∂/∂e_neg += σ(s_neg)·h_p/N`, `∂/∂E += 2·l2·E`.
public enum SequenceBCELoss {
    /// The loss at the last forward's `h` (`workspace.hidden`); `∂L/∂h` into
    /// `workspace.hiddenGradient` (zero on rows that are not training rows)
    /// and the item table's gradient into `gradient` (overwritten: first
    /// `2·l2·E`, then the rows' terms in row order, positive then negative).
    /// `positives[r] = 0` marks row `r` as no training row; `negatives[r]`
    /// must then be 0 too, and otherwise an item. Returns the loss and `N`
    /// (the loss is 0 when `N = 0`).
    @_specialize(exported: true, where S == Float)
    public static func lossAndGradient<S: LayerScalar>(
        encoder: SASRecEncoder<S>, workspace w: SASRecWorkspace<S>, sequences: Int, positives: [Int32], negatives: [Int32],
        l2: Double = 0, gradient: inout [S]
    ) throws(ADARError) -> (loss: S, rows: Int) {
        let c = encoder.configuration, d = c.dimension, rows = sequences * c.length, table = encoder.layout.embedding.itemTable
        guard sequences >= 1, sequences <= w.capacity else {
            throw .invalidConfiguration(field: "sequences", reason: "must be in 1…\(w.capacity) (the workspace's capacity), got \(sequences)")
        }
        guard gradient.count == encoder.layout.count else {
            throw .shapeMismatch(field: "gradient", expected: encoder.layout.count, actual: gradient.count)
        }
        for (field, ids) in [("positives", positives), ("negatives", negatives)] {
            guard ids.count == rows else { throw .shapeMismatch(field: field, expected: rows, actual: ids.count) }
            if let r = ids.firstIndex(where: { $0 < 0 || Int($0) > c.items }) {
                throw .indexOutOfRange(row: r, field: field, index: Int(ids[r]), count: c.items + 1)
            }
        }
        if let r = (0..<rows).first(where: { (positives[$0] == 0) != (negatives[$0] == 0) }) {
            throw .invalidConfiguration(field: "negatives", reason: "row \(r): a training row (positive ≠ 0) needs a negative item ≠ 0, and a padding row none")
        }
        guard l2.isFinite, l2 >= 0 else { throw .invalidConfiguration(field: "l2", reason: "must be finite and ≥ 0, got \(l2)") }
        let count = positives.lazy.filter { $0 != 0 }.count
        let flipped = LayerMutation.active == .negativeTermSignFlipped
        var total: S = 0
        encoder.parameters.withUnsafeBufferPointer { pb in
            gradient.withUnsafeMutableBufferPointer { gb in
                let p = pb.baseAddress!, g = gb.baseAddress!, e = p + table, dE = g + table
                let twiceL2 = S(2 * l2)
                var squares: S = 0
                for k in 0 ..< (c.items + 1) * d {
                    dE[k] = twiceL2 * e[k]
                    squares += e[k] * e[k]
                }
                let inverseCount: S = count > 0 ? 1 / S(count) : 0
                for r in 0..<rows {
                    let h = w.hidden + r * d, dh = w.hiddenGradient + r * d
                    guard positives[r] != 0 else {
                        dh.update(repeating: 0, count: d)
                        continue
                    }
                    let pos = e + Int(positives[r]) * d, neg = e + Int(negatives[r]) * d
                    var sPos: S = 0, sNeg: S = 0
                    for k in 0..<d {
                        sPos += h[k] * pos[k]
                        sNeg += h[k] * neg[k]
                    }
                    total += softplus(-sPos) + softplus(flipped ? -sNeg : sNeg)
                    let cPos = -logistic(-sPos) * inverseCount, cNeg = logistic(sNeg) * inverseCount
                    let dPos = dE + Int(positives[r]) * d, dNeg = dE + Int(negatives[r]) * d
                    for k in 0..<d {
                        dh[k] = cPos * pos[k] + cNeg * neg[k]
                        dPos[k] += cPos * h[k]
                    }
                    for k in 0..<d { dNeg[k] += cNeg * h[k] }
                }
                total = total * inverseCount + S(l2) * squares
            }
        }
        return (total, count)
    }
}

/// `softplus(x) = max(x, 0) + log1p(e^{−|x|})` (S7; never the naive form).
@inline(__always)
@_specialize(where S == Float)
func softplus<S: LayerScalar>(_ x: S) -> S { Swift.max(x, 0) + S.logOnePlus(S.exponential(-abs(x))) }

/// `1/(1 + e^{−x})` without overflow.
@inline(__always)
@_specialize(where S == Float)
func logistic<S: LayerScalar>(_ x: S) -> S {
    x >= 0 ? 1 / (1 + S.exponential(-x)) : S.exponential(x) / (1 + S.exponential(x))
}
