import Foundation
import Testing
import ADARCore
import ADARReference
import ADARData
import ADARTraining
import ADAR
@testable import ADARVerification

/// S9 "Calibration of the transition point", row by row: what `Trainer.trainEpoch` records for S9's
/// statistics (status, `t`, `π_b`, `⟨e_u, x⁻⟩`, `s⁻`, hence `Y_b`) against the binary64 reference
/// (`ReferenceADAR.synthesize`: S4/S5 transition point, S8 noise, S6 synthesis) on the same binary32
/// embeddings, before the batch's update, and the same S8 counter noise `(seed, epoch, row)`.
///
/// Tolerances are Proofs/S6-binary32-equivalence.md's, computed per row by `EquivalenceAnalysis`:
/// S6/E1 — the binary32 `(status, t)` is one the analysis allows (the reference's, except on boundary
/// rows); S6/E2 — `π` within the `Φ` enclosure at that `t`, `s⁻` and `⟨e_u, x⁻⟩` within theirs, with
/// the binary32 noise within S8/B3's `12·2⁻²⁴·(|ε| + 2⁻²⁴)` of S8's binary64 normals. So `Y_b` may
/// differ from the binary64 event only where the two score enclosures overlap, and the epoch's
/// `Σ(Y_b − π_b)` only by the allowance those rows give (`EpochTally.allowance`).
///
/// The statistic itself (S9/C1) cannot see a bug that moves `π` and `x⁻` together (σ dropped from
/// both keeps `Y_b ~ Bernoulli(π_b)`): the per-row check does.
@Suite("S9 calibration per row: the trainer's recorded π and Y against the binary64 reference")
struct CalibrationPerRowTests {
    /// The run's seed (`ADAR_SEED` replays another); every draw of the run is keyed by it.
    static let seed: UInt64 = ProcessInfo.processInfo.environment["ADAR_SEED"].flatMap(UInt64.init) ?? 2
    static let replay = "replay: ADAR_SEED=\(seed) swift test --disable-xctest --filter CalibrationPerRowTests"

    /// A short run with ADAR `forward` on synthetic data: ρ and σ chosen so that both `transition`
    /// and `saturated` rows occur, batches of 128 so that row offsets cross batches.
    static func trainer(seed: UInt64, backbone: Backbone = .mf) throws -> Trainer {
        let data = try ImplicitFeedback.synthetic(users: 150, items: 200, interactionsPerUser: 16, dimension: 6, seed: 11)
        let adar = try ADARConfiguration(rho: 0.4, sigma: 0.15, fallback: .skip, augmentationWeight: 0.5, gradientFlow: .through)
        let configuration = try TrainingConfiguration(
            backbone: backbone, sampler: .adar, poolSize: 2, adar: adar, schedule: try NoiseSchedule(.defaultCosine, steps: 200),
            dimension: 12, batchSize: 128, epochs: 5, l2: 1e-3, adam: AdamParameters(learningRate: 0.02), initialScale: 0.3)
        return try Trainer(data: data, configuration: configuration, seed: seed)
    }

    /// Trains `epochs` epochs with every batch checked; `corrupt` plants a bug in what was recorded.
    static func checkedRun(
        _ trainer: Trainer, epochs: Int = 5, corrupt: @escaping (RecordedRows) -> RecordedRows = { $0 }
    ) throws -> [EpochTally] {
        var tallies: [EpochTally] = []
        var failure: (any Error)?
        defer { trainer.batchObserver = nil }   // the observer holds the trainer
        trainer.batchObserver = { batch in
            guard failure == nil else { return }
            do {
                try CalibrationRowCheck.check(batch, recorded: corrupt(RecordedRows(batch)), trainer: trainer,
                                              into: &tallies[tallies.count - 1])
            } catch {
                failure = error
            }
        }
        for epoch in 1...epochs {
            tallies.append(EpochTally(epoch: epoch))
            let statistics = try trainer.trainEpoch(epoch, threads: 2)
            if let failure { throw failure }
            tallies[epoch - 1].recordedSummary = statistics.adar?.calibration
        }
        return tallies
    }

