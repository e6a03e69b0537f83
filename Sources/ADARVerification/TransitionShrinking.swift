import Foundation

/// One input of S4.d's transition claims: `(s_0, s⁻, n, ρ)`. Each claim
/// decides whether a case lies in its domain; a shrunk case outside it does
/// not count as failing, so shrinking stays within the claim's hypotheses.
public struct TransitionCase: Sendable, Equatable {
    public let s0: Double, sNeg: Double, n: Double, rho: Double
    /// Which input of its sweep the case was (0 for a case given by values).
    public let index: Int

    public init(s0: Double, sNeg: Double, n: Double, rho: Double, index: Int = 0) {
        self.s0 = s0
        self.sNeg = sNeg
        self.n = n
        self.rho = rho
        self.index = index
    }

    var values: [Double] { [s0, sNeg, n, rho] }
}

extension TransitionCase: Shrinkable {
    public var shrinkSize: [Int] { [Simplicity.complexity(values)] }

    public var shrinkCandidateGroups: [() -> [TransitionCase]] {
        [{
            Simplicity.vectorCandidates(values, perComponent: true).map {
                TransitionCase(s0: $0[0], sNeg: $0[1], n: $0[2], rho: $0[3], index: index)
            }
        }]
    }

    public var summary: String { "s0 = \(s0), s⁻ = \(sNeg), n = \(n), ρ = \(rho) (input #\(index))" }

    public var swiftExpression: String { "TransitionCase(s0: \(s0), sNeg: \(sNeg), n: \(n), rho: \(rho))" }
}
