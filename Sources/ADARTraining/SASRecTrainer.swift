import Foundation
import ADARCore
@_spi(Kernels) import ADAR
import ADARData
import ADARLayers

/// Everything that defines a SASRec run besides the data and the seed (spec S10;
/// docs/TRAINING.md "SASRec"). Defaults are SASRec's for ML-1M: `d = 50`,
/// 2 blocks, 1 head, dropout 0.2, Adam lr 10⁻³ with β = (0.9, 0.98) as
/// SASRec.pytorch, batch 128 sequences, no L2 (`l2_emb = 0`).
public struct SASRecTrainingConfiguration: Equatable, Sendable {
    /// The backbone's shape; its `items` is the data set's.
    public var model: SASRecConfiguration
    /// uniform (one candidate), dns (the hardest of `poolSize` by `⟨h_p, e_j⟩`) or adar (S10).
    public var sampler: SamplerKind
    /// Candidates per row `M` for dns and ADAR's pool.
    public var poolSize: Int
    /// ADAR's options (S3–S7); its `l2` is not used.
    public var adar: ADARConfiguration
    /// ADAR's generator (S9): `forward` unless set; `denoised` needs the `adar` sampler and trains τ on the
    /// batch's training rows `(h_p, e_{i_{p+1}})` (S10).
    public var generator: ADARGenerator
    public var schedule: NoiseSchedule
    /// Sequences per batch.
    public var batchSize: Int
    public var learningRate: Double
    /// `l2·‖E‖²` over the item table, as SASRec.pytorch's `l2_emb` (not halved).
    public var l2: Double

    /// SASRec.pytorch's Adam betas.
    public static let adamBeta1 = 0.9, adamBeta2 = 0.98
    public static let samplers: [SamplerKind] = [.uniform, .dns, .adar]

    public init(
        model: SASRecConfiguration, sampler: SamplerKind = .uniform, poolSize: Int = 16, adar: ADARConfiguration? = nil,
        generator: ADARGenerator = .forward, schedule: NoiseSchedule? = nil, batchSize: Int = 128, learningRate: Double = 1e-3,
        l2: Double = 0
    ) throws(TrainingError) {
        guard Self.samplers.contains(sampler) else {
            throw .invalidConfiguration(field: "sampler", reason: "\(sampler.rawValue) is not available for SASRec; use uniform, dns or adar")
        }
        guard TrainingConfiguration.poolSizeRange.contains(poolSize) else {
            throw .invalidConfiguration(field: "poolSize", reason: "\(poolSize) must be between 1 and \(TrainingConfiguration.poolSizeRange.upperBound)")
        }
        guard (1...4096).contains(batchSize) else {
            throw .invalidConfiguration(field: "batchSize", reason: "\(batchSize) must be between 1 and 4096 sequences")
        }
        guard learningRate.isFinite, learningRate > 0 else {
            throw .invalidConfiguration(field: "learningRate", reason: "\(learningRate) must be finite and > 0")
        }
        guard l2.isFinite, l2 >= 0 else { throw .invalidConfiguration(field: "l2", reason: "\(l2) must be finite and ≥ 0") }
        if case let .denoised(settings) = generator { try settings.check(sampler: sampler) }
        do throws(ADARError) {
            self.adar = if let adar { adar } else { try ADARConfiguration(sigma: 0.1) }
            self.schedule = if let schedule { schedule } else { try NoiseSchedule(.defaultCosine, steps: 1000) }
        } catch {
            throw .adar(error)
        }
        self.model = model
        self.sampler = sampler
        self.poolSize = poolSize
        self.generator = generator
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.l2 = l2
    }

    /// Candidates drawn per training row: 1 for uniform, `M` otherwise.
    public var candidatesPerRow: Int { sampler == .uniform ? 1 : poolSize }

    /// τ's learning rate under `denoised` (the backbone's unless set, S9); nil under `forward`.
    public var tauLearningRate: Double? {
        guard case let .denoised(settings) = generator else { return nil }
        return settings.tauLearningRate ?? learningRate
    }
}