    @Test("S9/C1 per row: every recorded status, t, π, s⁻, ⟨e_u, x⁻⟩ and Y is within S6/E1–E2 of binary64; Z agrees within the allowance",
          arguments: [Backbone.mf, .lightgcn])
    func recordedRowsMatchTheReference(backbone: Backbone) throws {
        let tallies = try Self.checkedRun(Self.trainer(seed: Self.seed, backbone: backbone))
        for tally in tallies {
            #expect(tally.discrepancies.isEmpty, "\(backbone): \(tally.discrepancies.prefix(5)) — \(Self.replay)")
            let summary = try #require(tally.recordedSummary)
            // The epoch's statistic is the one of exactly these rows, with Y = 1[⟨e_u, x⁻⟩ > s⁻].
            #expect(summary.rows == tally.binary32.rows && summary.successes == tally.binary32.successes,
                    "\(backbone) epoch \(tally.epoch): recorded \(summary.rows) rows, \(summary.successes) with Y = 1; recomputed \(tally.binary32) — \(Self.replay)")
            #expect(abs(tally.binary32.excess - tally.binary64.excess) <= tally.allowance,
                    "\(backbone) epoch \(tally.epoch): Σ(Y − π) \(tally.binary32.excess) (binary32) vs \(tally.binary64.excess) (binary64), allowance \(tally.allowance) — \(Self.replay)")
        }
        // The run exercises what the check is about: both statuses S9 counts, on thousands of rows.
        let rows = tallies.reduce(0) { $0 + $1.binary32.rows }, saturated = tallies.reduce(0) { $0 + $1.saturatedRows }
        #expect(rows >= 2000 && saturated >= 20 && saturated < rows, "\(backbone): \(rows) calibration rows, \(saturated) saturated — \(Self.replay)")
    }

    /// σ dropped from both `n` (hence `π`) and `x⁻` keeps `Y_b ~ Bernoulli(π_b)`: at the default seed the
    /// recorded Z of the 5 epochs are −0.32, −1.10, 0.20, 0.29, 0.28, while 843 of epoch 1's rows are rejected.
    @Test("the per-row check rejects π computed with σ dropped (S2, S4.a), a bug S9's Z does not see")
    func rejectsMissingSigma() throws {
        let trainer = try Self.trainer(seed: Self.seed)
        trainer.plantSynthesizerMutation(.missingSigma)
        let rejected = try Self.checkedRun(trainer, epochs: 1)[0].discrepancies
        #expect(rejected.contains { $0.contains("π") }, "\(rejected.prefix(3))")
    }

    @Test("the per-row check rejects the transition point read one step early (ᾱ_{t−1}, S4.f)")
    func rejectsPreviousAlphaBar() throws {
        let trainer = try Self.trainer(seed: Self.seed)
        trainer.plantSynthesizerMutation(.previousAlphaBar)
        let rejected = try Self.checkedRun(trainer, epochs: 1)[0].discrepancies
        #expect(!rejected.isEmpty, "no row rejected")
    }

    @Test("the per-row check rejects Y recorded from the neighbouring row's synthetic score")
    func rejectsShiftedSyntheticScores() throws {
        let rejected = try Self.checkedRun(Self.trainer(seed: Self.seed), epochs: 1) { recorded in
            var shifted = recorded
            shifted.syntheticScores = Array(recorded.syntheticScores.dropFirst()) + recorded.syntheticScores.prefix(1)
            return shifted
        }[0].discrepancies
        #expect(rejected.contains { $0.contains("⟨e_u, x⁻⟩") }, "\(rejected.prefix(3))")
    }
}

/// What the trainer recorded for S9's statistics per row of one batch (`BatchGradient`, `ADARBatchSynthesis`).
struct RecordedRows {
    var statuses: [RowStatus], timesteps: [Int32]
    var retentions: [Float], referenceNegativeScores: [Float], syntheticScores: [Float]

    init(_ batch: Trainer.ObservedBatch) throws {
        guard let synthesis = batch.step.synthesis else { throw CalibrationRowCheck.Failure.noSynthesis(epoch: batch.epoch) }
        statuses = batch.step.statuses
        timesteps = batch.step.timesteps
        retentions = synthesis.retentions
        referenceNegativeScores = synthesis.referenceNegativeScores
        syntheticScores = synthesis.syntheticScores
    }
}

/// `Σ Y_b`, `Σ π_b` over one side's `transition`/`saturated` rows.
struct CalibrationSums: CustomStringConvertible {
    var rows = 0, successes = 0, expected = 0.0

    var excess: Double { Double(successes) - expected }
    var description: String { "\(rows) rows, \(successes) with Y = 1, Σπ = \(expected)" }

    mutating func add(retention: Double, outcome: Bool) {
        rows += 1
        expected += retention
        if outcome { successes += 1 }
    }
}

/// One epoch of the per-row check.
struct EpochTally {
    let epoch: Int
    var binary32 = CalibrationSums(), binary64 = CalibrationSums()
    var saturatedRows = 0
    /// The most `|Σ(Y − π)|` of binary32 may differ from binary64's: the π radii, plus 1 for each row
    /// whose Y the score enclosures leave open or whose status or t is a boundary outcome.
    var allowance = 0.0
    var discrepancies: [String] = []
    var recordedSummary: CalibrationSummary?
}

/// The per-row comparison of one observed batch with the binary64 reference.
enum CalibrationRowCheck {
    enum Failure: Error { case noSynthesis(epoch: Int) }

