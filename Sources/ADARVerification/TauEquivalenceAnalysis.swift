import Foundation
import ADARReference

/// Running error analysis of τ's binary32 passes (Proofs/S9-binary32-tau.md):
/// every binary32 operation of `TauKernels32` and `TauNetwork32` mirrored
/// by an `Enclosure` operation, so each intermediate carries the binary64
/// value and a bound on the binary32 value's distance from it.
enum TauEquivalenceAnalysis {
    /// Below this, `SiLU(x)` and `SiLU′(x)` are within `tailBound` of 0 on
    /// both sides (S9/E1 "tails"): `|x|e^x ≤ 81·e^{−80} < 2⁻¹⁰⁸`.
    static let tailStart = -80.0
    static let tailBound = 0x1p-107

    /// binary32 `expf`'s relative error: `libmULPs` ulps, one ulp `≤ 2u`.
    static var expError: Double { Binary32Model.libmULPs * 2 * Binary32Model.unitRoundoff }

    /// `out[n] = ⟨w[n], x⟩ + b[n]` by `TauKernels32.linear`: `k` products
    /// and the bias summed in a fixed order, i.e. `k + 1` terms through at
    /// most `k + 1` roundings each (Higham Thm 3.1), with `w`, `b` exact
    /// binary32 parameters and `x` enclosed:
    /// `|ô − o| ≤ Σ|w|r_x + γ_{k+1}(Σ|w|(|x| + r_x) + |b|) + (#tiny products)·η`.
    static func linear(_ p: [Float], weights: Int, bias: Int, outputs: Int, inputs k: Int, _ x: [Enclosure]) -> [Enclosure] {
        let gamma = Binary32Model.gamma(k + 1), tiny = Double(Float.leastNormalMagnitude)
        return (0..<outputs).map { n in
            let b = Double(p[bias + n])
            var value = b, propagated = 0.0, magnitude = abs(b), underflowing = 0
            for i in 0..<k {
                let w = Double(p[weights + n * k + i]), xi = x[i]
                value += w * xi.value
                propagated += abs(w) * xi.radius
                let size = abs(w) * (abs(xi.value) + xi.radius)
                magnitude += size
                if w != 0 && !xi.isExactZero && size < tiny { underflowing += 1 }
            }
            guard propagated.isFinite, magnitude * (1 + gamma) < Binary32Model.largest else { return Enclosure(value, radius: .infinity) }
            return Enclosure(value, radius: propagated + gamma * magnitude + Double(underflowing) * Binary32Model.underflowError)
        }
    }

    /// `e^{−x}` by binary32 `expf`: Lipschitz `e^{−x_lo}` on the enclosure.
    static func negativeExp(_ x: Enclosure) -> Enclosure {
        (-x).mapped(Foundation.exp, lipschitz: Foundation.exp(-x.lower), relativeError: expError)
    }

    /// `SiLU(x) = x/(1 + e^{−x})`, the operations of `TauKernels32.silu`.
    static func silu(_ x: Enclosure) -> Enclosure {
        if x.upper < tailStart { return Enclosure(x.value / (1 + Foundation.exp(-x.value)), radius: tailBound) }
        return x / (.exact(1) + negativeExp(x))
    }

    /// `SiLU′(x) = s·(1 + x·(1 − s))`, `s = 1/(1 + e^{−x})`, the operations
    /// of `TauKernels32.siluDerivative`.
    static func siluDerivative(_ x: Enclosure) -> Enclosure {
        if x.upper < tailStart {
            let s = 1 / (1 + Foundation.exp(-x.value))
            return Enclosure(s * (1 + x.value * (1 - s)), radius: tailBound)
        }
        let s = .exact(1) / (.exact(1) + negativeExp(x))
        return s * (.exact(1) + x * (.exact(1) - s))
    }

    /// τ's forward for one row: `pre` (`4d`), `H` (`4d`), `ε̂` (`d`).
    static func forward(_ p: [Float], dimension d: Int, input v: [Enclosure]) -> (pre: [Enclosure], hidden: [Enclosure], output: [Enclosure]) {
        let w1 = 0, b1 = 12 * d * d, w2 = b1 + 4 * d, b2 = w2 + 4 * d * d
        let pre = linear(p, weights: w1, bias: b1, outputs: 4 * d, inputs: 3 * d, v)
        let hidden = pre.map(silu)
        let output = linear(p, weights: w2, bias: b2, outputs: d, inputs: 4 * d, hidden)
        return (pre, hidden, output)
    }