/// Validation (or test) metrics of one evaluation, with the user's history
/// excluded from the ranking (what early stopping reads) and included.
public struct SequenceEvaluation: Sendable {
    public let excludingHistory: RankingMetrics
    public let includingHistory: RankingMetrics
    public let seconds: Double
}

/// SASRec training with S10's rows, BCE, a uniform, DNS or ADAR negative, Adam.
///
/// An epoch visits every user with a training item once, in an order shuffled
/// by `(seed, epoch)`; a batch of `B` sequences has `B·L` rows, row `p` of the
/// epoch's `s`-th sequence numbered `b = s·L + p` (S10) — for the dropout masks,
/// the candidates (drawn from `UniformNegatives.generator(seed, epoch, b)`
/// outside the user's training sequence; padding rows draw nothing) and
/// ADAR's noise (S8, stream = epoch). Under `denoised`, τ (S9) takes one Adam step per
/// batch on the batch's training rows `(h_p, e_{i_{p+1}})` — padding rows excluded, each
/// keeping its number `b` — after the backbone's forward pass and before synthesis.
/// Deterministic for any thread count.
public final class SASRecTrainer {
    public let data: SequenceData
    public let configuration: SASRecTrainingConfiguration
    public let seed: UInt64
    public var encoder: SASRecEncoder<Float>
    private var optimizer: Adam<Float>
    private let negatives: UniformNegatives
    private let workspace: SASRecWorkspace<Float>
    private let synthesizer: ADARSynthesizer?
    /// τ and its Adam state under the `denoised` generator (S9); nil otherwise.
    public let tau: TauTrainer32?
    private let synthesis = SynthesisBuffers()
    private var gradient: [Float]
    /// The users with at least one training item (a training row).
    private let trainableUsers: [Int]

    public init(data: SequenceData, configuration: SASRecTrainingConfiguration, seed: UInt64) throws(TrainingError) {
        guard configuration.model.items == data.itemCount else {
            throw .invalidConfiguration(field: "model.items", reason: "\(configuration.model.items) differs from the data's \(data.itemCount) items")
        }
        self.data = data
        self.configuration = configuration
        self.seed = seed
        // Item 0 (padding) counts as everyone's training item, so it is never drawn.
        negatives = try UniformNegatives(train: data.train.map { [0] + $0 }, itemCount: data.itemCount + 1)
        encoder = SASRecEncoder(configuration: configuration.model, seed: seed)
        workspace = SASRecWorkspace(configuration: configuration.model, sequences: configuration.batchSize)
        gradient = [Float](repeating: 0, count: encoder.layout.count)
        do {
            optimizer = try Adam(count: encoder.layout.count, learningRate: configuration.learningRate,
                                 beta1: SASRecTrainingConfiguration.adamBeta1, beta2: SASRecTrainingConfiguration.adamBeta2)
        } catch {
            throw .adar(error)
        }
        synthesizer = configuration.sampler == .adar ? ADARSynthesizer(schedule: configuration.schedule, configuration: configuration.adar) : nil
        tau = try configuration.tauLearningRate.map { (rate) throws(TrainingError) in
            try TauTrainer32.seeded(dimension: configuration.model.dimension, steps: configuration.schedule.steps, seed: seed, learningRate: rate)
        }
        trainableUsers = data.train.indices.filter { !data.train[$0].isEmpty }
    }

    /// S10's rows of `users`' training sequences: the last `L + 1` items left-padded
    /// with 0 to `L + 1` slots; input `ids[s·L + p]` = slot `p`, target `positives[s·L + p]` = slot `p + 1`
    /// (0: padding, no training row).
    public func trainingRows(_ users: [Int]) -> (ids: [Int32], positives: [Int32]) {
        let L = configuration.model.length
        var ids: [Int32] = [], positives: [Int32] = []
        ids.reserveCapacity(users.count * L)
        positives.reserveCapacity(users.count * L)
        for user in users {
            let slots = SequenceData.leftPadded(data.train[user][...], length: L + 1)
            ids += slots.prefix(L)
            positives += slots.dropFirst()
        }
        return (ids, positives)
    }

