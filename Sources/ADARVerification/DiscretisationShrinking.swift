import Foundation
import ADARCore

/// One input of S4.f/D1 on one schedule: a probe of the tie rule `min{t : ᾱ_t ≤ ᾱ*}` fed to the
/// discretiser directly, or a valid-domain row whose `ᾱ*` comes from the reference `a*`. A probe
/// placed on a table entry names the step, not the value, so it stays a tie when the schedule shrinks.
public struct DiscretisationCase: Sendable, Equatable {
    /// Where a probe of the tie rule sits relative to table entry `ᾱ_k`, simplest first.
    public enum TiePosition: String, Sendable, CaseIterable {
        /// `ᾱ* = ᾱ_k`, one ulp below, one ulp above, midway to `ᾱ_{k−1}`.
        case on, below, above, midway
    }

    public enum Input: Sendable, Equatable {
        /// A probe at a given `ᾱ*` (the sweep's 0 and 1).
        case alphaBarStar(Double)
        /// A probe at table entry `step` (`1…T`), in `position`.
        case tie(step: Int, TiePosition)
        /// A row `(s_0, s⁻, n, ρ)`; outside the valid domain (`n > 0, s_0 > 0, s_0 > s⁻`, `ρ ∈ (0, 1)`) D1 skips it.
        case row(s0: Double, sNeg: Double, n: Double, rho: Double)
    }

    public let schedule: NoiseSchedule
    public let input: Input
    /// The row was built to cross ρ at a table entry (the statistic counts those apart).
    public let nearTie: Bool
    /// Which input of its sweep the case was (0 for a case given by values).
    public let index: Int

    /// Refuses a tie step outside `1…T`, naming the field `step`.
    public init(schedule: NoiseSchedule, input: Input, nearTie: Bool = false, index: Int = 0) throws(ADARError) {
        if case let .tie(step, _) = input, !(1...schedule.steps).contains(step) {
            throw .indexOutOfRange(row: 0, field: "step", index: step, count: schedule.steps + 1)
        }
        self.schedule = schedule
        self.input = input
        self.nearTie = nearTie
        self.index = index
    }

    /// The `ᾱ*` a probe feeds the discretiser (nil for a row).
    var probe: Double? {
        switch input {
        case let .alphaBarStar(value): value
        case let .tie(k, position):
            switch position {
            case .on: schedule.alphaBar[k]
            case .below: schedule.alphaBar[k].nextDown
            case .above: schedule.alphaBar[k].nextUp
            case .midway: (schedule.alphaBar[k] + schedule.alphaBar[k - 1]) / 2
            }
        case .row: nil
        }
    }

    var label: String { "\(schedule.kind.name) T=\(schedule.steps)" }
}

extension DiscretisationCase: Shrinkable {
    /// `[T, schedule, step, position or values]`.
    public var shrinkSize: [Int] {
        let head = [schedule.steps, EquivalenceCase.scheduleComplexity(schedule)]
        return switch input {
        case let .alphaBarStar(value): head + [0, Simplicity.complexity([value])]
        case let .tie(step, position): head + [step, TiePosition.allCases.firstIndex(of: position)!]
        case let .row(s0, sNeg, n, rho): head + [0, Simplicity.complexity([s0, sNeg, n, rho])]
        }
    }

    public var shrinkCandidateGroups: [() -> [DiscretisationCase]] {
        func with(_ schedule: NoiseSchedule, _ input: Input) -> DiscretisationCase? {
            try? DiscretisationCase(schedule: schedule, input: input, nearTie: nearTie, index: index)
        }
        return [
            {
                // A shorter schedule keeps a tie probe on its step, clamped to the new T.
                EquivalenceCase.simplerSchedules(schedule).compactMap { shorter in
                    guard case let .tie(step, position) = input else { return with(shorter, input) }
                    return with(shorter, .tie(step: min(step, shorter.steps), position))
                }
            },
            {
                switch input {
                case let .alphaBarStar(value):
                    Simplicity.vectorCandidates([value], perComponent: false).compactMap { with(schedule, .alphaBarStar($0[0])) }
                case let .tie(step, position):
                    smallerCounts(step).compactMap { with(schedule, .tie(step: $0, position)) }
                        + TiePosition.allCases.prefix { $0 != position }.compactMap { with(schedule, .tie(step: step, $0)) }
                case let .row(s0, sNeg, n, rho):
                    Simplicity.vectorCandidates([s0, sNeg, n, rho], perComponent: true).compactMap {
                        with(schedule, .row(s0: $0[0], sNeg: $0[1], n: $0[2], rho: $0[3]))
                    }
                }
            },
        ]
    }

    public var summary: String {
        let text = switch input {
        case let .alphaBarStar(value): "ᾱ* = \(value)"
        case let .tie(k, position): "ᾱ* \(position) ᾱ_\(k) (\(probe!))"
        case let .row(s0, sNeg, n, rho): "row s0 = \(s0), s⁻ = \(sNeg), n = \(n), ρ = \(rho)\(nearTie ? " (built near a tie)" : "")"
        }
        return "schedule \(EquivalenceCase.swiftLiteral(schedule.kind)) T = \(schedule.steps); \(text) (case #\(index))"
    }

    public var swiftExpression: String {
        let input = switch self.input {
        case let .alphaBarStar(value): ".alphaBarStar(\(SwiftSource.literal(value)))"
        case let .tie(step, position): ".tie(step: \(step), .\(position))"
        case let .row(s0, sNeg, n, rho): ".row(s0: \(s0), sNeg: \(sNeg), n: \(n), rho: \(rho))"
        }
        return "try DiscretisationCase(schedule: NoiseSchedule(\(EquivalenceCase.swiftLiteral(schedule.kind)), steps: \(schedule.steps)), "
            + "input: \(input)\(nearTie ? ", nearTie: true" : ""))"
    }
}
