import Foundation
import ADARCore
import ADARReference

/// One batch of a τ training run (S9): its 1-based epoch `E`, the global number `b` of its first
/// row (row `i` is `b + i`), and its rows' `e_u` and `x_0`, `rows × d` each, row-major.
public struct TauTrainingBatch: Sendable, Equatable {
    public let epoch: Int, firstRow: UInt64
    public let users: [Double], positives: [Double]

    public init(epoch: Int, firstRow: UInt64, users: [Double], positives: [Double]) {
        self.epoch = epoch
        self.firstRow = firstRow
        self.users = users
        self.positives = positives
    }

    func replacing(epoch: Int? = nil, firstRow: UInt64? = nil, users: [Double]? = nil, positives: [Double]? = nil) -> TauTrainingBatch {
        TauTrainingBatch(epoch: epoch ?? self.epoch, firstRow: firstRow ?? self.firstRow,
                         users: users ?? self.users, positives: positives ?? self.positives)
    }
}

/// A τ training run of S9/T1: τ's initial parameters (`W₁ | b₁ | W₂ | b₂`, `16d² + 5d` values; Adam's
/// moments start at 0 and its step count at 0), the run's seed (the key of S9's `ε′` and `t′` draws),
/// `lr_τ`, the schedule and `σ`, and the batches in the order they are trained. The claim holds for
/// every such run; the initialiser checks what makes one (`d ≥ 1`, the shapes, `lr_τ, σ > 0` and
/// finite, epochs in `1…2³¹ − 1`, row numbers that do not wrap), so a shrunk run stays in its domain.
public struct TauTrainingCase: Sendable {
    public let seed: UInt64, dimension: Int, learningRate: Double
    public let schedule: NoiseSchedule, sigma: Double
    public let parameters: [Double]
    public let batches: [TauTrainingBatch]
    /// Which run of its sweep the case was (0 for a case given by values).
    public let index: Int

    public init(
        seed: UInt64, dimension d: Int, learningRate: Double, schedule: NoiseSchedule, sigma: Double,
        parameters: [Double], batches: [TauTrainingBatch], index: Int = 0
    ) throws {
        guard d >= 1 else { throw ADARError.invalidConfiguration(field: "dimension", reason: "d = \(d) must be ≥ 1") }
        if parameters.count != 16 * d * d + 5 * d {
            throw ADARError.shapeMismatch(field: "parameters", expected: 16 * d * d + 5 * d, actual: parameters.count)
        }
        if let q = parameters.firstIndex(where: { !$0.isFinite }) { throw ADARError.nonFinite(row: 0, field: "parameters", component: q) }
        for (field, value) in [("learningRate", learningRate), ("sigma", sigma)] where !(value.isFinite && value > 0) {
            throw ADARError.invalidConfiguration(field: field, reason: "\(value) must be finite and > 0")
        }
        guard !batches.isEmpty else { throw ADARError.invalidConfiguration(field: "batches", reason: "a run needs at least one batch") }
        for (j, batch) in batches.enumerated() {
            let rows = batch.users.count / d
            guard (1 ..< 1 << 31).contains(batch.epoch) else {
                throw ADARError.invalidConfiguration(field: "batches[\(j)].epoch", reason: "E = \(batch.epoch) must be in 1…2³¹ − 1 (S9)")
            }
            guard rows >= 1, batch.users.count == rows * d else {
                throw ADARError.shapeMismatch(field: "batches[\(j)].users", expected: max(1, rows) * d, actual: batch.users.count)
            }
            guard batch.positives.count == batch.users.count else {
                throw ADARError.shapeMismatch(field: "batches[\(j)].positives", expected: batch.users.count, actual: batch.positives.count)
            }
            guard batch.firstRow <= UInt64.max - UInt64(rows - 1) else {
                throw ADARError.invalidConfiguration(field: "batches[\(j)].firstRow", reason: "rows \(batch.firstRow) + 0…\(rows - 1) wrap past 2⁶⁴ − 1")
            }
            for (field, values) in [("users", batch.users), ("positives", batch.positives)] {
                if let i = values.firstIndex(where: { !$0.isFinite }) {
                    throw ADARError.nonFinite(row: i / d, field: "batches[\(j)].\(field)", component: i % d)
                }
            }
        }
        self.seed = seed
        self.dimension = d
        self.learningRate = learningRate
        self.schedule = schedule
        self.sigma = sigma
        self.parameters = parameters
        self.batches = batches
        self.index = index
    }