    /// The users of epoch `epoch` (1-based) in their shuffled order.
    public func epochOrder(_ epoch: Int) -> [Int] {
        var order = trainableUsers
        var shuffler = UniformNegatives.generator(seed: seed, epoch: epoch, row: .max)
        order.shuffle(using: &shuffler)
        return order
    }

    /// One pass over every training sequence.
    public func trainEpoch(_ epoch: Int, threads: Int) throws(TrainingError) -> EpochStatistics {
        let clock = ContinuousClock(), start = clock.now
        let order = epochOrder(epoch), B = configuration.batchSize, L = configuration.model.length
        var lossSum = 0.0, rowCount = 0
        var statusCounts = [Int](repeating: 0, count: RowStatus.allCases.count)
        var adar = ADAREpochAccumulator()
        for (batchIndex, first) in stride(from: 0, to: order.count, by: B).enumerated() {
            let users = Array(order[first ..< Swift.min(first + B, order.count)])
            let step = try trainBatch(users, epoch: epoch, rowOffset: UInt64(first * L), threads: threads)
            guard step.loss.isFinite else {
                throw .diverged(epoch: epoch, batch: batchIndex + 1, detail: "the batch's mean loss is \(nonFiniteText(step.loss))")
            }
            lossSum += step.loss * Double(step.rows)
            rowCount += step.rows
            for status in step.statuses { statusCounts[RowStatus.allCases.firstIndex(of: status)!] += 1 }
            if let synthesis = step.synthesis { adar.record(synthesis, statuses: step.statuses, timesteps: step.timesteps) }
            if let tauLoss = step.tauLoss { adar.tauLossSum += Double(tauLoss) * Double(step.rows) }
        }
        if let index = encoder.parameters.firstIndex(where: { !$0.isFinite }) {
            throw .diverged(epoch: epoch, batch: nil, detail: "parameter \(index) is \(nonFiniteText(Double(encoder.parameters[index]))) after the epoch's last step")
        }
        var tauStatistics: TauEpochStatistics?
        if let tau, case let .denoised(settings) = configuration.generator {
            tauStatistics = adar.tauStatistics(rows: rowCount, steps: tau.stepCount, synthesisedDenoised: epoch > settings.tauWarmup)
        }
        return EpochStatistics(
            epoch: epoch, meanLoss: lossSum / Double(Swift.max(rowCount, 1)), seconds: (clock.now - start) / .seconds(1), rows: rowCount,
            statusCounts: Dictionary(uniqueKeysWithValues: zip(RowStatus.allCases, statusCounts).filter { $0.1 > 0 }),
            adar: synthesizer == nil ? nil
                : ADAREpochStatistics(calibration: adar.calibration.summary, meanTimestep: adar.meanTimestep, tau: tauStatistics))
    }

    /// What one batch did: its mean loss over its training rows, and ADAR's per-row outcome on those rows.
    public struct BatchOutcome: Sendable {
        public let loss: Double
        public let rows: Int
        public let statuses: [RowStatus]
        public let timesteps: [Int32]
        public let synthesis: ADARBatchSynthesis?
        /// τ's batch `L_τ` before its step (S9); nil without τ.
        public let tauLoss: Float?
    }

    /// A batch after the backbone's forward pass and ADAR's synthesis, before any loss (S9's steps 1–3).
    package struct PreparedBatch {
        package let ids: [Int32], positives: [Int32]
        /// `j` per row.
        package let negatives: [Int32]
        package let dropout: Dropout
        /// τ's input under `denoised`: the training rows' `(h_p, x_0)` and their global numbers `b`; nil without τ.
        package let tauInput: (rows: IndexedRows32, rowNumbers: [UInt64])?
        package let tauLoss: Float?
        /// S10's term per row; nil without ADAR.
        package let synthetic: SyntheticNegatives<Float>?
        /// The training rows' S5 outcomes and S9 statistics; empty / nil without ADAR.
        package let statuses: [RowStatus], timesteps: [Int32]
        package let synthesis: ADARBatchSynthesis?
    }

