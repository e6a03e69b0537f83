import Foundation
import Testing
import ADARCore
import ADARData
import ADARLayers
import ADARReference
import ADARTraining

/// SASRec with S9's `denoised` generator (S10: "S2–S6 and S9 apply per row" with `e_u := h_p`,
/// `x_0 := e_{i_{p+1}}`): the synthetic negatives against the binary64 reference, S10's term's
/// gradient under `through` (`∂/∂x_0 = w·σ(⟨h_p, x⁻⟩)·h_p`, no `√ᾱ_t`), τ's rows (the training
/// rows only, each with its number `b = s·L + p`), determinism and a short training run.
@Suite("SASRec with the denoised generator (S9, S10)")
struct SASRecDenoisedTests {
    /// 16 users' walks over 40 items, cut to 5…12 items: with the last two held out and L = 6, the
    /// shorter training sequences are left-padded, so batches mix padding and training rows (S10).
    static let data: SequenceData = {
        let walks = SequenceData.synthetic(users: 16, items: 40, length: 12, seed: 4)
        return SequenceData(name: "walks", itemCount: 40, sequences: walks.train.indices.map { user in
            Array((walks.train[user] + [walks.validation[user], walks.test[user]]).prefix(5 + user % 8))
        })
    }()
    static let seed: UInt64 = 7

    static func trainer(
        warmup: Int = 0, rMax: Double = 1e9, flow: GradientFlow = .through, fallback: FallbackMode = .skip, dropout: Double = 0.2,
        seed: UInt64 = seed, batch: Int = 6, learningRate: Double = 0.01
    ) throws -> SASRecTrainer {
        let model = try SASRecConfiguration(items: data.itemCount, dimension: 8, length: 6, blocks: 1, heads: 1, dropout: dropout)
        let adar = try ADARConfiguration(sigma: 0.1, fallback: fallback, gradientFlow: flow)
        let configuration = try SASRecTrainingConfiguration(
            model: model, sampler: .adar, poolSize: 3, adar: adar,
            generator: .denoised(DenoisedGenerator(tauLearningRate: 0.01, tauWarmup: warmup, rMax: rMax)),
            schedule: try NoiseSchedule(.defaultCosine, steps: 50), batchSize: batch, learningRate: learningRate)
        return try SASRecTrainer(data: data, configuration: configuration, seed: seed)
    }

    /// The second batch of epoch 1 (its first row is `b = B·L`, so row numbers are not batch positions).
    static func secondBatch(_ trainer: SASRecTrainer) -> (users: [Int], rowOffset: UInt64) {
        let B = trainer.configuration.batchSize
        return (Array(trainer.epochOrder(1)[B ..< 2 * B]), UInt64(B * trainer.configuration.model.length))
    }

    /// `h_p` of `users`' rows from a forward pass of our own with the batch's dropout mask (S10: the training-mode pass).
    static func hidden(_ trainer: SASRecTrainer, users: [Int], rowOffset: UInt64) throws -> [Float] {
        let c = trainer.configuration.model
        let workspace = SASRecWorkspace<Float>(configuration: c, sequences: users.count)
        let dropout = try Dropout(seed: trainer.seed, epoch: 1, rate: c.dropout, rowOffset: rowOffset)
        try trainer.encoder.forward(trainer.trainingRows(users).ids, sequences: users.count, dropout: dropout, workspace: workspace, threads: 1)
        return Array(UnsafeBufferPointer(start: workspace.hidden, count: users.count * c.length * c.dimension))
    }

    /// The second batch of epoch 1 prepared (τ's step and the synthesis), with `h_p` and the item table as they were before.
    static func preparedSecondBatch(_ trainer: SASRecTrainer) throws -> (batch: SASRecTrainer.PreparedBatch, users: [Int], rowOffset: UInt64, h: [Float], items: [Float]) {
        let (users, rowOffset) = secondBatch(trainer)
        let h = try hidden(trainer, users: users, rowOffset: rowOffset), items = itemTable(trainer)
        return (try trainer.prepareBatch(users, epoch: 1, rowOffset: rowOffset, threads: 2), users, rowOffset, h, items)
    }

