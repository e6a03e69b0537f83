import Foundation
import ADARCore
@_spi(Kernels) import ADAR
import ADARData
import ADARLayers

/// What one training epoch did.
public struct EpochStatistics: Sendable {
    public let epoch: Int
    /// Mean over the epoch's rows of the per-row loss (BPR, ADAR's term, L2).
    public let meanLoss: Double
    /// Wall time of the epoch's training (sampling, forward, backward, Adam), without evaluation.
    public let seconds: Double
    public let rows: Int
    /// ADAR's S5 status counts over the epoch's rows; empty for other samplers.
    public let statusCounts: [RowStatus: Int]
    /// ADAR's calibration and generator statistics (S9); nil for other samplers.
    public let adar: ADAREpochStatistics?

    public var rowsPerSecond: Double { Double(rows) / seconds }
}

/// ADAR's statistics over one epoch's rows (spec S9).
public struct ADAREpochStatistics: Sendable {
    /// S9's calibration over the epoch's `transition` and `saturated` rows:
    /// `Y_b = 1[⟨e_u, x⁻⟩ > s⁻]` against the forward `π_b`, whatever the generator.
    public let calibration: CalibrationSummary
    /// The mean S5 timestep of the `transition` and `saturated` rows (`t*`, or `T`
    /// when saturated); NaN without such rows.
    public let meanTimestep: Double
    /// τ's statistics; nil under `forward` (τ exists only under `denoised`).
    public let tau: TauEpochStatistics?
}

/// τ and the `denoised` generator over one epoch (spec S9).
public struct TauEpochStatistics: Sendable {
    /// The mean over the epoch's rows of τ's `L_τ` before each batch's Adam step.
    public let meanLoss: Double
    /// Adam steps τ has taken so far (one per batch, kept across epochs).
    public let steps: Int
    /// False in the warm-up epochs, which synthesise with `forward`.
    public let synthesisedDenoised: Bool
    /// Rows whose `x⁻` is τ's `x̂_0`.
    public let denoisedRows: Int
    /// `transition`/`saturated` rows with `r_t > r_max`, which used `forward`.
    public let rMaxForwardRows: Int
    /// The mean `‖x̂_0 − x_0‖` over the denoised rows (binary64 sums, row order); NaN without any.
    public let meanDenoisedDistance: Double
}

/// A batch's mean loss and its gradient with respect to the ego embeddings.
public struct BatchGradient: Sendable {
    public let loss: Double
    /// `∂L/∂parameters`, `N × d`.
    public let gradient: [Float]
    /// ADAR's S5 status and timestep per row; empty for other samplers.
    public let statuses: [RowStatus]
    public let timesteps: [Int32]
    /// ADAR's per-row synthesis outcome for S9's statistics; nil for other samplers.
    public let synthesis: ADARBatchSynthesis?
    /// The candidate each row's negative came from, as an index into the row's candidates:
    /// one per row for DNS and AHNS, one per row and layer (`L + 1`) for MixGCF; empty otherwise.
    public let choices: [Int32]
}

/// What ADAR's synthesis gave each row of a batch (S6, S9), for S9's statistics.
public struct ADARBatchSynthesis: Sendable {
    /// The forward `π_t` (NaN on fallback rows), `s⁻` and `⟨e_u, x⁻⟩` per row.
    public let retentions: [Float], referenceNegativeScores: [Float], syntheticScores: [Float]
    /// Rows whose `x⁻` is τ's `x̂_0`, and `transition`/`saturated` rows the `r_max` guard sent to `forward`.
    public let denoisedRows: Int, rMaxForwardRows: Int
    /// `Σ ‖x̂_0 − x_0‖` over the denoised rows, in row order (binary64).
    public let denoisedDistanceSum: Double
}

