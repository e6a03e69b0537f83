import Foundation
import Testing
import ADARCore
import ADARReference

/// The binary64 reference of S9's τ, `denoised` generator and calibration
/// statistics (Sources/ADARReference/NoisePredictor*.swift, Denoised.swift;
/// Sources/ADARCore/Calibration.swift). The claims of Proofs/S9-tau.md are in TauClaimTests.
@Suite("S9 τ reference")
struct TauReferenceTests {
    static let schedule = try! NoiseSchedule(.linear(start: 1e-4, end: 0.05), steps: 100)

    @Test("PE(1) for d = 4 is (sin 1, cos 1, sin 0.01, cos 0.01)")
    func positionalEncodingByHand() {
        let pe = ReferenceADAR.positionalEncoding(timestep: 1, dimension: 4)
        let hand = [sin(1.0), cos(1.0), sin(0.01), cos(0.01)]
        for (value, expected) in zip(pe, hand) { #expect(abs(value - expected) <= 4 * expected.ulp) }
    }

    @Test("τ's parameters: shapes, biases 0, weights inside ±bound, different per seed")
    func initialisation() {
        let d = 3
        let p = ReferenceADAR.tauInitialParameters(seed: 7, dimension: d)
        #expect(p.w1.count == 4 * d * 3 * d && p.b1.count == 4 * d && p.w2.count == d * 4 * d && p.b2.count == d)
        #expect(p.b1.allSatisfy { $0 == 0 } && p.b2.allSatisfy { $0 == 0 })
        let bound1 = (6 / (7.0 * Double(d))).squareRoot(), bound2 = (6 / (5.0 * Double(d))).squareRoot()
        #expect(p.w1.allSatisfy { abs($0) < bound1 } && p.w2.allSatisfy { abs($0) < bound2 })
        #expect(p != ReferenceADAR.tauInitialParameters(seed: 8, dimension: d))
        #expect(TauParameters(dimension: d, flattened: p.flattened) == p)
    }

    @Test("the training draws: t′ in 1…T, ε′ from stream 2³¹ + E, different per epoch")
    func trainingDraws() {
        var timesteps = Set<Int>()
        for b in UInt64(0)..<2000 {
            let draw = ReferenceADAR.tauTrainingDraw(seed: 11, epoch: 3, row: b, dimension: 5, steps: 100)
            #expect((1...100).contains(draw.timestep))
            timesteps.insert(draw.timestep)
            #expect(draw.epsilon == GaussianNoise(seed: 11, stream: 0x8000_0003).row(b, dimension: 5))
        }
        #expect(timesteps.count == 100)
        #expect(ReferenceADAR.tauTrainingDraw(seed: 11, epoch: 3, row: 0, dimension: 5, steps: 100)
                != ReferenceADAR.tauTrainingDraw(seed: 11, epoch: 4, row: 0, dimension: 5, steps: 100))
    }

    @Test("training τ lowers its batch loss and keeps Adam's step count")
    func trainingLowersTheLoss() {
        let d = 4, rows = 32
        var generator = SeededGenerator(seed: 5)
        let users = generator.normals(rows * d).map { 0.5 * $0 }, positives = generator.normals(rows * d).map { 0.5 * $0 }
        var trainer = TauTrainer(seed: 5, dimension: d, learningRate: 1e-2)
        let before = ReferenceADAR.tauBatchLoss(trainer.parameters, users: users, positives: positives, firstRow: 0,
                                                seed: 5, epoch: 1, schedule: Self.schedule, sigma: 0.5).loss
        for _ in 0..<200 {
            ReferenceADAR.trainTau(&trainer, users: users, positives: positives, firstRow: 0, epoch: 1,
                                   schedule: Self.schedule, sigma: 0.5)
        }
        let after = ReferenceADAR.tauBatchLoss(trainer.parameters, users: users, positives: positives, firstRow: 0,
                                               seed: 5, epoch: 1, schedule: Self.schedule, sigma: 0.5).loss
        #expect(trainer.steps == 200)
        #expect(after < 0.5 * before, "L_τ \(before) → \(after)")
    }

    static func batch(rows: Int, d: Int, seed: UInt64) throws -> ADARBatch {
        var generator = SeededGenerator(seed: seed)
        let users = generator.normals(rows * d).map { 0.7 * $0 }
        let positives = (0..<rows * d).map { users[$0] + 0.5 * generator.normal() }
        return try ADARBatch(rows: rows, dimension: d, poolSize: 3, users: users, positives: positives,
                             pool: generator.normals(rows * 3 * d).map { 0.7 * $0 },
                             noise: .counter(seed: seed, stream: 1, rowOffset: 100))
    }

    @Test("forward is the default: the generator option leaves S6's outputs unchanged")
    func forwardUnchanged() throws {
        let batch = try Self.batch(rows: 50, d: 4, seed: 3), config = try ADARConfiguration(sigma: 0.5)
        let plain = try ReferenceADAR.synthesize(batch, schedule: Self.schedule, configuration: config)
        let generated = try ReferenceADAR.synthesize(batch, schedule: Self.schedule, configuration: config, generator: .forward)
        #expect(generated.outcomes.map(\.syntheticNegative) == plain.map(\.syntheticNegative))
        #expect(generated.outcomes.map(\.syntheticScore) == plain.map(\.syntheticScore))
        #expect(generated.forwardByRatioGuard.isEmpty)
    }

