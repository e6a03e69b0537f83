import Foundation
import ADARCore

/// One point of S7/F1: the argument of softplus. The claim's domain is
/// `[−1000, 1000]`; a shrunk point outside it does not count as failing.
public struct SoftplusCase: Sendable {
    public let x: Double
    /// Which point of its sweep the case was (0 for a case given by value).
    public let index: Int

    public init(x: Double, index: Int = 0) {
        self.x = x
        self.index = index
    }
}

extension SoftplusCase: Shrinkable {
    public var shrinkSize: [Int] { [Simplicity.rank(x)] }

    public var shrinkCandidateGroups: [() -> [SoftplusCase]] {
        [{ Simplicity.simpler(x).map { SoftplusCase(x: $0, index: index) } }]
    }

    public var summary: String { "x = \(x) (point #\(index))" }

    public var swiftExpression: String { "SoftplusCase(x: \(x))" }
}

/// One row of S7/G1 and S7/L1: its embeddings, explicit `ε`, the schedule and `σ` its S6 outcome
/// is synthesised with (S5/S6 are inputs to S7 here, not under test). The claims hold for every
/// such row, whatever its status: a shrunk row stays in their domain as long as it is a valid
/// one-row batch and configuration (`d, M ≥ 1`, matching shapes, `σ > 0`), which the initialiser checks.
public struct LossCase: Sendable {
    public let schedule: NoiseSchedule
    public let sigma: Double
    public let dimension: Int, poolSize: Int
    public let user: [Double], positive: [Double], pool: [Double], epsilon: [Double]
    /// Which row of its sweep's fixture the case was (0 for a case given by values).
    public let index: Int

    /// A row given by its values, as a shrunk counterexample prints it; shapes and `σ` are checked.
    public init(
        schedule: NoiseSchedule, sigma: Double, dimension: Int, poolSize: Int,
        user: [Double], positive: [Double], pool: [Double], epsilon: [Double], index: Int = 0
    ) throws {
        self.schedule = schedule
        self.sigma = sigma
        self.dimension = dimension
        self.poolSize = poolSize
        self.user = user
        self.positive = positive
        self.pool = pool
        self.epsilon = epsilon
        self.index = index
        _ = try batch
        _ = try synthesis
    }

    /// The one-row batch of the reference.
    var batch: ADARBatch {
        get throws {
            try ADARBatch(rows: 1, dimension: dimension, poolSize: poolSize, users: user, positives: positive,
                          pool: pool, noise: .explicit(epsilon))
        }
    }

    /// The configuration the row's outcome is synthesised with.
    var synthesis: ADARConfiguration { get throws { try ADARConfiguration(sigma: sigma) } }

    func replacing(
        schedule: NoiseSchedule? = nil, sigma: Double? = nil, user: [Double]? = nil, positive: [Double]? = nil,
        pool: [Double]? = nil, epsilon: [Double]? = nil
    ) -> LossCase? {
        try? LossCase(
            schedule: schedule ?? self.schedule, sigma: sigma ?? self.sigma, dimension: dimension, poolSize: poolSize,
            user: user ?? self.user, positive: positive ?? self.positive, pool: pool ?? self.pool,
            epsilon: epsilon ?? self.epsilon, index: index)
    }

    /// The row on pool candidates `candidates` and components `components`.
    func restricted(candidates: [Int]? = nil, components: [Int]? = nil) -> LossCase? {
        let candidates = candidates ?? Array(0..<poolSize), components = components ?? Array(0..<dimension)
        func vector(_ values: [Double]) -> [Double] { components.map { values[$0] } }
        return try? LossCase(
            schedule: schedule, sigma: sigma, dimension: components.count, poolSize: candidates.count,
            user: vector(user), positive: vector(positive),
            pool: candidates.flatMap { j in components.map { pool[j * dimension + $0] } },
            epsilon: vector(epsilon), index: index)
    }

    var values: [Double] { user + positive + pool + epsilon }
}

extension LossCase: Shrinkable {
    public var shrinkSize: [Int] {
        [dimension, poolSize, schedule.steps, EquivalenceCase.scheduleComplexity(schedule),
         Simplicity.rank(sigma) + Simplicity.complexity(values)]
    }

    public var shrinkCandidateGroups: [() -> [LossCase]] {
        [
            // Dimension: the first k components, then all but one.
            { smallerCounts(dimension).compactMap { restricted(components: Array(0..<$0)) } },
            { dimension > 1 ? (0..<dimension).compactMap { k in restricted(components: (0..<dimension).filter { $0 != k }) } : [] },
            // Pool: each candidate alone, then all but one.
            { poolSize > 1 ? (0..<poolSize).compactMap { restricted(candidates: [$0]) } : [] },
            { poolSize > 1 ? (0..<poolSize).compactMap { j in restricted(candidates: (0..<poolSize).filter { $0 != j }) } : [] },
            { EquivalenceCase.simplerSchedules(schedule).compactMap { replacing(schedule: $0) } },
            { Simplicity.simpler(sigma).compactMap { replacing(sigma: $0) } },
            {
                let perComponent = values.count <= Simplicity.perComponentLimit
                return Simplicity.vectorCandidates(positive, perComponent: perComponent).compactMap { replacing(positive: $0) }
                    + Simplicity.vectorCandidates(user, perComponent: perComponent).compactMap { replacing(user: $0) }
                    + Simplicity.vectorCandidates(pool, perComponent: perComponent).compactMap { replacing(pool: $0) }
                    + Simplicity.vectorCandidates(epsilon, perComponent: perComponent).compactMap { replacing(epsilon: $0) }
            },
        ]
    }

    public var summary: String {
        "d = \(dimension), M = \(poolSize); schedule \(EquivalenceCase.swiftLiteral(schedule.kind)) T = \(schedule.steps); σ = \(sigma); "
            + "e_u \(SwiftSource.array(user)), x_0 \(SwiftSource.array(positive)), pool \(SwiftSource.array(pool)), "
            + "ε \(SwiftSource.array(epsilon)) (row #\(index))"
    }

    public var swiftExpression: String {
        """
        try LossCase(
            schedule: try NoiseSchedule(\(EquivalenceCase.swiftLiteral(schedule.kind)), steps: \(schedule.steps)),
            sigma: \(sigma), dimension: \(dimension), poolSize: \(poolSize),
            user: \(SwiftSource.array(user)),
            positive: \(SwiftSource.array(positive)),
            pool: \(SwiftSource.array(pool)),
            epsilon: \(SwiftSource.array(epsilon)))
        """
    }
}
