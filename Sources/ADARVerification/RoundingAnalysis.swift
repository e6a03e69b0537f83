// Running error analysis shared by the checks: the binary64 rounding model
// (Higham, Accuracy and Stability of Numerical Algorithms, ch. 3) and a
// compensated dot product to serve as the accurate value.

/// `u = 2⁻⁵³`, the unit roundoff of binary64.
let unitRoundoff = 0x1p-53
/// `u/(1 − u)`: the rounding error of one operation relative to its *computed* result.
let roundingPerResult = unitRoundoff / (1 - unitRoundoff)

/// `γ_k = k·u/(1 − k·u)` (Higham, Accuracy and Stability, §3.1): recursive
/// summation of k products errs by at most `γ_k·Σ|terms|`.
func gamma(_ k: Int) -> Double { Double(k) * unitRoundoff / (1 - Double(k) * unitRoundoff) }

/// A binary64 value with a bound on its absolute error from the exact value,
/// carried through each operation (running error analysis, Higham §3.3).
/// `value` is exactly what binary64 computes, so replaying a formula here
/// yields the formula's own result and a bound on its error.
struct Bounded {
    var value: Double, bound: Double

    init(_ value: Double, bound: Double = 0) {
        self.value = value
        self.bound = bound
    }

    static func + (l: Bounded, r: Bounded) -> Bounded {
        let v = l.value + r.value
        return Bounded(v, bound: l.bound + r.bound + roundingPerResult * abs(v))
    }

    static func - (l: Bounded, r: Bounded) -> Bounded {
        let v = l.value - r.value
        return Bounded(v, bound: l.bound + r.bound + roundingPerResult * abs(v))
    }

    static func * (l: Bounded, r: Bounded) -> Bounded {
        let v = l.value * r.value
        return Bounded(v, bound: abs(l.value) * r.bound + abs(r.value) * l.bound + l.bound * r.bound + roundingPerResult * abs(v))
    }

    /// `|l/r − l̂/r̂| ≤ (e_l + |l̂/r̂|·e_r)/(|r̂| − e_r)`.
    static func / (l: Bounded, r: Bounded) -> Bounded {
        let v = l.value / r.value, margin = abs(r.value) - r.bound
        guard margin > 0 else { return Bounded(v, bound: .infinity) }
        return Bounded(v, bound: (l.bound + abs(v) * r.bound) / margin + roundingPerResult * abs(v))
    }

    /// `|√x − √x̂| = |x − x̂|/(√x + √x̂) ≤ e/(√x̂ + √max(x̂ − e, 0))`.
    func squareRoot() -> Bounded {
        let v = value.squareRoot(), denominator = v + max(value - bound, 0).squareRoot()
        let propagated = bound == 0 ? 0 : denominator > 0 ? bound / denominator : bound.squareRoot()
        return Bounded(v, bound: propagated + roundingPerResult * v)
    }
}

/// `⟨a, b⟩` by the compensated dot product Dot2 (Ogita, Rump & Oishi 2005):
/// error ≤ u·|⟨a, b⟩| + γ_d²·Σ|a_k b_k|, i.e. as if computed in twice the precision.
func compensatedDot(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0, compensation = 0.0
    for (x, y) in zip(a, b) {
        // TwoProduct by a fused multiply-add, then TwoSum: both errors are exact.
        let product = x * y, productError = (-product).addingProduct(x, y)
        let next = sum + product
        let virtualProduct = next - sum
        let sumError = (sum - (next - virtualProduct)) + (product - virtualProduct)
        sum = next
        compensation += productError + sumError
    }
    return sum + compensation
}

/// `Σ|a_k b_k|`, the scale of a dot product's rounding error.
func absoluteDot(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { $0 + abs($1.0 * $1.1) } * (1 + gamma(a.count))
}