    /// `Σ_b x_b·y_b` in binary32 in a fixed order: products rounded, then summed.
    static func sumOfProducts(_ x: [Enclosure], _ y: [Enclosure]) -> Enclosure {
        Enclosure.sum(zip(x, y).map { $0 * $1 })
    }

    /// S9's batch loss and gradient (`W₁ | b₁ | W₂ | b₂`) by the operations of
    /// `TauNetwork32.lossAndGradient`, for rows `v_b` (`3d`) and targets `ε′_b`, both enclosed.
    static func lossAndGradient(_ p: [Float], dimension d: Int, inputs: [[Enclosure]], targets: [[Enclosure]]) -> (loss: Enclosure, gradient: [Enclosure]) {
        let rows = inputs.count
        let passes = inputs.map { forward(p, dimension: d, input: $0) }
        let residuals = (0..<rows).map { b in (0..<d).map { k in passes[b].output[k] - targets[b][k] } }
        let rowSums = residuals.map { r in Enclosure.sum(r.map { $0 * $0 }) }
        // d·B is exact in binary32 for every case drawn (< 2²⁴).
        let loss = Enclosure.sum(rowSums) / .exact(Double(d * rows))
        let scale = Enclosure.rounded(2 / (Double(d) * Double(rows)))
        let outputGradient = residuals.map { $0.map { $0 * scale } }
        let w2 = 12 * d * d + 4 * d
        let preGradient = (0..<rows).map { b in
            (0 ..< 4 * d).map { j in
                let hiddenGradient = Enclosure.sum((0..<d).map { k in outputGradient[b][k] * .exact(Double(p[w2 + k * 4 * d + j])) })
                return hiddenGradient * siluDerivative(passes[b].pre[j])
            }
        }
        var gradient = [Enclosure]()
        gradient.reserveCapacity(16 * d * d + 5 * d)
        for j in 0 ..< 4 * d {
            let coefficients = preGradient.map { $0[j] }
            for i in 0 ..< 3 * d { gradient.append(sumOfProducts(coefficients, inputs.map { $0[i] })) }
        }
        for j in 0 ..< 4 * d { gradient.append(Enclosure.sum(preGradient.map { $0[j] })) }
        for k in 0..<d {
            let coefficients = outputGradient.map { $0[k] }
            for j in 0 ..< 4 * d { gradient.append(sumOfProducts(coefficients, passes.map { $0.hidden[j] })) }
        }
        for k in 0..<d { gradient.append(Enclosure.sum(outputGradient.map { $0[k] })) }
        return (loss, gradient)
    }
}

/// One Adam step of S9 in binary32 as `TauTrainer32.adamStep` computes it,
/// per entry (Proofs/S9-binary32-tau.md, S9/E5): `m′ = β₁m + (1 − β₁)g`,
/// `v′ = β₂v + (1 − β₂)g²` by the enclosure rules (binary32 constants: `β`
/// rounded once, `1 − β` formed in binary32); the step `u = m̂/(√v̂ + ε)` as the
/// range of the exact function `u(g)` over the gradient's enclosure — `m̂` and
/// `√v̂` move together with `g`, which separate enclosures of numerator and
/// denominator would lose — widened by `2⁻¹⁶` relative for binary32's
/// roundings and constants, and never beyond `|u| + U·(1 + 2⁻¹⁶)` (`Step.largest`: the
/// largest step any binary32 evaluation can take from `m`, `v`, whatever the gradient).
struct AdamStepEnclosure {
    var parameter: Enclosure, firstMoment: Enclosure, secondMoment: Enclosure
    /// `u(g)` takes both signs on the gradient's enclosure: binary32 may step either way.
    var directionUndetermined: Bool

