import Foundation
import ADARCore

/// One case of S2.a/P1: a schedule and timestep, `σ`, `e_u`, `x_0`, and the
/// noise the check projects onto the orthogonal complement of `e_u` (so every
/// shrunk case keeps `ε ⟂ e_u`, the claim's hypothesis).
public struct OrthogonalNoiseCase: Sendable {
    public let schedule: NoiseSchedule
    public let timestep: Int
    public let sigma: Double
    public let user: [Double], x0: [Double], noise: [Double]
    /// Which case of its sweep this was (0 for a case given by values).
    public let index: Int

    init(schedule: NoiseSchedule, timestep: Int, sigma: Double, user: [Double], x0: [Double], noise: [Double], index: Int) {
        self.schedule = schedule
        self.timestep = timestep
        self.sigma = sigma
        self.user = user
        self.x0 = x0
        self.noise = noise
        self.index = index
    }

    /// A case given by its values, as a shrunk counterexample prints it: `x0` and `noise` have
    /// `user.count` values, and `timestep` is in `0…T`.
    public init(schedule: NoiseSchedule, timestep: Int, sigma: Double, user: [Double], x0: [Double], noise: [Double]) throws {
        for (field, values) in [("x0", x0), ("noise", noise)] where values.count != user.count {
            throw ADARError.shapeMismatch(field: field, expected: user.count, actual: values.count)
        }
        guard (0...schedule.steps).contains(timestep) else {
            throw ADARError.indexOutOfRange(row: 0, field: "timestep", index: timestep, count: schedule.steps + 1)
        }
        self.init(schedule: schedule, timestep: timestep, sigma: sigma, user: user, x0: x0, noise: noise, index: 0)
    }

    var values: [Double] { [sigma] + user + x0 + noise }

    func replacing(schedule: NoiseSchedule? = nil, timestep: Int? = nil, values: [Double]? = nil, components: [Int]? = nil) -> OrthogonalNoiseCase {
        let schedule = schedule ?? self.schedule
        let d = user.count, all = values ?? self.values
        let keep = components ?? Array(0..<d)
        func vector(_ block: Int) -> [Double] { keep.map { all[1 + block * d + $0] } }
        return OrthogonalNoiseCase(
            schedule: schedule, timestep: min(timestep ?? self.timestep, schedule.steps), sigma: all[0],
            user: vector(0), x0: vector(1), noise: vector(2), index: index)
    }
}

extension OrthogonalNoiseCase: Shrinkable {
    public var shrinkSize: [Int] {
        [user.count, schedule.steps, EquivalenceCase.scheduleComplexity(schedule), timestep, Simplicity.complexity(values)]
    }

    public var shrinkCandidateGroups: [() -> [OrthogonalNoiseCase]] {
        let d = user.count
        return [
            // Fewer components: the first k, then (d ≤ 16) all but one.
            { smallerCounts(d).map { replacing(components: Array(0..<$0)) } },
            { d <= 16 ? (0..<d).map { dropped in replacing(components: (0..<d).filter { $0 != dropped }) } : [] },
            // Shorter schedules (the timestep clamped to T), then t = 0 or 1.
            { EquivalenceCase.simplerSchedules(schedule).map { replacing(schedule: $0) } },
            { [0, 1].filter { $0 < timestep }.map { replacing(timestep: $0) } },
            {
                Simplicity.vectorCandidates(values, perComponent: values.count <= Simplicity.perComponentLimit)
                    .map { replacing(values: $0) }
            },
        ]
    }

    public var summary: String {
        var text = "d = \(user.count); schedule \(EquivalenceCase.swiftLiteral(schedule.kind)) T = \(schedule.steps), t = \(timestep); σ = \(sigma)"
        if user.count <= 16 {
            text += "; e_u \(SwiftSource.array(user)), x_0 \(SwiftSource.array(x0)), noise \(SwiftSource.array(noise))"
        }
        return text + " (case #\(index))"
    }

    public var swiftExpression: String {
        """
        try OrthogonalNoiseCase(
            schedule: NoiseSchedule(\(EquivalenceCase.swiftLiteral(schedule.kind)), steps: \(schedule.steps)),
            timestep: \(timestep), sigma: \(sigma),
            user: \(SwiftSource.array(user)),
            x0: \(SwiftSource.array(x0)),
            noise: \(SwiftSource.array(noise)))
        """
    }
}
