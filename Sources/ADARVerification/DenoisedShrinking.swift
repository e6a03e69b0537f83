import Foundation
import ADARCore

/// One row of S9/D1: a schedule and timestep `t`, `σ`, and `x_0`, `ε`, `ε̂` (`d` values each). The
/// claim covers rows with `r_t ≤ 10` (S9's `r_max`; beyond it `denoised` falls back to `forward`): a
/// shrunk row with a larger `r_t` counts as passing. The initialiser checks the rest of the domain
/// (`1 ≤ t ≤ T`, `σ > 0` and finite, `d ≥ 1` values each, finite), naming the field.
public struct DenoisedCase: Sendable {
    public let schedule: NoiseSchedule, timestep: Int, sigma: Double
    public let x0: [Double], epsilon: [Double], predicted: [Double]
    /// Which row of its sweep the case was (0 for a case given by values).
    public let index: Int

    public var dimension: Int { x0.count }

    public init(
        schedule: NoiseSchedule, timestep: Int, sigma: Double, x0: [Double], epsilon: [Double], predicted: [Double], index: Int = 0
    ) throws {
        guard (1...schedule.steps).contains(timestep) else {
            throw ADARError.invalidConfiguration(field: "timestep", reason: "t = \(timestep) must be in 1…T = \(schedule.steps)")
        }
        guard sigma.isFinite && sigma > 0 else { throw ADARError.invalidConfiguration(field: "sigma", reason: "σ = \(sigma) must be finite and > 0") }
        guard !x0.isEmpty else { throw ADARError.invalidConfiguration(field: "x0", reason: "d = 0: a row needs at least one component") }
        for (field, values) in [("x0", x0), ("epsilon", epsilon), ("predicted", predicted)] {
            guard values.count == x0.count else { throw ADARError.shapeMismatch(field: field, expected: x0.count, actual: values.count) }
            if let k = values.firstIndex(where: { !$0.isFinite }) { throw ADARError.nonFinite(row: 0, field: field, component: k) }
        }
        self.schedule = schedule
        self.timestep = timestep
        self.sigma = sigma
        self.x0 = x0
        self.epsilon = epsilon
        self.predicted = predicted
        self.index = index
    }

    func replacing(
        schedule: NoiseSchedule? = nil, timestep: Int? = nil, sigma: Double? = nil,
        x0: [Double]? = nil, epsilon: [Double]? = nil, predicted: [Double]? = nil
    ) -> DenoisedCase? {
        try? DenoisedCase(
            schedule: schedule ?? self.schedule, timestep: timestep ?? self.timestep, sigma: sigma ?? self.sigma,
            x0: x0 ?? self.x0, epsilon: epsilon ?? self.epsilon, predicted: predicted ?? self.predicted, index: index)
    }

    /// The row on components `components`.
    func restricted(components: [Int]) -> DenoisedCase? {
        replacing(x0: components.map { x0[$0] }, epsilon: components.map { epsilon[$0] }, predicted: components.map { predicted[$0] })
    }

    var values: [Double] { x0 + epsilon + predicted }
}

extension DenoisedCase: Shrinkable {
    public var shrinkSize: [Int] {
        [dimension, schedule.steps, EquivalenceCase.scheduleComplexity(schedule), timestep, Simplicity.rank(sigma) + Simplicity.complexity(values)]
    }

    /// The first 1, 2, `d/2`, `d − 1` components, all but one; a shorter schedule (as for an
    /// `EquivalenceCase`, `t` clamped to it); `t` to 1, 2, half, minus one; then `σ`, `x_0`, `ε`, `ε̂` simpler.
    public var shrinkCandidateGroups: [() -> [DenoisedCase]] {
        let groups: [() -> [DenoisedCase?]] = [
            { smallerCounts(dimension).map { restricted(components: Array(0..<$0)) } },
            { dimension > 1 ? (0..<dimension).map { k in restricted(components: (0..<dimension).filter { $0 != k }) } : [] },
            { EquivalenceCase.simplerSchedules(schedule).map { replacing(schedule: $0, timestep: min(timestep, $0.steps)) } },
            { smallerCounts(timestep).map { replacing(timestep: $0) } },
            {
                let perComponent = values.count <= Simplicity.perComponentLimit
                return Simplicity.simpler(sigma).map { replacing(sigma: $0) }
                    + Simplicity.vectorCandidates(x0, perComponent: perComponent).map { replacing(x0: $0) }
                    + Simplicity.vectorCandidates(epsilon, perComponent: perComponent).map { replacing(epsilon: $0) }
                    + Simplicity.vectorCandidates(predicted, perComponent: perComponent).map { replacing(predicted: $0) }
            },
        ]
        return groups.map { group in { group().compactMap { $0 } } }
    }

    public var summary: String {
        var text = "d = \(dimension); schedule \(EquivalenceCase.swiftLiteral(schedule.kind)) T = \(schedule.steps), t = \(timestep); σ = \(sigma)"
        if values.count <= 48 {
            text += "; x_0 \(SwiftSource.array(x0)), ε \(SwiftSource.array(epsilon)), ε̂ \(SwiftSource.array(predicted))"
        }
        return text + " (row #\(index))"
    }

    public var swiftExpression: String {
        """
        try DenoisedCase(
            schedule: try NoiseSchedule(\(EquivalenceCase.swiftLiteral(schedule.kind)), steps: \(schedule.steps)),
            timestep: \(timestep), sigma: \(sigma),
            x0: \(SwiftSource.array(x0)),
            epsilon: \(SwiftSource.array(epsilon)),
            predicted: \(SwiftSource.array(predicted)))
        """
    }
}