    @Test("denoised: same statuses, timesteps and π as forward; x⁻ = x_0 + σ·r_t·(ε − ε̂); the r_max guard")
    func denoisedSynthesis() throws {
        let d = 4, batch = try Self.batch(rows: 200, d: d, seed: 4), config = try ADARConfiguration(sigma: 0.5)
        let tau = ReferenceADAR.tauInitialParameters(seed: 4, dimension: d)
        let ratios = ReferenceADAR.denoisingRatios(Self.schedule)
        let forward = try ReferenceADAR.synthesize(batch, schedule: Self.schedule, configuration: config)
        let maxRatio = 0.5
        let denoised = try ReferenceADAR.synthesize(batch, schedule: Self.schedule, configuration: config,
                                                   generator: .denoised(tau, maxRatio: maxRatio))
        var guarded = [Int](), changed = 0
        for (b, (f, g)) in zip(forward, denoised.outcomes).enumerated() {
            #expect(f.status == g.status && f.timestep == g.timestep)
            #expect(f.retention.bitPattern == g.retention.bitPattern && f.aStar.bitPattern == g.aStar.bitPattern)
            if f.status.isFallback || ratios[f.timestep] > maxRatio {
                if !f.status.isFallback { guarded.append(b) }
                #expect(g.syntheticNegative == f.syntheticNegative)
                continue
            }
            changed += 1
            let epsilon = ReferenceADAR.epsilon(batch, row: b)
            let predicted = ReferenceADAR.predictNoise(tau, noisy: f.syntheticNegative, timestep: f.timestep, user: Array(batch.user(b)))
            let r = ((1 - Self.schedule.alphaBar[f.timestep]) / Self.schedule.alphaBar[f.timestep]).squareRoot()
            let expected = (0..<d).map { batch.positive(b)[batch.positive(b).startIndex + $0] + 0.5 * r * (epsilon[$0] - predicted[$0]) }
            #expect(g.syntheticNegative == expected)
            #expect(g.syntheticScore == ReferenceADAR.dot(Array(batch.user(b)), expected))
        }
        #expect(denoised.forwardByRatioGuard == guarded)
        #expect(!guarded.isEmpty && changed > 0, "the batch must exercise both sides of r_max")
    }

    @Test("denoised refuses a τ of another dimension and a negative or NaN r_max")
    func denoisedRefusals() throws {
        let batch = try Self.batch(rows: 2, d: 4, seed: 4), config = try ADARConfiguration()
        let tau3 = ReferenceADAR.tauInitialParameters(seed: 1, dimension: 3)
        #expect(throws: ADARError.shapeMismatch(field: "tau.dimension", expected: 4, actual: 3)) {
            try ReferenceADAR.synthesize(batch, schedule: Self.schedule, configuration: config, generator: .denoised(tau3))
        }
        let tau4 = ReferenceADAR.tauInitialParameters(seed: 1, dimension: 4)
        for bad in [-1.0, .nan] {
            #expect(throws: ADARError.self) {
                try ReferenceADAR.synthesize(batch, schedule: Self.schedule, configuration: config, generator: .denoised(tau4, maxRatio: bad))
            }
        }
    }

    @Test("calibration summary by hand: Z, χ² per group, share, status mix; fallbacks excluded")
    func calibrationByHand() {
        var accumulator = CalibrationAccumulator(groups: 2)
        accumulator.record(status: .transition, retention: 0.2, syntheticScore: 1, referenceNegativeScore: 0)   // Y = 1
        accumulator.record(status: .transition, retention: 0.4, syntheticScore: 0, referenceNegativeScore: 0)   // Y = 0 (ties are not >)
        accumulator.record(status: .saturated, retention: 0.8, syntheticScore: 2, referenceNegativeScore: 1)    // Y = 1
        accumulator.record(status: .saturated, retention: 0.6, syntheticScore: 2, referenceNegativeScore: 1)    // Y = 1
        accumulator.record(status: .alreadyNegative, retention: .nan, syntheticScore: 5, referenceNegativeScore: 0)
        let s = accumulator.summary
        #expect(s.rows == 4 && s.successes == 3)
        #expect(abs(s.expectedSuccesses - 2.0) < 1e-15)
        let variance = 0.2 * 0.8 + 0.4 * 0.6 + 0.8 * 0.2 + 0.6 * 0.4
        #expect(abs(s.z - 1 / variance.squareRoot()) < 1e-14)
        // Groups {0.2, 0.4}: O = 1, E = 0.6, V = 0.4; {0.6, 0.8}: O = 2, E = 1.4, V = 0.4.
        #expect(abs(s.chiSquare - (0.16 / 0.4 + 0.36 / 0.4)) < 1e-14)
        #expect(s.degreesOfFreedom == 2 && s.share == 0.75 && abs(s.meanRetention - 0.5) < 1e-15)
        #expect(s.statusCounts == [.transition: 2, .saturated: 2, .alreadyNegative: 1])
    }
}