    /// Forward (training mode) on `users`' sequences, the candidates and `j`, and under ADAR τ's step
    /// (`denoised`) then the synthesis (S9's order), the batch's first row being global row `rowOffset`.
    /// Changes τ, not the backbone; leaves `h` in the workspace for the losses.
    package func prepareBatch(_ users: [Int], epoch: Int, rowOffset: UInt64, threads: Int) throws(ADARError) -> PreparedBatch {
        let c = configuration.model, d = c.dimension, sequences = users.count, rows = sequences * c.length
        let (ids, positives) = trainingRows(users)
        let dropout = try Dropout(seed: seed, epoch: epoch, rate: c.dropout, rowOffset: rowOffset)
        try encoder.forward(ids, sequences: sequences, dropout: dropout, workspace: workspace, threads: threads)
        let perRow = configuration.candidatesPerRow
        let candidates = drawCandidates(users: users, positives: positives, epoch: epoch, rowOffset: rowOffset, threads: threads)
        let negatives = chooseNegatives(candidates, positives: positives, perRow: perRow)
        guard let synthesizer else {
            return PreparedBatch(ids: ids, positives: positives, negatives: negatives, dropout: dropout, tauInput: nil, tauLoss: nil,
                                 synthetic: nil, statuses: [], timesteps: [], synthesis: nil)
        }
        // Row r's user is h_r (e_u = h_p); items index the unscaled table (row 0, padding, is zero).
        let table = encoder.layout.embedding.itemTable
        let hidden = Array(UnsafeBufferPointer(start: workspace.hidden, count: rows * d))
        let itemTable = Array(encoder.parameters[table ..< table + (c.items + 1) * d])
        let input = try IndexedRows32(dimension: d, poolSize: perRow, userTable: hidden, itemTable: itemTable,
                                      users: (0 ..< Int32(rows)).map { $0 }, positives: positives, pool: candidates)
        let training = (0..<rows).filter { positives[$0] != 0 }
        var generator = SynthesisGenerator32.forward
        var tauInput: (rows: IndexedRows32, rowNumbers: [UInt64])?, tauLoss: Float?
        if let tau, case let .denoised(settings) = configuration.generator {
            // S10: τ learns from the training rows only; each keeps its number b = s·L + p for S9's draws.
            let rowsOfTau = try IndexedRows32(
                dimension: d, poolSize: perRow, userTable: hidden, itemTable: itemTable, users: training.map { Int32($0) },
                positives: training.map { positives[$0] }, pool: training.flatMap { candidates[$0 * perRow ..< ($0 + 1) * perRow] })
            let rowNumbers = training.map { rowOffset + UInt64($0) }
            tauLoss = try tau.step(rowsOfTau, synthesizer: synthesizer, seed: seed, epoch: epoch, rowNumbers: rowNumbers, threads: threads)
            tauInput = (rowsOfTau, rowNumbers)
            if epoch > settings.tauWarmup { generator = .denoised(tau.network, rMax: settings.rMax) }
        }
        try synthesizer.synthesize(input, noise: .counter(seed: seed, stream: UInt32(truncatingIfNeeded: epoch), rowOffset: rowOffset),
                                   generator: generator, into: synthesis, threads: threads)
        return PreparedBatch(
            ids: ids, positives: positives, negatives: negatives, dropout: dropout, tauInput: tauInput, tauLoss: tauLoss,
            synthetic: syntheticNegatives(positives: positives, candidates: candidates, perRow: perRow),
            statuses: training.map { synthesis.statuses[$0] }, timesteps: training.map { synthesis.timesteps[$0] },
            synthesis: ADARBatchSynthesis(synthesis, rows: training, itemTable: itemTable, positives: positives, dimension: d))
    }