    /// The run's trainer before its first batch: the case's parameters, zero moments, no step taken.
    var trainer: TauTrainer {
        let zeros = TauParameters.zeros(dimension: dimension)
        return TauTrainer(seed: seed, learningRate: learningRate, parameters: TauParameters(dimension: dimension, flattened: parameters),
                          firstMoment: zeros, secondMoment: zeros, steps: 0)
    }

    func replacing(
        seed: UInt64? = nil, dimension: Int? = nil, learningRate: Double? = nil, schedule: NoiseSchedule? = nil,
        sigma: Double? = nil, parameters: [Double]? = nil, batches: [TauTrainingBatch]? = nil
    ) -> TauTrainingCase? {
        try? TauTrainingCase(
            seed: seed ?? self.seed, dimension: dimension ?? self.dimension, learningRate: learningRate ?? self.learningRate,
            schedule: schedule ?? self.schedule, sigma: sigma ?? self.sigma, parameters: parameters ?? self.parameters,
            batches: batches ?? self.batches, index: index)
    }

    /// Batch `j` replaced by `batch`.
    func replacing(batch j: Int, with batch: TauTrainingBatch) -> TauTrainingCase? {
        var changed = batches
        changed[j] = batch
        return replacing(batches: changed)
    }

    /// Rows `keep` of batch `j`, renumbered from its first kept row (a single kept row keeps its own draws).
    func restricted(batch j: Int, rows keep: [Int]) -> TauTrainingCase? {
        let d = dimension, batch = batches[j]
        func vectors(_ values: [Double]) -> [Double] { keep.flatMap { values[$0 * d ..< ($0 + 1) * d] } }
        return replacing(batch: j, with: TauTrainingBatch(
            epoch: batch.epoch, firstRow: batch.firstRow + UInt64(keep[0]), users: vectors(batch.users), positives: vectors(batch.positives)))
    }

    /// The sub-network and every row on the first `k` components (as for a `TauCase`).
    func restricted(dimension k: Int) -> TauTrainingCase? {
        let d = dimension
        func vectors(_ values: [Double]) -> [Double] { stride(from: 0, to: values.count, by: d).flatMap { values[$0 ..< $0 + k] } }
        return replacing(dimension: k, parameters: tauSubNetwork(parameters, dimension: d, keeping: k),
                         batches: batches.map { $0.replacing(users: vectors($0.users), positives: vectors($0.positives)) })
    }

    func rows(_ batch: TauTrainingBatch) -> Int { batch.users.count / dimension }
}

extension TauTrainingCase: Shrinkable {
    public var shrinkSize: [Int] {
        [batches.count, batches.reduce(0) { $0 + rows($1) }, dimension, schedule.steps, EquivalenceCase.scheduleComplexity(schedule),
         Simplicity.complexity(word: seed) + batches.reduce(0) { $0 + ($1.epoch - 1) + Simplicity.complexity(word: $1.firstRow) },
         Simplicity.rank(learningRate) + Simplicity.rank(sigma) + Simplicity.complexity(parameters)
            + batches.reduce(0) { $0 + Simplicity.complexity($1.users) + Simplicity.complexity($1.positives) }]
    }

