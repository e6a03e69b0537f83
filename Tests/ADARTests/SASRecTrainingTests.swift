import Foundation
import Testing
import ADARCore
import ADARData
import ADARLayers
import ADARTraining
import ADAREvaluation
import ADARExperiment

/// SASRec training with S10's rows, negatives and ADAR term (issue 11 §2; docs/TRAINING.md "SASRec").
@Suite("SASRec training: S10 rows and candidates, the ADAR term's gradient, learning, determinism")
struct SASRecTrainingTests {
    // MARK: S10's ADAR term against central differences (binary64)

    static let tiny = try! SASRecConfiguration(items: 6, dimension: 4, length: 4, blocks: 1, heads: 1, dropout: 0.2)
    /// Two left-padded sequences; row 1's input is padding and its target an item (S10's first row).
    static let ids: [Int32] = [0, 0, 1, 2, 3, 4, 5, 6]
    static let positives: [Int32] = [0, 1, 2, 3, 4, 5, 6, 2]
    static let negatives: [Int32] = [0, 5, 6, 4, 1, 2, 3, 5]
    /// `w` per row: none on the padding row, 0 on a "skipped fallback" row, 0.5 on one.
    static let weights: [Double] = [0, 1, 1, 0.5, 1, 1, 0, 1]
    static let offsets: [Double] = (0 ..< 8 * 4).map { sin(Double($0) * 1.7) * 0.6 }
    static let dropout = try! Dropout(seed: 3, epoch: 1, rate: 0.2, rowOffset: 0)

    /// `x⁻` per row: the constant offsets (`detach`), or `scale·e_{pos} + offset` (`through`, scale 0.8).
    static func synthetic(_ encoder: SASRecEncoder<Double>, through: Bool) -> SyntheticNegatives<Double> {
        let d = tiny.dimension
        var x = offsets
        if through {
            for r in 0..<8 where positives[r] != 0 {
                for k in 0..<d { x[r * d + k] += 0.8 * encoder.parameters[Int(positives[r]) * d + k] }
            }
        }
        return SyntheticNegatives(negatives: x, weights: weights, throughItems: through ? positives : [Int32](repeating: 0, count: 8),
                                  throughScales: [Double](repeating: through ? 0.8 : 0, count: 8))
    }

    /// BCE + S10's term; with `gradient`, also the backward (the term's gradient included when `withTerm`).
    static func loss(_ encoder: SASRecEncoder<Double>, through: Bool, withTerm: Bool = true, gradient: inout [Double]) throws -> Double {
        let workspace = SASRecWorkspace<Double>(configuration: tiny, sequences: 2)
        try encoder.forward(ids, sequences: 2, dropout: dropout, workspace: workspace, threads: 1)
        let bce = try SequenceBCELoss.lossAndGradient(encoder: encoder, workspace: workspace, sequences: 2, positives: positives,
                                                      negatives: negatives, gradient: &gradient)
        var term = 0.0
        if withTerm {
            term = try SequenceADARTerm.addLossAndGradient(encoder: encoder, workspace: workspace, sequences: 2, trainingRows: bce.rows,
                                                           synthetic: synthetic(encoder, through: through), gradient: &gradient)
        }
        try encoder.backward(ids, sequences: 2, dropout: dropout, workspace: workspace, gradient: &gradient, threads: 1)
        return bce.loss + term
    }

    /// The initial parameters with every entry but the padding row jittered by up to ±0.1: at
    /// initialisation a padding-input row's stream is `b_out = 0` exactly, where LayerNorm's
    /// gradient is scaled by `1/√ε = 10⁴` and central differences with any usable step break down.
    static func jittered() throws -> SASRecEncoder<Double> {
        var parameters = SASRecEncoder<Double>(configuration: tiny, seed: 11).parameters
        for k in tiny.dimension ..< parameters.count { parameters[k] += 0.1 * sin(Double(k) * 2.3) }
        return try SASRecEncoder(configuration: tiny, parameters: parameters)
    }

    /// The largest |analytic − central difference| over every parameter but the padding row.
    static func gradientError(through: Bool, analyticWithTerm: Bool = true, analyticThrough: Bool? = nil) throws -> Double {
        let encoder = try jittered()
        var analytic = [Double](repeating: 0, count: encoder.layout.count)
        _ = try loss(encoder, through: analyticThrough ?? through, withTerm: analyticWithTerm, gradient: &analytic)
        var scratch = analytic, worst = 0.0
        let h = 1e-5
        for k in tiny.dimension ..< encoder.layout.count {
            var plus = encoder, minus = encoder
            plus.parameters[k] += h
            minus.parameters[k] -= h
            let numeric = (try loss(plus, through: through, gradient: &scratch) - loss(minus, through: through, gradient: &scratch)) / (2 * h)
            worst = max(worst, abs(numeric - analytic[k]))
        }
        return worst
    }

