import Foundation
import ADARCore

/// One schedule of S1's random sweep: a family with its parameters and `T`. Each claim decides
/// whether a schedule lies in its domain (S1/R1: every schedule, refused when its exact β leave
/// `(0, 1)`; the others: exact β certainly in `(0, 1)`, and S1.b/C1, S1.c/V1 their own family).
public struct ScheduleCase: Sendable {
    public let kind: ScheduleKind
    public let steps: Int
    /// Which schedule of its sweep this was (0 for one given by values).
    public let index: Int

    public init(kind: ScheduleKind, steps: Int, index: Int = 0) {
        self.kind = kind
        self.steps = steps
        self.index = index
    }

    var name: String { describe(kind, steps: steps) }

    /// The parameter ranges the sweep draws from (`ScheduleChecks.randomCases` and the fixed
    /// cosine and linear-variance settings), each with a relative slack of 1e-12 for rounding:
    /// the claims' domain, so that a shrunk schedule never trades the bug for parameters S1
    /// refuses (S1/E1's subject) or a β too small to move ᾱ.
    var inDrawnDomain: Bool {
        func within(_ x: Double, _ low: Double, _ high: Double) -> Bool { x >= low * (1 - 1e-12) && x <= high * (1 + 1e-12) }
        guard steps >= 1 else { return false }
        switch kind {
        case let .linear(start, end), let .scaledLinear(start, end):
            return within(start, 1e-6, 1e-2) && end >= start && within(end, start, 0.9)
        case .ddpmLinear:
            return true
        case let .cosine(s, maxBeta):
            return within(s, 0, 0.1) && within(maxBeta, 0.5, 0.999)
        case let .linearVariance(scale, low, high, maxBeta):
            return within(scale, 0.05, 1) && within(scale * low, 1e-5, 1e-2) && high > low && scale * high <= 0.99 * (1 + 1e-12)
                && within(maxBeta, 0.5, 0.999)
        case let .custom(betas):
            return betas.count == steps && betas.allSatisfy { within($0, 1e-12, 0.9) }
        }
    }

    /// The family's parameters, in the order of its `ScheduleKind` case.
    var parameters: [Double] {
        switch kind {
        case let .linear(start, end), let .scaledLinear(start, end): [start, end]
        case .ddpmLinear: []
        case let .cosine(s, maxBeta): [s, maxBeta]
        case let .linearVariance(scale, low, high, maxBeta): [scale, low, high, maxBeta]
        case let .custom(betas): betas
        }
    }

    /// The same family with `values` as its parameters.
    func withParameters(_ values: [Double]) -> ScheduleCase {
        let kind: ScheduleKind = switch self.kind {
        case .linear: .linear(start: values[0], end: values[1])
        case .scaledLinear: .scaledLinear(start: values[0], end: values[1])
        case .ddpmLinear: .ddpmLinear
        case .cosine: .cosine(s: values[0], maxBeta: values[1])
        case .linearVariance: .linearVariance(scale: values[0], min: values[1], max: values[2], maxBeta: values[3])
        case .custom: .custom(betas: values)
        }
        return ScheduleCase(kind: kind, steps: steps, index: index)
    }
}

extension ScheduleCase: Shrinkable {
    public var shrinkSize: [Int] { [steps, Simplicity.complexity(parameters)] }

    public var shrinkCandidateGroups: [() -> [ScheduleCase]] {
        [
            // Fewer steps (custom: a prefix of its β).
            {
                smallerCounts(steps).map { count in
                    if case let .custom(betas) = kind { return ScheduleCase(kind: .custom(betas: Array(betas.prefix(count))), steps: count, index: index) }
                    return ScheduleCase(kind: kind, steps: count, index: index)
                }
            },
            { Simplicity.vectorCandidates(parameters, perComponent: parameters.count <= Simplicity.perComponentLimit).map(withParameters) },
        ]
    }

    public var summary: String { "\(EquivalenceCase.swiftLiteral(kind)) T = \(steps) (schedule #\(index))" }

    public var swiftExpression: String { "ScheduleCase(kind: \(EquivalenceCase.swiftLiteral(kind)), steps: \(steps))" }
}