extension ADARBatchSynthesis {
    /// The synthesis buffers' rows `rows`, in that order, for S9's statistics, with `‖x̂_0 − x_0‖` of
    /// the denoised ones (`x_0` row `positives[b]` of `itemTable`, `d` wide).
    init(_ synthesis: SynthesisBuffers, rows: [Int], itemTable: [Float], positives: [Int32], dimension d: Int) {
        var denoisedRows = 0, rMaxForwardRows = 0, distanceSum = 0.0
        let negatives = synthesis.syntheticNegatives
        for b in rows {
            if synthesis.forwardFallbacks[b] { rMaxForwardRows += 1 }
            guard synthesis.isDenoised(b) else { continue }
            denoisedRows += 1
            let x0 = Int(positives[b]) * d
            var squares = 0.0
            for k in 0..<d {
                let difference = Double(negatives[b * d + k]) - Double(itemTable[x0 + k])
                squares += difference * difference
            }
            distanceSum += squares.squareRoot()
        }
        self.init(retentions: rows.map { synthesis.retentions[$0] },
                  referenceNegativeScores: rows.map { synthesis.referenceNegativeScores[$0] },
                  syntheticScores: rows.map { synthesis.syntheticScores[$0] }, denoisedRows: denoisedRows,
                  rMaxForwardRows: rMaxForwardRows, denoisedDistanceSum: distanceSum)
    }
}

extension TauTrainer32 {
    /// τ at S9's initialisation, keyed by the run's seed (S8's key), for `steps` of the run's schedule.
    static func seeded(dimension: Int, steps: Int, seed: UInt64, learningRate: Double) throws(TrainingError) -> TauTrainer32 {
        do {
            return try TauTrainer32(network: TauNetwork32(dimension: dimension, steps: steps, seed: seed), learningRate: learningRate)
        } catch {
            throw .adar(error)
        }
    }
}

/// BPR training of MF or LightGCN with one of the four samplers, in binary32.
///
/// Deterministic given the seed, for any thread count: the initial
/// embeddings, each epoch's shuffle and each row's candidates come from
/// `SeededGenerator`s keyed by (seed, epoch, row); ADAR's noise is S8's
/// counter stream `(seed, stream = epoch, row = position in the epoch)`;
/// parallel loops use fixed chunks; and gradients are accumulated serially
/// in row order.
public final class Trainer {
    public let data: ImplicitFeedback
    public let configuration: TrainingConfiguration
    public let seed: UInt64
    /// The ego (free) embeddings, `N × d` with `N = U + I`: users first, then items.
    public var parameters: [Float]
    private var optimizer: Adam<Float>
    private let negatives: UniformNegatives
    private let graph: NormalizedGraph?
    private var synthesizer: ADARSynthesizer?
    /// τ and its Adam state under the `denoised` generator (S9); nil otherwise.
    public let tau: TauTrainer32?
    private let synthesis = SynthesisBuffers(), lossBuffers = LossBuffers()
    /// Every training pair `(user, item)`, in a fixed order.
    private let pairs: [(user: Int32, item: Int32)]
    /// Called by `trainEpoch` after each batch's loss and before its update, for white-box checks
    /// (S9's calibration row by row against the reference); nil in training.
    package var batchObserver: ((ObservedBatch) -> Void)?

    /// One batch as `trainEpoch` computed it: its rows, the embeddings they were scored with and the result.
    package struct ObservedBatch {
        package let epoch: Int, rowOffset: Int
        package let users: [Int32], items: [Int32], candidates: [Int32]
        /// The scored embeddings (`finalEmbeddings`) before the batch's update, `N × d`.
        package let scoredEmbeddings: [Float]
        package let step: BatchGradient
    }

    /// The most embedding values `(users + items) × dimension`: the trainer
    /// keeps about eight arrays of this size (parameters, Adam's moments,
    /// gradients, LightGCN's layers), 256 MiB each at the maximum.
    public static let maximumEmbeddingValues = 1 << 26

