import Foundation
import ADARCore

/// One input of S4.b's claims: `(s_0, s⁻, n)`, with the amplitude `a` of
/// S4.b/D1 and the schedule of S4.b/M1. Each claim decides whether a case
/// lies in its domain (the one its sweep draws from); a shrunk case outside
/// it does not count as failing, so shrinking stays within the claim's hypotheses.
public struct RetentionCase: Sendable {
    public let s0: Double, sNeg: Double, n: Double
    /// The amplitude at which S4.b/D1 compares `g'` (0 for the other claims).
    public let a: Double
    /// The schedule S4.b/M1 walks (nil for the other claims).
    public let schedule: NoiseSchedule?
    /// Which input of its sweep the case was (0 for a case given by values).
    public let index: Int

    public init(s0: Double, sNeg: Double, n: Double, a: Double = 0, schedule: NoiseSchedule? = nil, index: Int = 0) {
        self.s0 = s0
        self.sNeg = sNeg
        self.n = n
        self.a = a
        self.schedule = schedule
        self.index = index
    }

    var values: [Double] { [s0, sNeg, n, a] }

    /// The valid domain as S4.b/D1 and M1 draw it: `s_0, n ∈ [1e-3, 1e3]`,
    /// `s⁻ ∈ [−3·s_0, 0.999·s_0]` (with a relative slack of 1e-12 for `exp∘log`'s rounding).
    var inDrawnValidDomain: Bool {
        let decades = (1e-3 * (1 - 1e-12))...(1e3 * (1 + 1e-12))
        return decades.contains(s0) && decades.contains(n) && sNeg >= -3 * s0 && sNeg <= 0.999 * s0
    }
}

extension RetentionCase: Shrinkable {
    public var shrinkSize: [Int] {
        [schedule?.steps ?? 0, schedule.map(EquivalenceCase.scheduleComplexity) ?? 0, Simplicity.complexity(values)]
    }

    public var shrinkCandidateGroups: [() -> [RetentionCase]] {
        [
            {
                guard let schedule else { return [] }
                return EquivalenceCase.simplerSchedules(schedule).map {
                    RetentionCase(s0: s0, sNeg: sNeg, n: n, a: a, schedule: $0, index: index)
                }
            },
            {
                Simplicity.vectorCandidates(values, perComponent: true).map {
                    RetentionCase(s0: $0[0], sNeg: $0[1], n: $0[2], a: $0[3], schedule: schedule, index: index)
                }
            },
        ]
    }

    public var summary: String {
        var text = "s0 = \(s0), s⁻ = \(sNeg), n = \(n)"
        if a != 0 { text += ", a = \(a)" }
        if let schedule { text += "; schedule \(EquivalenceCase.swiftLiteral(schedule.kind)) T = \(schedule.steps)" }
        return text + " (input #\(index))"
    }

    public var swiftExpression: String {
        var arguments = "s0: \(s0), sNeg: \(sNeg), n: \(n)"
        if a != 0 { arguments += ", a: \(a)" }
        if let schedule { arguments += ", schedule: NoiseSchedule(\(EquivalenceCase.swiftLiteral(schedule.kind)), steps: \(schedule.steps))" }
        return (schedule == nil ? "" : "try ") + "RetentionCase(\(arguments))"
    }
}
