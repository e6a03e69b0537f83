import Foundation
import ADARCore

/// One synthesis call of S6/O1 in binary64: a schedule, a configuration and a batch (counter or
/// explicit noise). The claim holds for every valid call, so a shrunk call stays in its domain as long
/// as it is one, which the initialiser checks. Its values stay binary64 (not `EquivalenceCase`'s
/// binary32): a reference that rounded an input to binary32 must not pass on inputs that are exact in it.
public struct SynthesisCase: Sendable {
    public let schedule: NoiseSchedule
    public let configuration: ADARConfiguration
    public let rows: Int, dimension: Int, poolSize: Int
    public let users: [Double], positives: [Double], pool: [Double]
    public let noise: NoiseInput
    /// Which call of its sweep the case was (0 for a case given by values).
    public let index: Int

    /// A call given by its values, as a shrunk counterexample prints it; the batch is checked as
    /// `ADARBatch` checks it (shapes `B × d`, `B × M × d`, explicit `ε` `B × d`, finite values),
    /// naming the field.
    public init(
        schedule: NoiseSchedule, configuration: ADARConfiguration, rows: Int, dimension: Int, poolSize: Int,
        users: [Double], positives: [Double], pool: [Double], noise: NoiseInput, index: Int = 0
    ) throws {
        self.init(unchecked: schedule, configuration, rows, dimension, poolSize, users, positives, pool, noise, index)
        _ = try batch
    }

    /// A call whose shapes and values are valid by construction (the sweep's draws, the candidates).
    init(
        unchecked schedule: NoiseSchedule, _ configuration: ADARConfiguration, _ rows: Int, _ dimension: Int, _ poolSize: Int,
        _ users: [Double], _ positives: [Double], _ pool: [Double], _ noise: NoiseInput, _ index: Int
    ) {
        self.schedule = schedule
        self.configuration = configuration
        self.rows = rows
        self.dimension = dimension
        self.poolSize = poolSize
        self.users = users
        self.positives = positives
        self.pool = pool
        self.noise = noise
        self.index = index
    }

    /// The reference's batch.
    public var batch: ADARBatch {
        get throws {
            try ADARBatch(rows: rows, dimension: dimension, poolSize: poolSize, users: users, positives: positives, pool: pool, noise: noise)
        }
    }

    func replacing(
        schedule: NoiseSchedule? = nil, configuration: ADARConfiguration? = nil,
        users: [Double]? = nil, positives: [Double]? = nil, pool: [Double]? = nil, noise: NoiseInput? = nil
    ) -> SynthesisCase {
        SynthesisCase(unchecked: schedule ?? self.schedule, configuration ?? self.configuration, rows, dimension, poolSize,
                      users ?? self.users, positives ?? self.positives, pool ?? self.pool, noise ?? self.noise, index)
    }

    /// The call on rows `keep`, pool candidates `candidates` and components `components` (as for an `EquivalenceCase`).
    func restricted(rows keep: [Int]?, candidates: [Int]?, components: [Int]?) -> SynthesisCase {
        let selection = BatchSelection(rows: keep ?? Array(0..<rows), candidates: candidates ?? Array(0..<poolSize),
                                       components: components ?? Array(0..<dimension))
        return SynthesisCase(
            unchecked: schedule, configuration, selection.rows.count, selection.components.count, selection.candidates.count,
            selection.vectors(users, dimension: dimension), selection.vectors(positives, dimension: dimension),
            selection.pool(pool, dimension: dimension, poolSize: poolSize), selection.noise(noise, dimension: dimension), index)
    }
}

extension SynthesisCase: Shrinkable, DenseBatchCase {
    public var shrinkSize: [Int] { batchShrinkSize }

    /// The candidates of an `EquivalenceCase`, in the same order (docs/Shrinking.md).
    public var shrinkCandidateGroups: [() -> [SynthesisCase]] { batchCandidateGroups }

    public var summary: String {
        var text = "B = \(rows), d = \(dimension), M = \(poolSize); schedule \(EquivalenceCase.swiftLiteral(schedule.kind)) T = \(schedule.steps); "
            + "\(EquivalenceCase.configurationSource(configuration).dropFirst("try ".count)); noise \(noise.summary)"
        if users.count + positives.count + pool.count <= 48 {
            text += "; e_u \(SwiftSource.array(users)), x_0 \(SwiftSource.array(positives)), pool \(SwiftSource.array(pool))"
        }
        return text + " (call #\(index))"
    }

    public var swiftExpression: String {
        """
        try SynthesisCase(
            schedule: try NoiseSchedule(\(EquivalenceCase.swiftLiteral(schedule.kind)), steps: \(schedule.steps)),
            configuration: \(EquivalenceCase.configurationSource(configuration)),
            rows: \(rows), dimension: \(dimension), poolSize: \(poolSize),
            users: \(SwiftSource.array(users)),
            positives: \(SwiftSource.array(positives)),
            pool: \(SwiftSource.array(pool)),
            noise: \(noise.swiftSource))
        """
    }
}