    public init(data: ImplicitFeedback, configuration: TrainingConfiguration, seed: UInt64) throws(TrainingError) {
        let count = (data.userCount + data.itemCount).multipliedReportingOverflow(by: configuration.dimension)
        guard !count.overflow, count.partialValue <= Self.maximumEmbeddingValues else {
            throw .modelTooLarge(values: count.overflow ? .max : count.partialValue, maximum: Self.maximumEmbeddingValues)
        }
        self.data = data
        self.configuration = configuration
        self.seed = seed
        negatives = try UniformNegatives(train: data.train, itemCount: data.itemCount)
        graph = configuration.backbone == .lightgcn ? NormalizedGraph(data) : nil
        if configuration.sampler == .adar {
            var adar = configuration.adar
            adar.l2 = 0
            synthesizer = ADARSynthesizer(schedule: configuration.schedule, configuration: adar)
        } else {
            synthesizer = nil
        }
        tau = try configuration.tauLearningRate.map { (rate) throws(TrainingError) in
            try TauTrainer32.seeded(dimension: configuration.dimension, steps: configuration.schedule.steps, seed: seed, learningRate: rate)
        }
        var rng = SeededGenerator(seed: seed)
        parameters = (0 ..< count.partialValue).map { _ in Float(rng.normal() * configuration.initialScale) }
        do {
            let adam = configuration.adam
            optimizer = try Adam(count: count.partialValue, learningRate: adam.learningRate, beta1: adam.beta1, beta2: adam.beta2,
                                 epsilon: adam.epsilon)
        } catch {
            throw .adar(error)
        }
        pairs = data.train.enumerated().flatMap { user, items in items.map { (Int32(user), $0) } }
    }

    private var nodeCount: Int { data.userCount + data.itemCount }

    /// Plants `mutation` in ADAR's synthesizer, for tests that must show a check rejects a wrong optimised path.
    package func plantSynthesizerMutation(_ mutation: SynthesizerMutation) {
        synthesizer = synthesizer.map { ADARSynthesizer(mutating: $0, mutation) }
    }

    /// The embeddings that are scored, `N × d`: the ego embeddings for MF,
    /// LightGCN's layer mean for LightGCN.
    public func finalEmbeddings(threads: Int) -> [Float] {
        guard let graph else { return parameters }
        return graph.smooth(parameters, dimension: configuration.dimension, layers: configuration.layers, threads: threads)
    }

    /// Full-ranking Recall@K / NDCG@K of the current model on one held-out split:
    /// `data.rankingTask(.validation)` while training and choosing, the test task
    /// only for a chosen model (docs/PROTOCOL.md). Ties as in `RankingMetrics`.
    public func evaluate(_ task: RankingTask, cutoffs: [Int] = [10, 20], threads: Int) -> RankingMetrics {
        let final = finalEmbeddings(threads: threads)
        let d = configuration.dimension, users = data.userCount, items = data.itemCount
        return RankingMetrics.evaluate(task, cutoffs: cutoffs) { user, scores in
            final.withUnsafeBufferPointer { table in
                let e = table.baseAddress!
                for item in 0..<items { scores[item] = Kernels32.dot(e + user * d, e + (users + item) * d, d) }
            }
        }
    }

    /// `evaluate`, refusing a model whose scores overflowed: the evaluation after
    /// `epoch` throws `.diverged` if any score is NaN or ±∞, so no recorded metric
    /// comes from a diverged model. Also returns the evaluation's wall time.
    public func checkedEvaluation(
        _ task: RankingTask, epoch: Int, cutoffs: [Int] = [10, 20], threads: Int
    ) throws(TrainingError) -> (metrics: RankingMetrics, seconds: Double) {
        let clock = ContinuousClock(), start = clock.now
        let metrics = evaluate(task, cutoffs: cutoffs, threads: threads)
        guard metrics.nonFiniteScores == 0 else {
            throw .diverged(epoch: epoch, batch: nil,
                            detail: "\(metrics.nonFiniteScores) scores ⟨e_u, e_i⟩ of the evaluation are NaN or ±∞ (binary32 overflow)")
        }
        return (metrics, (clock.now - start) / .seconds(1))
    }