    // Tolerance: h = 1e-5 gives truncation ~h²·|f‴| ≲ 1e-9 and rounding ~1e-16/h = 1e-11 on O(1) values;
    // 1e-7 is far above both and far below the term's gradient (the mutants below miss by > 1e-3).
    @Test("S10's term (detach): the gradient through h_p into every parameter matches central differences")
    func detachGradient() throws {
        #expect(try Self.gradientError(through: false) < 1e-7)
    }

    @Test("S10's term (through): ∂/∂x_0 = w·σ(⟨h_p, x⁻⟩)·scale·h_p reaches the item table")
    func throughGradient() throws {
        #expect(try Self.gradientError(through: true) < 1e-7)
    }

    @Test("The check fails without the term's gradient, and for through without the x_0 part")
    func checksCanFail() throws {
        #expect(try Self.gradientError(through: false, analyticWithTerm: false) > 1e-3)
        #expect(try Self.gradientError(through: true, analyticThrough: false) > 1e-3)
    }

    @Test("A term with a wrong shape is refused with the field")
    func termShapes() throws {
        let encoder = SASRecEncoder<Double>(configuration: Self.tiny, seed: 1)
        let workspace = SASRecWorkspace<Double>(configuration: Self.tiny, sequences: 2)
        var gradient = [Double](repeating: 0, count: encoder.layout.count)
        var synthetic = Self.synthetic(encoder, through: false)
        synthetic.weights.removeLast()
        #expect(throws: ADARError.shapeMismatch(field: "weights", expected: 8, actual: 7)) {
            try SequenceADARTerm.addLossAndGradient(encoder: encoder, workspace: workspace, sequences: 2, trainingRows: 7,
                                                    synthetic: synthetic, gradient: &gradient)
        }
    }

    // MARK: Rows and candidates (S10)

    static func trainer(_ data: SequenceData, sampler: SamplerKind = .uniform, length: Int = 4, dimension: Int = 8,
                        batch: Int = 2, lr: Double = 1e-3, seed: UInt64 = 5) throws -> SASRecTrainer {
        let model = try SASRecConfiguration(items: data.itemCount, dimension: dimension, length: length, blocks: 1, heads: 1, dropout: 0.2)
        return try SASRecTrainer(data: data, configuration: SASRecTrainingConfiguration(model: model, sampler: sampler, poolSize: 4,
                                                                                        batchSize: batch, learningRate: lr), seed: seed)
    }

    @Test("Rows: the last L + 1 training items left-padded; input slot p, target slot p + 1")
    func rows() throws {
        // Training sequences [1, 2, 3] and [4, 5, 6, 7, 8, 9, 1] (the last two items of each are held out).
        let data = SequenceData(name: "t", itemCount: 9, sequences: [[1, 2, 3, 4, 5], [4, 5, 6, 7, 8, 9, 1, 2, 3]])
        let rows = try Self.trainer(data).trainingRows([0, 1])
        #expect(rows.ids == [0, 0, 1, 2, 6, 7, 8, 9])
        #expect(rows.positives == [0, 1, 2, 3, 7, 8, 9, 1])
    }

    @Test("Candidates: row b draws from the generator of (seed, epoch, b), outside the training sequence; padding draws nothing")
    func candidates() throws {
        let data = SequenceData(name: "t", itemCount: 9, sequences: [[1, 2, 3, 4, 5], [4, 5, 6, 7, 8, 9, 1, 2, 3]])
        let trainer = try Self.trainer(data, sampler: .dns)
        let rows = trainer.trainingRows([0, 1])
        let candidates = trainer.drawCandidates(users: [0, 1], positives: rows.positives, epoch: 3, rowOffset: 40, threads: 2)
        #expect(candidates[0 ..< 4].allSatisfy { $0 == 0 })
        let training: [Set<Int32>] = [[1, 2, 3], [4, 5, 6, 7, 8, 9, 1]]
        for r in 1..<8 {
            let user = r / 4
            // By hand: rejection sampling over 0…9 with ⌊x·10/2⁶⁴⌋, skipping 0 and the training items.
            var rng = UniformNegatives.generator(seed: 5, epoch: 3, row: UInt64(40 + r))
            var expected: [Int32] = []
            while expected.count < 4 {
                let item = Int32(rng.next().multipliedFullWidth(by: 10).high)
                if item != 0 && !training[user].contains(item) { expected.append(item) }
            }
            #expect(Array(candidates[r * 4 ..< r * 4 + 4]) == expected, "row \(r)")
        }
    }

    @Test("Configuration errors name the field")
    func configurationErrors() throws {
        let model = try SASRecConfiguration(items: 5, dimension: 4, length: 3)
        #expect(throws: TrainingError.invalidConfiguration(field: "sampler", reason: "ahns is not available for SASRec; use uniform, dns or adar")) {
            try SASRecTrainingConfiguration(model: model, sampler: .ahns)
        }
        let data = SequenceData(name: "t", itemCount: 6, sequences: [[1, 2, 3]])
        #expect(throws: TrainingError.invalidConfiguration(field: "model.items", reason: "5 differs from the data's 6 items")) {
            try SASRecTrainer(data: data, configuration: SASRecTrainingConfiguration(model: model), seed: 1)
        }
    }

    // MARK: Learning and determinism

    static let walk = SequenceData.synthetic(users: 120, items: 40, length: 12, seed: 9)

    @Test("Training improves validation NDCG@10 over the untrained model", arguments: SASRecTrainingConfiguration.samplers)
    func learns(_ sampler: SamplerKind) throws {
        let trainer = try Self.trainer(Self.walk, sampler: sampler, length: 10, dimension: 16, batch: 30, lr: 5e-3)
        let before = try trainer.evaluate(.validation, epoch: 0, threads: 2).excludingHistory.ndcg(at: 10)
        for epoch in 1...8 { _ = try trainer.trainEpoch(epoch, threads: 2) }
        let after = try trainer.evaluate(.validation, epoch: 8, threads: 2).excludingHistory.ndcg(at: 10)
        #expect(after > before + 0.1, "\(sampler.rawValue): NDCG@10 \(before) → \(after)")
    }

    @Test("Same seed, any thread count: bit-identical parameters and losses (ADAR)")
    func deterministic() throws {
        func run(threads: Int) throws -> ([Float], [Double]) {
            let trainer = try Self.trainer(Self.walk, sampler: .adar, length: 10, dimension: 8, batch: 30)
            let losses = try (1...2).map { try trainer.trainEpoch($0, threads: threads).meanLoss }
            return (trainer.encoder.parameters, losses)
        }
        let one = try run(threads: 1), two = try run(threads: 2), again = try run(threads: 2)
        #expect(one.0 == two.0 && one.1 == two.1)
        #expect(two.0 == again.0)
        let otherSeed = try Self.trainer(Self.walk, sampler: .adar, length: 10, dimension: 8, batch: 30, seed: 6)
        _ = try otherSeed.trainEpoch(1, threads: 1)
        #expect(otherSeed.encoder.parameters != one.0)
    }

    @Test("Protocol run: early stopping on validation NDCG@10, the sealed test read once, for the best epoch")
    func protocolRun() throws {
        let model = try SASRecConfiguration(items: Self.walk.itemCount, dimension: 8, length: 10, blocks: 1)
        let configuration = try SASRecTrainingConfiguration(model: model, batchSize: 30, learningRate: 5e-3)
        let sealed = SealedTestSplit(targets: Self.walk.test.map { $0 == 0 ? [] : [$0] })
        let outcome = try SASRecProtocolRun(data: Self.walk, configuration: configuration, seed: 1,
                                            stopping: EarlyStoppingSettings(evaluateEvery: 2, patience: 2, maxEpochs: 4), threads: 2)
            .run(test: sealed)
        #expect(sealed.accessCount == 1)
        #expect(outcome.evaluations.map(\.epoch) == [2, 4])
        let best = outcome.evaluations.max { $0.validation.excludingHistory.ndcg(at: 10) < $1.validation.excludingHistory.ndcg(at: 10) }!
        #expect(outcome.chosen.bestEpoch == best.epoch)
        #expect(outcome.test != nil && outcome.test!.excludingHistory.evaluatedUsers == 120)
    }
}

