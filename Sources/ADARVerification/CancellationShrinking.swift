import Foundation
import ADARCore

/// One cancelling input of S4.e/C1 and C2: `s_0`, `ρ`, `n` and the depth `ε` of the cancellation,
/// with `s⁻ = −z·n·(1 + ε)` when `z < 0` and `−z·n·(1 − ε)` when `z > 0` (`z = Φ⁻¹(ρ)` by
/// `StandardNormal.quantile`, the `z` the claims use), so that `s_0·s⁻` and `z·n·R` nearly cancel
/// in S4.d's direct formula. `s⁻` follows from the others, so a shrunk case stays cancelling.
public struct CancellationCase: Sendable, Equatable {
    public let s0: Double, rho: Double, n: Double
    /// How far `s⁻` lies from `−z·n`, relative to `|z·n|`.
    public let epsilon: Double
    /// `Φ⁻¹(ρ)` and `s⁻`, derived from the fields above.
    public let z: Double, sNeg: Double
    /// Which input of its sweep the case was (0 for a case given by values).
    public let index: Int

    public init(s0: Double, rho: Double, n: Double, epsilon: Double, index: Int = 0) {
        self.s0 = s0
        self.rho = rho
        self.n = n
        self.epsilon = epsilon
        self.index = index
        z = StandardNormal.quantile(rho)
        let zn = z * n
        sNeg = z < 0 ? -zn * (1 + epsilon) : -zn * (1 - epsilon)
    }

    var values: [Double] { [s0, rho, n, epsilon] }

    /// The domain of S4.e/C1 and C2, as their sweeps draw it (Proofs S4.e/C1), with a relative slack
    /// of 1e-3 for the rounding of the draw: `s_0 ∈ [10⁻², 10²]`, `min(ρ, 1 − ρ) ∈ [10⁻⁶, 0.45]`,
    /// `ε ∈ [10⁻¹³, 10⁻⁸]` (a cancellation of at least 8 digits in `s⁻ + z·n`), `0 < n` with
    /// `|s⁻| < s_0` (the valid domain, and every term of S4.d's radicand ≥ 0) and, when `z·n` must be
    /// exact (C2, and C1 as registered), `n` a power of two.
    func isCancelling(exactProduct: Bool) -> Bool {
        func within(_ x: Double, _ low: Double, _ high: Double) -> Bool { x >= low * 0.999 && x <= high * 1.001 }
        return within(s0, 1e-2, 1e2) && within(min(rho, 1 - rho), 1e-6, 0.45) && within(epsilon, 1e-13, 1e-8)
            && n > 0 && n.isFinite && abs(sNeg) < s0 && (!exactProduct || (n.isNormal && n.significandBitPattern == 0))
    }
}

extension CancellationCase: Shrinkable {
    public var shrinkSize: [Int] { [Simplicity.complexity(values)] }

    public var shrinkCandidateGroups: [() -> [CancellationCase]] {
        [{
            Simplicity.vectorCandidates(values, perComponent: true).map {
                CancellationCase(s0: $0[0], rho: $0[1], n: $0[2], epsilon: $0[3], index: index)
            }
        }]
    }

    public var summary: String {
        "s0 = \(s0), ρ = \(rho), n = \(n), ε = \(epsilon): z = \(z), s⁻ = \(sNeg) (input #\(index))"
    }

    public var swiftExpression: String { "CancellationCase(s0: \(s0), rho: \(rho), n: \(n), epsilon: \(epsilon))" }
}