    /// One pass over every training pair in a seeded random order.
    /// `epoch` (1-based) keys the shuffle, the candidates and ADAR's noise stream.
    public func trainEpoch(_ epoch: Int, threads: Int) throws(TrainingError) -> EpochStatistics {
        let clock = ContinuousClock(), start = clock.now
        var order = Array(pairs.indices)
        var shuffler = UniformNegatives.generator(seed: seed, epoch: epoch, row: .max)
        order.shuffle(using: &shuffler)
        var lossSum = 0.0
        var statusCounts = [Int](repeating: 0, count: RowStatus.allCases.count)
        var adar = ADAREpochAccumulator()
        for (batchIndex, batchStart) in stride(from: 0, to: order.count, by: configuration.batchSize).enumerated() {
            let batch = order[batchStart ..< Swift.min(batchStart + configuration.batchSize, order.count)]
            let users = batch.map { pairs[$0].user }, items = batch.map { pairs[$0].item }
            let candidates = drawCandidates(users: users, epoch: epoch, rowOffset: batchStart, threads: threads)
            let step: BatchGradient
            do {
                step = try lossAndGradient(
                    users: users, items: items, candidates: candidates, epoch: epoch, rowOffset: UInt64(batchStart), threads: threads
                ) { (input) throws(ADARError) -> SynthesisGenerator32 in
                    guard let tau, let synthesizer, case let .denoised(settings) = configuration.generator else { return .forward }
                    // S9's order: τ's step on the batch (scored embeddings already computed), then synthesis with its new parameters.
                    let tauLoss = try tau.step(input, synthesizer: synthesizer, seed: seed, epoch: epoch,
                                               rowOffset: UInt64(batchStart), threads: threads)
                    adar.tauLossSum += Double(tauLoss) * Double(input.rows)
                    return epoch <= settings.tauWarmup ? .forward : .denoised(tau.network, rMax: settings.rMax)
                }
            } catch let .adar(error) {
                // ADAR refuses non-finite embeddings (S5) before the loss could show them.
                switch error {
                case .nonFinite, .overflow: throw .diverged(epoch: epoch, batch: batchIndex + 1, detail: "ADAR: \(error)")
                default: throw .adar(error)
                }
            } catch {
                throw error
            }
            guard step.loss.isFinite else {
                throw .diverged(epoch: epoch, batch: batchIndex + 1, detail: "the batch's mean loss is \(nonFiniteText(step.loss))")
            }
            lossSum += step.loss * Double(users.count)
            for status in step.statuses { statusCounts[RowStatus.allCases.firstIndex(of: status)!] += 1 }
            if let synthesis = step.synthesis { adar.record(synthesis, statuses: step.statuses, timesteps: step.timesteps) }
            batchObserver?(ObservedBatch(epoch: epoch, rowOffset: batchStart, users: users, items: items, candidates: candidates,
                                         scoredEmbeddings: finalEmbeddings(threads: threads), step: step))
            do { try optimizer.step(&parameters, gradient: step.gradient, threads: threads) } catch { throw .adar(error) }
        }
        // Once per epoch: an embedding no sampled row used would not show in any batch's loss.
        if let index = parameters.firstIndex(where: { !$0.isFinite }) {
            let node = index / configuration.dimension
            let owner = node < data.userCount ? "user \(node)" : "item \(node - data.userCount)"
            throw .diverged(epoch: epoch, batch: nil,
                            detail: "the embedding of \(owner) is \(nonFiniteText(Double(parameters[index]))) after the epoch's last step")
        }
        var adarStatistics: ADAREpochStatistics?
        if synthesizer != nil {
            var tauStatistics: TauEpochStatistics?
            if let tau, case let .denoised(settings) = configuration.generator {
                tauStatistics = adar.tauStatistics(rows: order.count, steps: tau.stepCount, synthesisedDenoised: epoch > settings.tauWarmup)
            }
            adarStatistics = ADAREpochStatistics(calibration: adar.calibration.summary, meanTimestep: adar.meanTimestep, tau: tauStatistics)
        }
        return EpochStatistics(epoch: epoch, meanLoss: lossSum / Double(Swift.max(order.count, 1)),
                               seconds: (clock.now - start) / .seconds(1), rows: order.count,
                               statusCounts: Dictionary(uniqueKeysWithValues: zip(RowStatus.allCases, statusCounts).filter { $0.1 > 0 }),
                               adar: adarStatistics)
    }