    /// `prepareBatch`, the losses (BCE and, for ADAR, S10's term), backward and one Adam step.
    public func trainBatch(_ users: [Int], epoch: Int, rowOffset: UInt64, threads: Int) throws(TrainingError) -> BatchOutcome {
        let sequences = users.count
        do {
            let batch = try prepareBatch(users, epoch: epoch, rowOffset: rowOffset, threads: threads)
            let bce = try SequenceBCELoss.lossAndGradient(encoder: encoder, workspace: workspace, sequences: sequences, positives: batch.positives,
                                                          negatives: batch.negatives, l2: configuration.l2, gradient: &gradient)
            var loss = Double(bce.loss)
            if let synthetic = batch.synthetic {
                loss += Double(try SequenceADARTerm.addLossAndGradient(encoder: encoder, workspace: workspace, sequences: sequences,
                                                                       trainingRows: bce.rows, synthetic: synthetic, gradient: &gradient))
            }
            try encoder.backward(batch.ids, sequences: sequences, dropout: batch.dropout, workspace: workspace, gradient: &gradient, threads: threads)
            try optimizer.step(&encoder.parameters, gradient: gradient, threads: threads)
            return BatchOutcome(loss: loss, rows: bce.rows, statuses: batch.statuses, timesteps: batch.timesteps, synthesis: batch.synthesis,
                                tauLoss: batch.tauLoss)
        } catch {
            switch error {
            case .nonFinite, .overflow: throw .diverged(epoch: epoch, batch: nil, detail: "ADAR: \(error)")
            default: throw .adar(error)
            }
        }
    }

