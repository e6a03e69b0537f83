import ADARCore

/// One batch's synthetic negatives for S10's ADAR term, per row of the batch
/// (`rows = sequences·L`): what the synthesis (S5, S6, S9) decided, frozen.
public struct SyntheticNegatives<S: LayerScalar>: Sendable {
    /// `x⁻`, `rows × d`.
    public var negatives: [S]
    /// `w` of the row's term; 0 where there is none (padding rows, `skip`ped fallback rows).
    public var weights: [S]
    /// Under `through`, the item whose table row `x⁻` depends on (the positive on
    /// `forward` rows, the hardest candidate on `hardest` fallback rows) and
    /// `∂x⁻/∂e_item` (`√ᾱ_t`, or 1); item 0 (and any scale) under `detach`.
    public var throughItems: [Int32]
    public var throughScales: [S]

    public init(negatives: [S], weights: [S], throughItems: [Int32], throughScales: [S]) {
        self.negatives = negatives
        self.weights = weights
        self.throughItems = throughItems
        self.throughScales = throughScales
    }
}

/// S10's ADAR term on the backbone's `h_p`: `(1/N)·Σ_rows w·softplus(⟨h_p, x⁻⟩)`,
/// `N` the batch's training rows (skipped fallback rows count, with a zero term).
/// Gradient: `∂/∂h_p = w·σ(⟨h_p, x⁻⟩)·x⁻/N`; under `through`
/// `∂/∂e_item += w·σ(⟨h_p, x⁻⟩)·scale·h_p/N`. `x⁻` itself is a constant here
/// (ε and `t` are; S7), so the term is differentiable as written.
public enum SequenceADARTerm {
    /// Adds the term's gradient to `workspace.hiddenGradient` (which the backbone
    /// loss has written) and the item table's part of `gradient`; returns the
    /// term's value (already divided by `trainingRows`). Call after
    /// `SequenceBCELoss.lossAndGradient` and before `SASRecEncoder.backward`.
    @_specialize(exported: true, where S == Float)
    public static func addLossAndGradient<S: LayerScalar>(
        encoder: SASRecEncoder<S>, workspace w: SASRecWorkspace<S>, sequences: Int, trainingRows: Int,
        synthetic: SyntheticNegatives<S>, gradient: inout [S]
    ) throws(ADARError) -> S {
        let c = encoder.configuration, d = c.dimension, rows = sequences * c.length, table = encoder.layout.embedding.itemTable
        guard gradient.count == encoder.layout.count else {
            throw .shapeMismatch(field: "gradient", expected: encoder.layout.count, actual: gradient.count)
        }
        for (field, count, width) in [("negatives", synthetic.negatives.count, d), ("weights", synthetic.weights.count, 1),
                                      ("throughItems", synthetic.throughItems.count, 1),
                                      ("throughScales", synthetic.throughScales.count, 1)] where count != rows * width {
            throw .shapeMismatch(field: field, expected: rows * width, actual: count)
        }
        if let r = synthetic.throughItems.firstIndex(where: { $0 < 0 || Int($0) > c.items }) {
            throw .indexOutOfRange(row: r, field: "throughItems", index: Int(synthetic.throughItems[r]), count: c.items + 1)
        }
        guard trainingRows > 0 else { return 0 }
        let inverseCount = 1 / S(trainingRows)
        var total: S = 0
        gradient.withUnsafeMutableBufferPointer { gb in
            synthetic.negatives.withUnsafeBufferPointer { xb in
                let dE = gb.baseAddress! + table
                for r in 0..<rows where synthetic.weights[r] != 0 {
                    let h = w.hidden + r * d, dh = w.hiddenGradient + r * d, x = xb.baseAddress! + r * d
                    var score: S = 0
                    for k in 0..<d { score += h[k] * x[k] }
                    total += synthetic.weights[r] * softplus(score)
                    let coefficient = synthetic.weights[r] * logistic(score) * inverseCount
                    for k in 0..<d { dh[k] += coefficient * x[k] }
                    let item = Int(synthetic.throughItems[r])
                    if item != 0 {
                        let scaled = coefficient * synthetic.throughScales[r], de = dE + item * d
                        for k in 0..<d { de[k] += scaled * h[k] }
                    }
                }
            }
        }
        return total * inverseCount
    }
}