    /// `B × C` candidate items (`C` = 1 for uniform, `M` otherwise), row `b`
    /// drawn from the generator of (seed, epoch, rowOffset + b).
    public func drawCandidates(users: [Int32], epoch: Int, rowOffset: Int, threads: Int) -> [Int32] {
        let perRow = configuration.candidatesPerRow, negatives = negatives, seed = seed
        var candidates = [Int32](repeating: 0, count: users.count * perRow)
        candidates.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            Parallel.forEachChunk(count: users.count, threads: threads) { rows in
                for b in rows {
                    var rng = UniformNegatives.generator(seed: seed, epoch: epoch, row: UInt64(rowOffset + b))
                    for m in 0..<perRow { out[b * perRow + m] = negatives.draw(for: Int(users[b]), using: &rng) }
                }
            }
        }
        return candidates
    }

    /// The mean loss of a batch and its gradient with respect to `parameters`.
    ///
    /// `users` and `items` are ids (items 0-based in the catalogue);
    /// `candidates` holds `C` item ids per row. The sampler picks `j` from
    /// them (uniform: the first; DNS/AHNS: by `NegativeRule` on the current
    /// final embeddings; ADAR: `j = j_1`, S7, with the whole row as the pool,
    /// and `x⁻` from `generator`, S9). `noiseStream` is the epoch: it keys MixGCF's
    /// draws and ADAR's noise. Changes nothing: `trainEpoch` also steps τ (S9).
    public func lossAndGradient(
        users: [Int32], items: [Int32], candidates: [Int32], noiseStream: UInt32 = 0, rowOffset: UInt64 = 0,
        generator: SynthesisGenerator32 = .forward, threads: Int
    ) throws(TrainingError) -> BatchGradient {
        try lossAndGradient(users: users, items: items, candidates: candidates, epoch: Int(noiseStream), rowOffset: rowOffset,
                            threads: threads) { _ throws(ADARError) in generator }
    }

    /// `lossAndGradient` with ADAR's generator chosen by `prepareGenerator` on the batch's
    /// rows once the scored embeddings are computed (S9's steps 1–3: τ steps there).
    private func lossAndGradient(
        users: [Int32], items: [Int32], candidates: [Int32], epoch: Int, rowOffset: UInt64, threads: Int,
        prepareGenerator: (IndexedRows32) throws(ADARError) -> SynthesisGenerator32
    ) throws(TrainingError) -> BatchGradient {
        let noiseStream = UInt32(truncatingIfNeeded: epoch)
        let d = configuration.dimension, userCount = Int32(data.userCount), rows = users.count
        let perRow = candidates.count / Swift.max(rows, 1)
        precondition(items.count == rows && candidates.count == rows * perRow && perRow >= 1)
        // MixGCF mixes every layer's embeddings; the others need only the layer mean.
        let layerEmbeddings = configuration.sampler == .mixgcf
            ? graph?.layers(parameters, dimension: d, layers: configuration.layers, threads: threads) ?? [parameters] : nil
        let final = layerEmbeddings.map { graph == nil ? parameters : Self.layerMean($0) } ?? finalEmbeddings(threads: threads)
        var gradient = [Float](repeating: 0, count: final.count)
        var layerGradients: [[Float]] = []
        var choices: [Int32] = []
        let scale = 1 / Float(rows)
        var lossSum = 0.0
        var statuses: [RowStatus] = [], timesteps: [Int32] = []
        var batchSynthesis: ADARBatchSynthesis?
        let itemNodes = items.map { $0 + userCount }
        let candidateNodes = candidates.map { $0 + userCount }
        var negativeNodes = [Int32](repeating: 0, count: rows)

        if let synthesizer {
            let input: IndexedRows32
            do {
                input = try IndexedRows32(dimension: d, poolSize: perRow, userTable: final, itemTable: final,
                                          users: users, positives: itemNodes, pool: candidateNodes)
                let generator = try prepareGenerator(input)
                try synthesizer.synthesize(input, noise: .counter(seed: seed, stream: noiseStream, rowOffset: rowOffset),
                                           generator: generator, into: synthesis, threads: threads)
                try synthesizer.loss(input, synthesis: synthesis, into: lossBuffers, threads: threads)
            } catch {
                throw .adar(error)
            }
            let throughFallback = configuration.adar.fallback == .hardest && configuration.adar.gradientFlow == .through
            statuses = Array(synthesis.statuses)
            timesteps = Array(synthesis.timesteps)
            batchSynthesis = ADARBatchSynthesis(synthesis, rows: Array(0..<rows), itemTable: final, positives: itemNodes, dimension: d)
            gradient.withUnsafeMutableBufferPointer { g in
                for b in 0..<rows {
                    negativeNodes[b] = candidateNodes[b * perRow]
                    lossSum += Double(lossBuffers.losses[b])
                    let g = g.baseAddress!
                    Kernels32.axpy(scale, lossBuffers.userGradients.baseAddress! + b * d, g + Int(users[b]) * d, d)
                    Kernels32.axpy(scale, lossBuffers.positiveGradients.baseAddress! + b * d, g + Int(itemNodes[b]) * d, d)
                    Kernels32.axpy(scale, lossBuffers.negativeGradients.baseAddress! + b * d, g + Int(negativeNodes[b]) * d, d)
                    if throughFallback {
                        let hardest = candidateNodes[b * perRow + Int(synthesis.hardestCandidates[b])]
                        Kernels32.axpy(scale, lossBuffers.fallbackGradients.baseAddress! + b * d, g + Int(hardest) * d, d)
                    }
                }
            }
        } else if let layerEmbeddings {
            layerGradients = [[Float]](repeating: gradient, count: layerEmbeddings.count)
            choices = mixGCF(final, layers: layerEmbeddings, users: users, itemNodes: itemNodes, candidateNodes: candidateNodes,
                             perRow: perRow, epoch: epoch, rowOffset: rowOffset, scale: scale,
                             gradient: &gradient, layerGradients: &layerGradients, negatives: &negativeNodes, lossSum: &lossSum)
        } else {
            // Choose j per row in parallel, then accumulate BPR's gradient serially in row order.
            var realWeight = [Float](repeating: 0, count: rows), rowLoss = realWeight
            var picks = [Int32](repeating: 0, count: rows)
            chooseNegatives(final, users: users, itemNodes: itemNodes, candidateNodes: candidateNodes, perRow: perRow,
                            negatives: &negativeNodes, picks: &picks, weights: &realWeight, losses: &rowLoss, threads: threads)
            if configuration.sampler == .dns || configuration.sampler == .ahns { choices = picks }
            final.withUnsafeBufferPointer { e in
                gradient.withUnsafeMutableBufferPointer { g in
                    let e = e.baseAddress!, g = g.baseAddress!
                    for b in 0..<rows {
                        lossSum += Double(rowLoss[b])
                        let w = realWeight[b] * scale
                        let u = Int(users[b]) * d, i = Int(itemNodes[b]) * d, j = Int(negativeNodes[b]) * d
                        // ∂softplus(−(s_ui − s_uj)) = −σ(−margin)·∂margin.
                        for k in 0..<d {
                            g[u + k] -= w * (e[i + k] - e[j + k])
                            g[i + k] -= w * e[u + k]
                            g[j + k] += w * e[u + k]
                        }
                    }
                }
            }
        }

        var ego: [Float]
        if layerGradients.isEmpty {
            ego = graph.map { $0.smooth(gradient, dimension: d, layers: configuration.layers, threads: threads) } ?? gradient
        } else {
            // The layer mean spreads the final embeddings' gradient evenly over the layers.
            let share = 1 / Float(layerGradients.count)
            for l in layerGradients.indices {
                for k in gradient.indices { layerGradients[l][k] += share * gradient[k] }
            }
            ego = graph?.layerAdjoint(layerGradients, dimension: d, threads: threads) ?? layerGradients[0]
        }
        // L2 on the row's ego embeddings (u, i, j), λ/2·‖·‖² each, per row.
        let lambda = Float(configuration.l2)
        var squares = 0.0
        parameters.withUnsafeBufferPointer { p in
            ego.withUnsafeMutableBufferPointer { g in
                func regularise(_ node: Int32) {
                    let row = p.baseAddress! + Int(node) * d
                    squares += Double(Kernels32.dot(row, row, d))
                    Kernels32.axpy(lambda * scale, row, g.baseAddress! + Int(node) * d, d)
                }
                for b in 0..<rows {
                    regularise(users[b])
                    regularise(itemNodes[b])
                    regularise(negativeNodes[b])
                }
            }
        }
        lossSum += configuration.l2 / 2 * squares
        return BatchGradient(loss: lossSum / Double(rows), gradient: ego, statuses: statuses, timesteps: timesteps,
                             synthesis: batchSynthesis, choices: choices)
    }

    /// The mean of `L + 1` layers, summed in layer order and scaled once, as `NormalizedGraph.smooth` does.
    static func layerMean(_ layers: [[Float]]) -> [Float] {
        var total = layers[0]
        for layer in layers.dropFirst() {
            for k in total.indices { total[k] += layer[k] }
        }
        let scale = 1 / Float(layers.count)
        return total.map { $0 * scale }
    }

    /// MixGCF's rows (`MixGCFRule`), serially in row order: BPR against the synthetic negative, whose
    /// gradient goes to the positive's and the chosen candidates' layer embeddings. `j` for the L2 term
    /// is the candidate chosen in layer 0 (the authors regularise the mixed layer-0 negative instead).
    /// Returns the choices, `L + 1` per row.
    private func mixGCF(
        _ final: [Float], layers: [[Float]], users: [Int32], itemNodes: [Int32], candidateNodes: [Int32], perRow: Int,
        epoch: Int, rowOffset: UInt64, scale: Float,
        gradient: inout [Float], layerGradients: inout [[Float]], negatives: inout [Int32], lossSum: inout Double
    ) -> [Int32] {
        let d = configuration.dimension, layerCount = layers.count, share = 1 / Float(layerCount)
        var choices = [Int32](repeating: 0, count: users.count * layerCount)
        var negative = [Float](repeating: 0, count: d)
        for b in users.indices {
            let u = Int(users[b]) * d, i = Int(itemNodes[b]) * d
            let alphas = MixGCFRule.alphas(seed: seed, epoch: epoch, row: rowOffset + UInt64(b), layers: layerCount - 1,
                                           maximum: Float(configuration.positiveMixingMax))
            for k in 0..<d { negative[k] = 0 }
            for l in 0..<layerCount {
                let pick = layers[l].withUnsafeBufferPointer { e in
                    final.withUnsafeBufferPointer { f in
                        MixGCFRule.choose(user: f.baseAddress! + u, positive: e.baseAddress! + i, alpha: alphas[l],
                                          candidates: perRow, dimension: d) { m in e.baseAddress! + Int(candidateNodes[b * perRow + m]) * d }
                    }
                }
                choices[b * layerCount + l] = Int32(pick)
                let c = Int(candidateNodes[b * perRow + pick]) * d
                for k in 0..<d { negative[k] += share * (alphas[l] * layers[l][i + k] + (1 - alphas[l]) * layers[l][c + k]) }
            }
            negatives[b] = candidateNodes[b * perRow + Int(choices[b * layerCount])]
            var margin: Float = 0
            for k in 0..<d { margin += final[u + k] * (final[i + k] - negative[k]) }
            lossSum += Double(softplus(-margin))
            let w = logistic(-margin) * scale
            for l in 0..<layerCount {
                let c = Int(candidateNodes[b * perRow + Int(choices[b * layerCount + l])]) * d
                let toPositive = w * share * alphas[l], toCandidate = w * share * (1 - alphas[l])
                for k in 0..<d {
                    layerGradients[l][i + k] += toPositive * final[u + k]
                    layerGradients[l][c + k] += toCandidate * final[u + k]
                }
            }
            for k in 0..<d {
                gradient[u + k] -= w * (final[i + k] - negative[k])
                gradient[i + k] -= w * final[u + k]
            }
        }
        return choices
    }

    /// DNS / AHNS / uniform choice of `j` (its node in `negatives`, its index among the row's
    /// candidates in `picks`) and the BPR row terms `softplus(−margin)`, `σ(−margin)`.
    private func chooseNegatives(
        _ final: [Float], users: [Int32], itemNodes: [Int32], candidateNodes: [Int32], perRow: Int,
        negatives: inout [Int32], picks: inout [Int32], weights: inout [Float], losses: inout [Float], threads: Int
    ) {
        let d = configuration.dimension, sampler = configuration.sampler, ahns = configuration.ahns
        final.withUnsafeBufferPointer { e in
            negatives.withUnsafeMutableBufferPointer { chosen in
                picks.withUnsafeMutableBufferPointer { picked in
                    weights.withUnsafeMutableBufferPointer { weight in
                        losses.withUnsafeMutableBufferPointer { loss in
                            nonisolated(unsafe) let e = e.baseAddress!, chosen = chosen, picked = picked
                            nonisolated(unsafe) let weight = weight, loss = loss
                            Parallel.forEachChunk(count: users.count, threads: threads) { rows in
                                var scores = [Float](repeating: 0, count: perRow)
                                for b in rows {
                                    let u = e + Int(users[b]) * d
                                    let positive = Kernels32.dot(u, e + Int(itemNodes[b]) * d, d)
                                    for m in 0..<perRow { scores[m] = Kernels32.dot(u, e + Int(candidateNodes[b * perRow + m]) * d, d) }
                                    let pick = scores.withUnsafeBufferPointer { s in
                                        switch sampler {
                                        case .dns: NegativeRule.dns(s)
                                        case .ahns: NegativeRule.ahns(positiveScore: positive, s, ahns)
                                        case .uniform, .adar, .mixgcf: 0
                                        }
                                    }
                                    picked[b] = Int32(pick)
                                    chosen[b] = candidateNodes[b * perRow + pick]
                                    let margin = positive - scores[pick]
                                    loss[b] = softplus(-margin)
                                    weight[b] = logistic(-margin)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// "NaN", "+∞" or "−∞", whatever the sign bit of a NaN.
func nonFiniteText(_ x: Double) -> String { x.isNaN ? "NaN" : x > 0 ? "+∞" : "−∞" }

/// `softplus(x) = max(x, 0) + log1p(exp(−|x|))` (S7; never the naive form).
@inline(__always)
func softplus(_ x: Float) -> Float { Swift.max(x, 0) + log1pf(expf(-abs(x))) }

/// `1/(1 + e^{−x})` without overflow.
@inline(__always)
func logistic(_ x: Float) -> Float { x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x)) }

/// Sums of one epoch's ADAR batches for `ADAREpochStatistics`, in batch order.
struct ADAREpochAccumulator {
    var calibration = CalibrationAccumulator()
    var tauLossSum = 0.0
    var timestepSum = 0.0, timestepRows = 0
    var denoisedRows = 0, rMaxForwardRows = 0, distanceSum = 0.0

    mutating func record(_ synthesis: ADARBatchSynthesis, statuses: [RowStatus], timesteps: [Int32]) {
        for b in statuses.indices {
            calibration.record(status: statuses[b], retention: Double(synthesis.retentions[b]),
                               syntheticScore: Double(synthesis.syntheticScores[b]),
                               referenceNegativeScore: Double(synthesis.referenceNegativeScores[b]))
            if !statuses[b].isFallback {
                timestepSum += Double(timesteps[b])
                timestepRows += 1
            }
        }
        denoisedRows += synthesis.denoisedRows
        rMaxForwardRows += synthesis.rMaxForwardRows
        distanceSum += synthesis.denoisedDistanceSum
    }

    var meanTimestep: Double { timestepRows > 0 ? timestepSum / Double(timestepRows) : .nan }

    func tauStatistics(rows: Int, steps: Int, synthesisedDenoised: Bool) -> TauEpochStatistics {
        TauEpochStatistics(meanLoss: tauLossSum / Double(Swift.max(rows, 1)), steps: steps, synthesisedDenoised: synthesisedDenoised,
                           denoisedRows: denoisedRows, rMaxForwardRows: rMaxForwardRows,
                           meanDenoisedDistance: denoisedRows > 0 ? distanceSum / Double(denoisedRows) : .nan)
    }
}