/// The layers' products must run on OpenBLAS (docs/LAYERS.md): GSL links a CBLAS too.
@Suite("SASRec: cblas_sgemm is OpenBLAS's")
struct SASRecBLASLinkTests {
    /// The mapped file that holds the code `symbol` resolves to in this process (from /proc/self/maps:
    /// Glibc's `dladdr` is not visible to Swift).
    static func library(of symbol: String) -> String? {
        guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, symbol),
              // Read to the end: /proc files report size 0.
              let bytes = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() else { return nil }
        let maps = String(decoding: bytes, as: UTF8.self)
        let target = UInt(bitPattern: address)
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let bounds = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            if fields.count >= 6, bounds.count == 2, (bounds[0] ..< bounds[1]).contains(target) { return String(fields[5]) }
        }
        return nil
    }

    @Test("cblas_sgemm resolves to libopenblas, not GSL's reference libgslcblas")
    func sgemmIsOpenBLAS() throws {
        let library = try #require(Self.library(of: "cblas_sgemm"))
        #expect(library.contains("openblas"), "cblas_sgemm comes from \(library)")
        // The check can fail: a symbol only GSL defines names GSL's library.
        #expect(Self.library(of: "gsl_deriv_central").map { !$0.contains("openblas") } == true)
    }
}