    /// Checks `recorded`, the rows of `batch` as recorded, against the reference on `batch`'s embeddings and noise.
    static func check(_ batch: Trainer.ObservedBatch, recorded: RecordedRows, trainer: Trainer, into tally: inout EpochTally) throws {
        let configuration = trainer.configuration, d = configuration.dimension, users = trainer.data.userCount
        let schedule = configuration.schedule, adar = configuration.adar
        let rows = batch.users.count, poolSize = batch.candidates.count / rows
        let table = batch.scoredEmbeddings
        let userNode = { (b: Int) in Int(batch.users[b]) }
        let itemNode = { (item: Int32) in users + Int(item) }
        func vector(_ node: Int) -> ArraySlice<Float> { table[node * d ..< (node + 1) * d] }
        let widened = { (nodes: [Int]) in nodes.flatMap { vector($0).map(Double.init) } }
        let reference = try ReferenceADAR.synthesize(
            ADARBatch(rows: rows, dimension: d, poolSize: poolSize, users: widened((0..<rows).map(userNode)),
                      positives: widened(batch.items.map(itemNode)), pool: widened(batch.candidates.map(itemNode)),
                      noise: .counter(seed: trainer.seed, stream: UInt32(batch.epoch), rowOffset: UInt64(batch.rowOffset))),
            schedule: schedule, configuration: adar)
        let noise = GaussianNoise(seed: trainer.seed, stream: UInt32(batch.epoch))

        for b in 0..<rows {
            let row = batch.rowOffset + b, status = recorded.statuses[b], t = Int(recorded.timesteps[b])
            let exact = reference[b]
            func reject(_ what: String) { tally.discrepancies.append("epoch \(batch.epoch) row \(row): \(what)") }
            if !exact.status.isFallback { tally.binary64.add(retention: exact.retention, outcome: exact.syntheticScore > exact.referenceNegativeScore) }

            let user = Array(vector(userNode(b))), positive = Array(vector(itemNode(batch.items[b])))
            let pool = (0..<poolSize).map { Array(vector(itemNode(batch.candidates[b * poolSize + $0]))) }
            let analysis = user.withUnsafeBufferPointer { u in
                positive.withUnsafeBufferPointer { x in
                    withBuffers(pool) { candidates in
                        EquivalenceAnalysis.analyse(user: u, positive: x, candidates: candidates, schedule: schedule, configuration: adar)
                    }
                }
            }
            // S6/E1: the binary32 (status, t) is allowed; off the boundary it is the reference's.
            guard analysis.allows(status: status, timestep: t, steps: schedule.steps) else {
                reject("(status, t) = (\(status), \(t)) is outside S6/E1's analysis (binary64: (\(exact.status), \(exact.timestep)))")
                continue
            }
            let sameOutcome = status == exact.status && t == exact.timestep
            if !sameOutcome && !analysis.isBoundary {
                reject("(status, t) = (\(status), \(t)) differs from binary64's (\(exact.status), \(exact.timestep)) off the boundary")
            }
            let sNeg = Double(recorded.referenceNegativeScores[b]), sNegBound = analysis.negativeScore
            if abs(sNeg - sNegBound.value) > sNegBound.radius { reject("s⁻ = \(sNeg) is outside S6/E2's \(sNegBound)") }
            if status.isFallback {
                if !exact.status.isFallback { tally.allowance += 1 }   // counted by binary64 only
                continue
            }
            if status == .saturated { tally.saturatedRows += 1 }
            // S6/E2 at the binary32 row's own t: π, and ⟨e_u, x⁻⟩ with S8/B3's bound on the binary32 normals.
            let pi = Double(recorded.retentions[b]), piBound = EquivalenceAnalysis.retention(analysis, timestep: t, schedule: schedule)
            if abs(pi - piBound.value) > piBound.radius { reject("π = \(pi) is outside S6/E2's \(piBound)") }
            let epsilon = noise.row(UInt64(row), dimension: d)
            let score = Double(recorded.syntheticScores[b])
            let scoreBound = user.withUnsafeBufferPointer { u in
                positive.withUnsafeBufferPointer { x in
                    EquivalenceAnalysis.score(user: u, EquivalenceAnalysis.syntheticNegative(
                        positive: x, epsilon: epsilon, noiseError: Binary32Model.counterNoiseError,
                        timestep: t, schedule: schedule, sigma: adar.sigma))
                }
            }
            if abs(score - scoreBound.value) > scoreBound.radius { reject("⟨e_u, x⁻⟩ = \(score) is outside S6/E2's \(scoreBound)") }
            tally.binary32.add(retention: pi, outcome: score > sNeg)
            // Y is the binary64 event unless the two enclosures overlap.
            let yOpen = scoreBound.lower <= sNegBound.upper && sNegBound.lower <= scoreBound.upper
            tally.allowance += sameOutcome ? piBound.radius + (yOpen ? 1 : 0) : 1
        }
    }

    /// `body` with buffers over each of `arrays`.
    static func withBuffers<R>(_ arrays: [[Float]], _ body: ([UnsafeBufferPointer<Float>]) -> R) -> R {
        var buffers: [UnsafeBufferPointer<Float>] = []
        func nest(_ k: Int) -> R {
            guard k < arrays.count else { return body(buffers) }
            return arrays[k].withUnsafeBufferPointer { buffer in
                buffers.append(buffer)
                return nest(k + 1)
            }
        }
        return nest(0)
    }
}