    /// The first 1, 2, n/2, n − 1 batches, all but one; in each batch each row alone, all but one;
    /// the sub-network on fewer components; a shorter schedule; epochs, row numbers and the seed
    /// simpler; then `lr_τ`, `σ`, the rows' values and τ's parameters simpler.
    public var shrinkCandidateGroups: [() -> [TauTrainingCase]] {
        let n = batches.count
        let groups: [() -> [TauTrainingCase?]] = [
            { smallerCounts(n).map { replacing(batches: Array(batches.prefix($0))) } },
            { n > 1 ? (0..<n).map { j in replacing(batches: batches.indices.filter { $0 != j }.map { batches[$0] }) } : [] },
            { batches.indices.flatMap { j in rows(batches[j]) > 1 ? (0..<rows(batches[j])).map { restricted(batch: j, rows: [$0]) } : [] } },
            {
                batches.indices.flatMap { j in
                    let count = rows(batches[j])
                    return count > 1 ? (0..<count).map { i in restricted(batch: j, rows: (0..<count).filter { $0 != i }) } : []
                }
            },
            { smallerCounts(dimension).map { restricted(dimension: $0) } },
            { EquivalenceCase.simplerSchedules(schedule).map { replacing(schedule: $0) } },
            {
                batches.indices.flatMap { j in
                    smallerCounts(batches[j].epoch).map { replacing(batch: j, with: batches[j].replacing(epoch: $0)) }
                        + Simplicity.simpler(word: batches[j].firstRow).map { replacing(batch: j, with: batches[j].replacing(firstRow: $0)) }
                } + Simplicity.simpler(word: seed).map { replacing(seed: $0) }
            },
            {
                Simplicity.simpler(learningRate).map { replacing(learningRate: $0) } + Simplicity.simpler(sigma).map { replacing(sigma: $0) }
            },
            {
                let perComponent = batches.reduce(0) { $0 + 2 * $1.users.count } <= Simplicity.perComponentLimit
                return batches.indices.flatMap { j in
                    Simplicity.vectorCandidates(batches[j].positives, perComponent: perComponent)
                        .map { replacing(batch: j, with: batches[j].replacing(positives: $0)) }
                        + Simplicity.vectorCandidates(batches[j].users, perComponent: perComponent)
                        .map { replacing(batch: j, with: batches[j].replacing(users: $0)) }
                }
            },
            {
                Simplicity.vectorCandidates(parameters, perComponent: parameters.count <= Simplicity.perComponentLimit)
                    .map { replacing(parameters: $0) }
            },
        ]
        return groups.map { group in { group().compactMap { $0 } } }
    }

    public var summary: String {
        let layout = batches.map { "E = \($0.epoch), rows \($0.firstRow)…+\(rows($0) - 1)" }.joined(separator: "; ")
        var text = "\(batches.count) batches [\(layout)], d = \(dimension); schedule \(EquivalenceCase.swiftLiteral(schedule.kind)) "
            + "T = \(schedule.steps); σ = \(sigma), lr_τ = \(learningRate), seed \(seed)"
        if batches.reduce(0, { $0 + $1.users.count }) <= 16 {
            text += "; e_u " + batches.map { SwiftSource.array($0.users) }.joined(separator: " | ")
                + ", x_0 " + batches.map { SwiftSource.array($0.positives) }.joined(separator: " | ")
        }
        if parameters.count <= 32 { text += "; θ \(SwiftSource.array(parameters))" }
        return text + " (run #\(index))"
    }

    public var swiftExpression: String {
        let batchLines = batches.map {
            "        TauTrainingBatch(epoch: \($0.epoch), firstRow: \($0.firstRow), users: \(SwiftSource.array($0.users)), positives: \(SwiftSource.array($0.positives))),"
        }
        return """
            try TauTrainingCase(
                seed: \(seed), dimension: \(dimension), learningRate: \(learningRate),
                schedule: try NoiseSchedule(\(EquivalenceCase.swiftLiteral(schedule.kind)), steps: \(schedule.steps)), sigma: \(sigma),
                parameters: \(SwiftSource.array(parameters)),
                batches: [
            \(batchLines.joined(separator: "\n"))
                ])
            """
    }
}