    /// The coefficients of `u(x) = (A + Bx)/(√(C + Dx²) + ε)`, the step at gradient `x`:
    /// `A = c₁β₁m`, `B = c₁(1 − β₁)`, `C = c₂β₂v`, `D = c₂(1 − β₂)`, `c = 1/(1 − βˢ)`.
    struct Step {
        let a, b, c, d: Double
        init(firstMoment m: Double, secondMoment v: Double, step s: Int) {
            let beta1 = TauTrainer.beta1, beta2 = TauTrainer.beta2
            let c1 = 1 / (1 - pow(beta1, Double(s))), c2 = 1 / (1 - pow(beta2, Double(s)))
            (a, b, c, d) = (c1 * beta1 * m, c1 * (1 - beta1), c2 * beta2 * v, c2 * (1 - beta2))
        }
        func callAsFunction(_ x: Double) -> Double { (a + b * x) / ((c + d * x * x).squareRoot() + TauTrainer.adamEpsilon) }

        /// `sup_x |u(x)|`: for `C > 0`, `(|A| + B|x|)/√(C + Dx²) ≤ √(A²/C + B²/D)` (Cauchy–Schwarz);
        /// for `C = 0` a ratio of linear functions of `|x|`, largest at an end.
        var largest: Double {
            c > 0 ? (a * a / c + b * b / d).squareRoot() : max(abs(a) / TauTrainer.adamEpsilon, b / d.squareRoot())
        }

        /// `[min u, max u]` on `[lower, upper]`: `u` at the ends, at 0 (where `√(C + Dx²)` has a
        /// kink when `C = 0`) and at its stationary points, the roots of
        /// `(A²D² − B²ε²D)x² − 2ABCD·x + B²C(C − ε²) = 0` (from `u′ = 0` squared; extra roots only widen).
        func range(_ lower: Double, _ upper: Double) -> (Double, Double) {
            let e = TauTrainer.adamEpsilon
            var points = [lower, upper] + (lower < 0 && upper > 0 ? [0] : [])
            let q2 = a * a * d * d - b * b * e * e * d, q1 = -2 * a * b * c * d, q0 = b * b * c * (c - e * e)
            if q2 != 0 {
                let discriminant = q1 * q1 - 4 * q2 * q0
                if discriminant >= 0 {
                    let root = discriminant.squareRoot()
                    points += [(-q1 + root) / (2 * q2), (-q1 - root) / (2 * q2)].filter { $0 > lower && $0 < upper }
                }
            } else if q1 != 0 {
                points += [-q0 / q1].filter { $0 > lower && $0 < upper }
            }
            let values = points.map { self($0) }
            return (values.min()!, values.max()!)
        }
    }

    init(parameter theta: Float, firstMoment m: Float, secondMoment v: Float, gradient g: Enclosure, step s: Int, learningRate lr: Float) {
        let beta1 = Enclosure.rounded(TauTrainer.beta1), beta2 = Enclosure.rounded(TauTrainer.beta2)
        firstMoment = beta1 * .exact(Double(m)) + (.exact(1) - beta1) * g
        secondMoment = beta2 * .exact(Double(v)) + (.exact(1) - beta2) * (g * g)
        let u = Step(firstMoment: Double(m), secondMoment: Double(v), step: s)
        // 2⁻¹⁶: binary32's constants (1 − β₂ is 1.3·10⁻⁵ off) and roundings (Proofs, S9/E5).
        let value = u(g.value), largest = u.largest * (1 + 0x1p-16)
        var radius = abs(value) + largest
        if g.isBounded {
            let (low, high) = u.range(g.lower, g.upper)
            radius = min(radius, max(high - value, value - low) + 0x1p-16 * max(abs(low), abs(high)) + Binary32Model.underflowError)
            directionUndetermined = low < 0 && high > 0
        } else {
            directionUndetermined = true
        }
        // lr·u: one more rounding; θ − lr·u: the subtraction's, by the enclosure rule.
        let step = Enclosure(Double(lr) * value, radius: Double(lr) * radius * (1 + Binary32Model.unitRoundoff)
                             + Binary32Model.unitRoundoff * Double(lr) * abs(value) + Binary32Model.underflowError)
        parameter = .exact(Double(theta)) - step
    }
}