    /// `rows × C` candidates: training row `r` draws `C` items outside the user's
    /// training sequence from the generator of `(seed, epoch, rowOffset + r)`; padding rows draw nothing (0).
    public func drawCandidates(users: [Int], positives: [Int32], epoch: Int, rowOffset: UInt64, threads: Int) -> [Int32] {
        let perRow = configuration.candidatesPerRow, L = configuration.model.length, negatives = negatives, seed = seed
        var candidates = [Int32](repeating: 0, count: positives.count * perRow)
        candidates.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            Parallel.forEachChunk(count: positives.count, threads: threads) { rows in
                for r in rows where positives[r] != 0 {
                    var rng = UniformNegatives.generator(seed: seed, epoch: epoch, row: rowOffset + UInt64(r))
                    for m in 0..<perRow { out[r * perRow + m] = negatives.draw(for: users[r / L], using: &rng) }
                }
            }
        }
        return candidates
    }

    /// `j` per row: DNS the candidate with the highest `⟨h_p, e_j⟩` (the first on ties), otherwise the first (S7's `j₁`).
    private func chooseNegatives(_ candidates: [Int32], positives: [Int32], perRow: Int) -> [Int32] {
        guard configuration.sampler == .dns else { return (0..<positives.count).map { candidates[$0 * perRow] } }
        let d = configuration.model.dimension
        var scores = [Float](repeating: 0, count: perRow)
        return encoder.parameters.withUnsafeBufferPointer { p in
            (0..<positives.count).map { r in
                guard positives[r] != 0 else { return 0 }
                for m in 0..<perRow { scores[m] = Kernels32.dot(workspace.hidden + r * d, p.baseAddress! + Int(candidates[r * perRow + m]) * d, d) }
                return candidates[r * perRow + scores.withUnsafeBufferPointer { NegativeRule.dns($0) }]
            }
        }
    }

    /// S10's term per row from the synthesis just run: `w` on training rows
    /// (by S7's fallback option), and under `through` the item `x⁻` depends on and
    /// `∂x⁻/∂x_0`: `√ᾱ_t` where `x⁻ = x_t` (`forward`, and the `r_max` guard's rows),
    /// 1 where `x⁻ = x̂_0` (`denoised`: `t`, `ε`, `ε̂` are constants, S9), 1 on `hardest` fallback rows.
    private func syntheticNegatives(positives: [Int32], candidates: [Int32], perRow: Int) -> SyntheticNegatives<Float> {
        let rows = positives.count, adar = configuration.adar, through = adar.gradientFlow == .through
        var weights = [Float](repeating: 0, count: rows), items = [Int32](repeating: 0, count: rows)
        var scales = [Float](repeating: 0, count: rows)
        let sqrtAlphaBar = configuration.schedule.sqrtAlphaBar
        for r in 0..<rows where positives[r] != 0 {
            let fallback = synthesis.statuses[r].isFallback
            weights[r] = Float(adar.augmentationWeight(fallbackRow: fallback))
            guard through, weights[r] != 0 else { continue }
            if fallback {
                items[r] = candidates[r * perRow + Int(synthesis.hardestCandidates[r])]
                scales[r] = 1
            } else {
                items[r] = positives[r]
                scales[r] = synthesis.isDenoised(r) ? 1 : Float(sqrtAlphaBar[Int(synthesis.timesteps[r])])
            }
        }
        return SyntheticNegatives(negatives: Array(synthesis.syntheticNegatives), weights: weights, throughItems: items, throughScales: scales)
    }

    /// Full ranking of `split`'s held-out items (the test task from a sealed split's targets):
    /// `h` at the last slot of the user's history (`SequenceData.history`, its last `L` items),
    /// scored against every item's unscaled row; HR@K is Recall@K with one target.
    /// `epoch` names the model in a `.diverged` error.
    public func evaluate(_ split: HeldOutSplit, targets: [Int32]? = nil, cutoffs: [Int] = [10, 20], epoch: Int, threads: Int)
        throws(TrainingError) -> SequenceEvaluation
    {
        let clock = ContinuousClock(), start = clock.now
        let targets = targets ?? (split == .validation ? data.validation : data.test)
        let c = configuration.model, L = c.length, d = c.dimension, B = configuration.batchSize
        let evaluated = data.train.indices.filter { targets[$0] != 0 }
        var hidden = [Float](repeating: 0, count: data.userCount * d)
        do {
            for first in stride(from: 0, to: evaluated.count, by: B) {
                let users = evaluated[first ..< Swift.min(first + B, evaluated.count)]
                let ids = users.flatMap { SequenceData.leftPadded(data.history(of: $0, for: split)[...], length: L) }
                try encoder.forward(ids, sequences: users.count, dropout: .none, workspace: workspace, threads: threads)
                for (s, user) in users.enumerated() {
                    for k in 0..<d { hidden[user * d + k] = workspace.hidden[(s * L + L - 1) * d + k] }
                }
            }
        } catch {
            throw .adar(error)
        }
        let items = c.items + 1, offset = encoder.layout.embedding.itemTable
        let table = Array(encoder.parameters[offset ..< offset + items * d]), states = hidden
        func metrics(excludeHistory: Bool) -> RankingMetrics {
            RankingMetrics.evaluate(data.rankingTask(split, targets: targets, excludeHistory: excludeHistory), cutoffs: cutoffs) { user, scores in
                states.withUnsafeBufferPointer { h in
                    table.withUnsafeBufferPointer { e in
                        for item in 0..<items { scores[item] = Kernels32.dot(h.baseAddress! + user * d, e.baseAddress! + item * d, d) }
                    }
                }
            }
        }
        let excluding = metrics(excludeHistory: true), including = metrics(excludeHistory: false)
        guard excluding.nonFiniteScores == 0 else {
            throw .diverged(epoch: epoch, batch: nil, detail: "\(excluding.nonFiniteScores) scores ⟨h, e_i⟩ of the evaluation are NaN or ±∞")
        }
        return SequenceEvaluation(excludingHistory: excluding, includingHistory: including, seconds: (clock.now - start) / .seconds(1))
    }
}