    static func row(_ table: [Float], _ index: Int, _ d: Int) -> [Double] { table[index * d ..< (index + 1) * d].map(Double.init) }

    static func itemTable(_ trainer: SASRecTrainer) -> [Float] {
        let offset = trainer.encoder.layout.embedding.itemTable, d = trainer.configuration.model.dimension
        return Array(trainer.encoder.parameters[offset ..< offset + (trainer.configuration.model.items + 1) * d])
    }

    // MARK: The synthetic negatives (S9 per row, S10's e_u and x_0)

    @Test("x⁻ = x̂_0 = x_0 + σ·r_t·(ε − ε̂), ε̂ = τ(x_t, PE(t), h_p) with the unscaled item row, against the binary64 reference")
    func negativesMatchReference() throws {
        let trainer = try Self.trainer()
        let (batch, _, rowOffset, h, items) = try Self.preparedSecondBatch(trainer)
        let c = trainer.configuration, d = c.model.dimension, schedule = c.schedule, sigma = c.adar.sigma
        let tau = TauParameters(dimension: d, flattened: try #require(trainer.tau).network.parameters.map(Double.init))
        let ratios = ReferenceADAR.denoisingRatios(schedule)
        let synthetic = try #require(batch.synthetic)
        let training = batch.positives.indices.filter { batch.positives[$0] != 0 }
        var denoised = 0, worst = 0.0
        for (n, r) in training.enumerated() where !batch.statuses[n].isFallback {
            denoised += 1
            let t = Int(batch.timesteps[n]), x0 = Self.row(items, Int(batch.positives[r]), d)
            let epsilon = GaussianNoise(seed: trainer.seed, stream: 1).row(rowOffset + UInt64(r), dimension: d)
            let xt = ReferenceADAR.forwardSample(x0: x0[...], epsilon: epsilon, timestep: t, schedule: schedule, sigma: sigma)
            let predicted = ReferenceADAR.predictNoise(tau, noisy: xt, timestep: t, user: Self.row(h, r, d))
            let expected = ReferenceADAR.denoisedSample(x0: x0[...], epsilon: epsilon, predictedNoise: predicted, ratio: ratios[t], sigma: sigma)
            // binary32 against binary64: relative 1e-4 of the reconstruction's scale σ·r_t.
            for k in 0..<d {
                worst = max(worst, abs(Double(synthetic.negatives[r * d + k]) - expected[k]) / (1 + sigma * ratios[t]))
            }
        }
        #expect(denoised > 5 && denoised == batch.synthesis?.denoisedRows, "\(denoised) denoised rows")
        #expect(worst < 1e-4, "largest scaled difference \(worst)")
    }

    // MARK: S10's term under denoised, against central differences (binary64)

    /// The batch's term in binary64 at `hidden` (rows × d) and item table `items`, with `x⁻ = e_{i} + δ`
    /// on every weighted row (S9 under `through`: `t`, `ε`, `ε̂` constant, so `δ = x⁻ − x_0` is) — written
    /// here from S10, not by the code under test.
    static func termValue(hidden: [Double], items: [Double], positives: [Int32], offsets: [Double], weights: [Double], count: Int, d: Int) -> Double {
        var total = 0.0
        for r in positives.indices where weights[r] != 0 {
            var score = 0.0
            for k in 0..<d { score += hidden[r * d + k] * (items[Int(positives[r]) * d + k] + offsets[r * d + k]) }
            total += weights[r] * (max(score, 0) + log1p(exp(-abs(score))))
        }
        return total / Double(count)
    }

    /// The largest |analytic − central difference| of the term's gradient with respect to `h_p` and the item table,
    /// the analytic one from `SequenceADARTerm` fed the trainer's `SyntheticNegatives` (scales replaced by `scales` if given).
    static func termGradientError(scales: ((Int, Int32) -> Float)? = nil) throws -> (hidden: Double, items: Double, throughRows: Int) {
        let trainer = try Self.trainer()
        let (users, rowOffset) = Self.secondBatch(trainer)
        let batch = try trainer.prepareBatch(users, epoch: 1, rowOffset: rowOffset, threads: 1)
        let model = trainer.configuration.model, d = model.dimension, rows = batch.positives.count
        var synthetic = try #require(batch.synthetic)
        if let scales {
            let timesteps = Dictionary(uniqueKeysWithValues: zip(batch.positives.indices.filter { batch.positives[$0] != 0 }, batch.timesteps))
            for r in 0..<rows where synthetic.throughItems[r] != 0 { synthetic.throughScales[r] = scales(r, timesteps[r]!) }
        }
        let count = batch.statuses.count
        let encoder = try SASRecEncoder<Double>(configuration: model, parameters: trainer.encoder.parameters.map(Double.init))
        let workspace = SASRecWorkspace<Double>(configuration: model, sequences: users.count)
        let hidden = try Self.hidden(trainer, users: users, rowOffset: rowOffset).map(Double.init)
        for k in 0 ..< rows * d {
            workspace.hidden[k] = hidden[k]
            workspace.hiddenGradient[k] = 0
        }
        var gradient = [Double](repeating: 0, count: encoder.layout.count)
        _ = try SequenceADARTerm.addLossAndGradient(
            encoder: encoder, workspace: workspace, sequences: users.count, trainingRows: count,
            synthetic: SyntheticNegatives(negatives: synthetic.negatives.map(Double.init), weights: synthetic.weights.map(Double.init),
                                          throughItems: synthetic.throughItems, throughScales: synthetic.throughScales.map(Double.init)),
            gradient: &gradient)
        let table = encoder.layout.embedding.itemTable, items = Array(encoder.parameters[table ..< table + (model.items + 1) * d])
        var offsets = synthetic.negatives.map(Double.init)
        for r in 0..<rows {
            for k in 0..<d { offsets[r * d + k] -= items[Int(batch.positives[r]) * d + k] }
        }
        let weights = synthetic.weights.map(Double.init), step = 1e-6
        func value(_ h: [Double], _ e: [Double]) -> Double {
            termValue(hidden: h, items: e, positives: batch.positives, offsets: offsets, weights: weights, count: count, d: d)
        }
        var hiddenError = 0.0, itemError = 0.0
        for k in 0 ..< rows * d {
            var plus = hidden, minus = hidden
            plus[k] += step
            minus[k] -= step
            hiddenError = max(hiddenError, abs((value(plus, items) - value(minus, items)) / (2 * step) - workspace.hiddenGradient[k]))
        }
        for k in d ..< items.count {
            var plus = items, minus = items
            plus[k] += step
            minus[k] -= step
            itemError = max(itemError, abs((value(hidden, plus) - value(hidden, minus)) / (2 * step) - gradient[table + k]))
        }
        return (hiddenError, itemError, synthetic.throughItems.count { $0 != 0 })
    }

    // Tolerance: step 1e-6 on O(1) values gives truncation ~1e-12 and rounding ~1e-10; the wrong
    // factor √ᾱ_t misses by w·σ(·)·|h|·(1 − √ᾱ_t)/N, above 1e-3 here.
    @Test("through: ∂/∂h_p = w·σ(⟨h_p, x⁻⟩)·x⁻ and ∂/∂x_0 = w·σ(⟨h_p, x⁻⟩)·h_p (no √ᾱ_t) match central differences")
    func throughGradient() throws {
        let error = try Self.termGradientError()
        #expect(error.throughRows > 5)
        #expect(error.hidden < 1e-8 && error.items < 1e-8, "\(error)")
    }

    @Test("The check rejects forward's factor √ᾱ_t on denoised rows")
    func forwardFactorRejected() throws {
        let schedule = try Self.trainer().configuration.schedule
        let error = try Self.termGradientError { _, t in Float(schedule.sqrtAlphaBar[Int(t)]) }
        #expect(error.hidden < 1e-8, "h_p's gradient does not depend on the factor")
        #expect(error.items > 1e-3, "\(error)")
    }

    @Test("The scales: 1 on denoised rows, √ᾱ_t on the r_max guard's forward rows, none under detach")
    func throughScales() throws {
        // r_max = 0 keeps only t = 0 denoised: every transition/saturated row is the guard's forward row.
        for (rMax, denoised) in [(1e9, true), (0.0, false)] {
            let trainer = try Self.trainer(rMax: rMax)
            let (users, rowOffset) = Self.secondBatch(trainer)
            let batch = try trainer.prepareBatch(users, epoch: 1, rowOffset: rowOffset, threads: 1)
            let synthetic = try #require(batch.synthetic), schedule = trainer.configuration.schedule
            let training = batch.positives.indices.filter { batch.positives[$0] != 0 }
            for (n, r) in training.enumerated() where !batch.statuses[n].isFallback {
                #expect(synthetic.throughItems[r] == batch.positives[r])
                #expect(synthetic.throughScales[r] == (denoised ? 1 : Float(schedule.sqrtAlphaBar[Int(batch.timesteps[n])])), "row \(r)")
            }
            #expect((batch.synthesis?.rMaxForwardRows ?? -1) == (denoised ? 0 : training.indices.count { !batch.statuses[$0].isFallback }))
        }
        let detached = try Self.trainer(flow: .detach)
        let (users, rowOffset) = Self.secondBatch(detached)
        let synthetic = try #require(try detached.prepareBatch(users, epoch: 1, rowOffset: rowOffset, threads: 1).synthetic)
        #expect(synthetic.throughItems.allSatisfy { $0 == 0 })
    }

    // MARK: τ's rows (white box)

    @Test("τ's rows are the batch's training rows (h_p, unscaled x_0), padding excluded, each numbered b = s·L + p")
    func tauRows() throws {
        let (batch, _, rowOffset, h, items) = try Self.preparedSecondBatch(Self.trainer())
        let input = try #require(batch.tauInput)
        let training = batch.positives.indices.filter { batch.positives[$0] != 0 }
        #expect(training.count < batch.positives.count, "the batch has padding rows")
        #expect(input.rows.users == training.map { Int32($0) } && input.rows.positives == training.map { batch.positives[$0] })
        #expect(input.rowNumbers == training.map { rowOffset + UInt64($0) })
        #expect(input.rows.userTable == h && input.rows.itemTable == items)
    }

    /// S9's batch `L_τ` at τ's initialisation over `rows` (with numbers `numbers`), `x_0` scaled by `scale`, by the binary64 reference.
    static func referenceTauLoss(_ trainer: SASRecTrainer, h: [Float], items: [Float], positives: [Int32], rows: [Int], numbers: [UInt64],
                                 scale: Double = 1) -> Double {
        let c = trainer.configuration, d = c.model.dimension
        let draws = numbers.map {
            ReferenceADAR.tauTrainingDraw(seed: trainer.seed, epoch: 1, row: $0, dimension: d, steps: c.schedule.steps)
        }
        return ReferenceADAR.tauBatchLoss(
            ReferenceADAR.tauInitialParameters(seed: trainer.seed, dimension: d), users: rows.flatMap { row(h, $0, d) },
            positives: rows.flatMap { row(items, Int(positives[$0]), d).map { $0 * scale } }, targets: draws.flatMap(\.epsilon),
            timesteps: draws.map(\.timestep), schedule: c.schedule, sigma: c.adar.sigma).loss
    }

    @Test("τ's first L_τ equals the reference's over the training rows; with padding rows, batch positions as numbers or √d·x_0 it does not")
    func tauLossAgainstReference() throws {
        let trainer = try Self.trainer()
        let (batch, _, rowOffset, h, items) = try Self.preparedSecondBatch(trainer)
        let loss = Double(try #require(batch.tauLoss))
        let all = Array(batch.positives.indices), training = all.filter { batch.positives[$0] != 0 }
        func reference(_ rows: [Int], _ numbers: [UInt64], scale: Double = 1) -> Double {
            Self.referenceTauLoss(trainer, h: h, items: items, positives: batch.positives, rows: rows, numbers: numbers, scale: scale)
        }
        let expected = reference(training, training.map { rowOffset + UInt64($0) })
        #expect(abs(loss - expected) <= 1e-5 * expected, "\(loss) vs \(expected)")
        let wrong = [
            ("padding rows included", reference(all, all.map { rowOffset + UInt64($0) })),
            ("rows numbered by batch position", reference(training, training.indices.map { rowOffset + UInt64($0) })),
            ("x_0 scaled by √d", reference(training, training.map { rowOffset + UInt64($0) }, scale: Double(trainer.configuration.model.dimension).squareRoot())),
        ]
        for (variant, value) in wrong { #expect(abs(loss - value) > 1e-3 * expected, "\(variant): \(value) vs \(loss)") }
    }

    // MARK: Determinism and training

    static func epochs(_ trainer: SASRecTrainer, _ count: Int, threads: Int) throws -> [EpochStatistics] {
        try (1...count).map { try trainer.trainEpoch($0, threads: threads) }
    }

    /// What must repeat: the loss, τ's loss, denoised rows and the mean ‖x̂_0 − x_0‖ per epoch, and the parameters.
    static func fingerprint(_ trainer: SASRecTrainer, threads: Int) throws -> [Double] {
        try epochs(trainer, 2, threads: threads).flatMap { s in
            [s.meanLoss, s.adar!.tau!.meanLoss, Double(s.adar!.tau!.denoisedRows), s.adar!.tau!.meanDenoisedDistance]
        } + trainer.encoder.parameters.map(Double.init) + trainer.tau!.network.parameters.map(Double.init)
    }

    @Test("Same seed, same losses, τ and parameters, for 1 or 2 threads; another seed differs")
    func determinism() throws {
        let reference = try Self.fingerprint(Self.trainer(), threads: 1)
        #expect(reference.allSatisfy { $0.isFinite })
        #expect(try Self.fingerprint(Self.trainer(), threads: 1) == reference)
        #expect(try Self.fingerprint(Self.trainer(), threads: 2) == reference)
        #expect(try Self.fingerprint(Self.trainer(seed: 8), threads: 1) != reference)
    }

    // The mean loss is no measure of progress here: it holds ADAR's term, which grows as rows leave the
    // fallback statuses and as τ's negatives get harder. Validation NDCG@10 and τ's own loss are.
    @Test("Six epochs on synthetic walks: finite, validation NDCG@10 and τ's loss improve; warm-up epoch forward, then denoised rows")
    func trainsWithoutDivergence() throws {
        let trainer = try Self.trainer(warmup: 1, rMax: 10, flow: .detach, learningRate: 0.01)
        let untrained = try trainer.evaluate(.validation, epoch: 0, threads: 2).excludingHistory.ndcg(at: 10)
        let statistics = try Self.epochs(trainer, 6, threads: 2)
        let trained = try trainer.evaluate(.validation, epoch: 6, threads: 2).excludingHistory.ndcg(at: 10)
        #expect(trained > untrained, "validation NDCG@10 \(untrained) → \(trained)")
        let batches = (Self.data.train.count { !$0.isEmpty } + 5) / 6
        for s in statistics {
            let tau = try #require(s.adar?.tau)
            #expect(s.meanLoss.isFinite && tau.meanLoss.isFinite)
            #expect(tau.steps == batches * s.epoch && tau.synthesisedDenoised == (s.epoch > 1))
            #expect((tau.denoisedRows > 0) == (s.epoch > 1), "epoch \(s.epoch): \(tau.denoisedRows) denoised rows")
            #expect(tau.denoisedRows + tau.rMaxForwardRows <= s.rows - s.statusCounts.filter { $0.key.isFallback }.values.reduce(0, +))
        }
        #expect(statistics.last!.adar!.tau!.meanLoss < statistics.first!.adar!.tau!.meanLoss)
        #expect(trainer.encoder.parameters.allSatisfy { $0.isFinite } && trainer.tau!.network.parameters.allSatisfy { $0.isFinite })
    }

    @Test("The configuration refuses denoised without the adar sampler, naming the generator")
    func refusesDenoisedWithoutADAR() throws {
        let model = try SASRecConfiguration(items: 30, dimension: 8, length: 6, blocks: 1, heads: 1, dropout: 0.2)
        #expect(throws: TrainingError.invalidConfiguration(field: "generator", reason: "denoised is ADAR's generator (S9); the sampler is dns, not adar")) {
            try SASRecTrainingConfiguration(model: model, sampler: .dns, generator: .denoised(DenoisedGenerator()))
        }
        #expect(throws: TrainingError.invalidConfiguration(field: "rMax", reason: "-1.0 must be finite and ≥ 0 (S9's r_max; default 10)")) {
            try SASRecTrainingConfiguration(model: model, sampler: .adar, generator: .denoised(DenoisedGenerator(rMax: -1)))
        }
        let defaults = try SASRecTrainingConfiguration(model: model, sampler: .adar, generator: .denoised(DenoisedGenerator()), learningRate: 0.004)
        #expect(defaults.tauLearningRate == 0.004, "τ's learning rate defaults to the backbone's (S9)")
    }

    // MARK: adar train --model sasrec --generator denoised

    static let denoisedRun = SASRecCommandTests.tinyRun + ["--sampler", "adar", "--generator", "denoised"]

    @Test("A synthetic run: the header names τ's settings, each progress line τ's loss, the record τ's statistics per epoch")
    func commandEndToEnd() throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(
            Self.denoisedRun + ["--tau-lr", "0.01", "--tau-warmup", "1", "--r-max", "8", "--output", "run.json"], in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
        #expect(result.standardOutput.contains("generator denoised (τ lr 0.01, warm-up 1 epoch(s), r_max 8.0)"), "\(result.standardOutput)")
        let progress = result.standardOutput.split(separator: "\n").filter { $0.hasPrefix("sasrec: epoch") }
        #expect(progress.count == 2 && progress.allSatisfy { $0.contains("τ loss") && $0.contains("Y=1") }, "\(progress)")
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("run.json"))) as! [String: Any]
        let run = record["run"] as! [String: Any], config = run["config"] as! [String: Any], adar = config["adar"] as! [String: Any]
        let generator = adar["generator"] as! [String: Any]
        #expect(generator["name"] as? String == "denoised" && generator["tauLearningRate"] as? Double == 0.01)
        #expect(generator["tauWarmup"] as? Int == 1 && generator["rMax"] as? Double == 8)
        let taus = (run["epochs"] as! [[String: Any]]).map { ($0["adar"] as! [String: Any])["tau"] as! [String: Any] }
        #expect(taus.map { $0["synthesisedDenoised"] as? Bool } == [false, true])
        #expect(taus.map { $0["denoisedRows"] as? Int == 0 } == [true, false] && taus.allSatisfy { $0["loss"] is Double })
    }

    @Test("τ's options under --model sasrec: refused without --generator denoised or out of range (exit 64); CF-only options still refused",
          arguments: [
              (["--sampler", "adar", "--tau-lr", "0.01"], "--tau-lr applies only with --generator denoised"),
              (["--sampler", "adar", "--tau-warmup", "2"], "--tau-warmup applies only with --generator denoised"),
              (["--generator", "denoised"], "--generator: denoised is ADAR's generator (S9); the sampler is uniform, not adar"),
              (["--sampler", "adar", "--generator", "denoised", "--r-max", "-2"], "--r-max: -2.0 must be finite and ≥ 0"),
              (["--sampler", "adar", "--generator", "denoised", "--tau-warmup", "-1"], "--tau-warmup: -1 must be between 0 and"),
              (["--sampler", "adar", "--generator", "denoised", "--tau-lr", "0"], "--tau-lr: 0.0 must be finite and > 0"),
              (["--sampler", "adar", "--generator", "denoised", "--layers", "2"], "--layers does not apply with --model sasrec"),
          ])
    func commandRefusals(_ extra: [String], _ message: String) throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(SASRecCommandTests.tinyRun + extra, in: folder)
        #expect(result.status == 64 && !result.endedBySignal, "\(result.status): \(result.standardError)")
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "nothing written")
    }
}
