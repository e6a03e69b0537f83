import Foundation
import Testing
import ADARCore
import ADARReference
import ADARVerification

/// Proofs/S9-tau.md: each claim passes on the reference, and each checker
/// rejects a deliberately broken implementation (a planted bug).
@Suite("S9 τ claims")
struct TauClaimTests {
    static func seed(_ id: String) -> UInt64 { Claims.claim(id)!.defaultSeed }

    static let claimIDs = ["S9/P1", "S9/I1", "S9/I2", "S9/F1", "S9/G1", "S9/T1", "S9/D1", "S9/C1"]

    @Test("adar verify --claim runs each S9 claim through the built executable: one PASS row each, exit 0")
    func verifyCommand() throws {
        let result = try ADARExecutable.run(["verify"] + Self.claimIDs.flatMap { ["--claim", $0] })
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
        for id in Self.claimIDs {
            #expect(result.standardOutput.contains("\(id.padding(toLength: 12, withPad: " ", startingAt: 0)) PASS"), "no PASS row for \(id)")
        }
        #expect(result.standardOutput.contains("8 passed, 0 failed"))
    }

    // MARK: S9/P1

    /// `PE(t)` with a planted bug in the argument or the sin/cos choice.
    static func encoding(
        exponent: @escaping (Int, Int) -> Double = { k, d in -Double(k - k % 2) / Double(d) },
        swapped: Bool = false
    ) -> TauChecks.PositionalEncodingFunction {
        { t, d in
            (0..<d).map { k in
                let a = Double(t) * exp(exponent(k, d) * log(10_000.0))
                return (k % 2 == 0) != swapped ? sin(a) : cos(a)
            }
        }
    }

    @Test("S9/P1 PE(t): hand values at t = 1, d = 4 and binary80 within 40u·a + 3u")
    func positionalEncoding() throws {
        try expectClaim("S9/P1")
        // The planted-bug helper without a bug is accepted: the bugs below are the only difference.
        #expect(try TauChecks.checkPositionalEncoding(seed: Self.seed("S9/P1"), encoding: Self.encoding()).passed)
    }

    @Test("S9/P1 rejects cos on even and sin on odd components")
    func encodingSwapped() throws {
        expectRejected(try TauChecks.checkPositionalEncoding(seed: Self.seed("S9/P1"), encoding: Self.encoding(swapped: true)))
    }

    @Test("S9/P1 rejects integer division in the exponent (every frequency 1)")
    func encodingIntegerDivision() throws {
        let integer = Self.encoding(exponent: { k, d in -Double((k - k % 2) / d) })
        expectRejected(try TauChecks.checkPositionalEncoding(seed: Self.seed("S9/P1"), encoding: integer))
    }

    @Test("S9/P1 rejects k in place of k − k mod 2")
    func encodingOwnFrequency() throws {
        let own = Self.encoding(exponent: { k, d in -Double(k) / Double(d) })
        expectRejected(try TauChecks.checkPositionalEncoding(seed: Self.seed("S9/P1"), encoding: own))
    }

    // MARK: S9/I1, S9/I2

    /// τ's initialisation with a planted bug in `u`, the bound or the counter.
    static func initialisation(
        unit: @escaping (UInt32) -> Double = GaussianNoise.unitInterval,
        bound: @escaping (Int, Int) -> Double = ReferenceADAR.xavierBound,
        counterLayer: @escaping (Int) -> UInt32 = { UInt32($0) },
        uniform: Bool = true
    ) -> TauChecks.InitialisationFunction {
        { seed, d in
            var p = TauParameters.zeros(dimension: d)
            let key = GaussianNoise(seed: seed, stream: 0).key
            func entry(_ layer: Int, _ k: Int) -> Double {
                let w = Philox4x32.block(counter: SIMD4(UInt32(k / 4), counterLayer(layer), 0, 0xFFFF_FFFE), key: key)
                let value = uniform ? 2 * unit(w[k % 4]) - 1 : GaussianNoise.boxMuller(w[0], w[1]).0 / 3.0.squareRoot()
                return bound(layer, d) * value
            }
            for k in p.w1.indices { p.w1[k] = entry(1, k) }
            for k in p.w2.indices { p.w2[k] = entry(2, k) }
            return p
        }
    }

    @Test("S9/I1 τ's initialisation is bit-exact to S9's layout")
    func initialisationLayout() throws {
        try expectClaim("S9/I1")
        #expect(try TauChecks.checkInitialisationLayout(seed: Self.seed("S9/I1"), initialise: Self.initialisation()).passed)
    }

    @Test("S9/I1 rejects u = w·2⁻³² (the ½ offset dropped)")
    func initialisationWithoutHalf() throws {
        let bug = Self.initialisation(unit: { Double($0) * 0x1p-32 })
        expectRejected(try TauChecks.checkInitialisationLayout(seed: Self.seed("S9/I1"), initialise: bug))
    }

    @Test("S9/I1 rejects bound₁ used for W₂")
    func initialisationSharedBound() throws {
        let bug = Self.initialisation(bound: { _, d in ReferenceADAR.xavierBound(layer: 1, dimension: d) })
        expectRejected(try TauChecks.checkInitialisationLayout(seed: Self.seed("S9/I1"), initialise: bug))
    }

    @Test("S9/I1 rejects a 0-based layer word in the counter")
    func initialisationZeroBasedLayer() throws {
        let bug = Self.initialisation(counterLayer: { UInt32($0 - 1) })
        expectRejected(try TauChecks.checkInitialisationLayout(seed: Self.seed("S9/I1"), initialise: bug))
    }

    @Test("S9/I2 W₁/bound₁ and W₂/bound₂ are U(−1, 1)")
    func initialisationDistribution() throws { try expectClaim("S9/I2") }

    @Test("S9/I2 rejects bound₁ used for W₂ (power)")
    func distributionSharedBound() throws {
        let bug = Self.initialisation(bound: { _, d in ReferenceADAR.xavierBound(layer: 1, dimension: d) })
        expectRejected(try TauChecks.checkInitialisationDistribution(seed: Self.seed("S9/I2"), initialise: bug))
    }

    @Test("S9/I2 rejects Gaussian weights of the same variance (power)")
    func distributionGaussian() throws {
        let bug = Self.initialisation(uniform: false)
        expectRejected(try TauChecks.checkInitialisationDistribution(seed: Self.seed("S9/I2"), initialise: bug))
    }

    // MARK: S9/F1

    @Test("S9/F1 ε̂ and L_τ match binary80 within the derived bound")
    func forward() throws { try expectClaim("S9/F1") }

    @Test("S9/F1 rejects τ's input in the order [PE(t) ; x_t ; e_u]")
    func forwardInputOrder() throws {
        let bug: TauChecks.PredictFunction = { p, xt, t, user in
            ReferenceADAR.tauForward(p, input: ReferenceADAR.positionalEncoding(timestep: t, dimension: xt.count) + xt + user).output
        }
        expectRejected(try TauChecks.checkForward(seed: Self.seed("S9/F1"), predict: bug))
    }

    @Test("S9/F1 rejects L_τ without the division by d")
    func forwardLossNotMean() throws {
        let bug: TauChecks.LossFunction = { p, xt, t, user, target in
            var result = ReferenceADAR.tauLoss(p, noisy: xt, timestep: t, user: user, target: target)
            result.loss *= Double(p.dimension)
            return result
        }
        expectRejected(try TauChecks.checkForward(seed: Self.seed("S9/F1"), loss: bug))
    }

    // MARK: S9/G1

    /// The reference gradient with one block recomputed by a planted bug.
    static func gradient(_ mutate: @escaping (TauParameters, ReferenceADAR.TauActivations, inout TauParameters, [Double]) -> Void)
        -> TauChecks.LossFunction {
        { p, xt, t, user, target in
            var result = ReferenceADAR.tauLoss(p, noisy: xt, timestep: t, user: user, target: target)
            let a = ReferenceADAR.tauForward(p, input: ReferenceADAR.tauInput(noisy: xt, timestep: t, user: user))
            mutate(p, a, &result.gradient, zip(a.output, target).map { 2 * ($0 - $1) / Double(p.dimension) })
            return result
        }
    }

    @Test("S9/G1 ∂L_τ/∂θ matches gsl_deriv_central on every parameter")
    func gradient() throws { try expectClaim("S9/G1") }

    @Test("S9/G1 rejects SiLU′(z) taken as σ(z)")
    func gradientLogisticSlope() throws {
        let bug = Self.gradient { p, a, g, gy in
            let d = p.dimension, hidden = 4 * d, inputs = 3 * d
            for j in 0..<hidden {
                var gh = 0.0
                for k in 0..<d { gh += p.w2[k * hidden + j] * gy[k] }
                let gz = gh * ReferenceADAR.logistic(a.preActivation[j])
                g.b1[j] = gz
                for i in 0..<inputs { g.w1[j * inputs + i] = gz * a.input[i] }
            }
        }
        expectRejected(try TauChecks.checkGradient(seed: Self.seed("S9/G1"), loss: bug))
    }

    @Test("S9/G1 rejects a gradient missing the factor 2 of the square")
    func gradientMissingTwo() throws {
        let bug: TauChecks.LossFunction = { p, xt, t, user, target in
            var result = ReferenceADAR.tauLoss(p, noisy: xt, timestep: t, user: user, target: target)
            result.gradient = TauParameters(dimension: p.dimension, flattened: result.gradient.flattened.map { $0 / 2 })
            return result
        }
        expectRejected(try TauChecks.checkGradient(seed: Self.seed("S9/G1"), loss: bug))
    }

    @Test("S9/G1 rejects ∂L/∂W₂ formed with z instead of SiLU(z)")
    func gradientPreActivation() throws {
        let bug = Self.gradient { p, a, g, gy in
            let hidden = 4 * p.dimension
            for k in 0..<p.dimension {
                for j in 0..<hidden { g.w2[k * hidden + j] = gy[k] * a.preActivation[j] }
            }
        }
        expectRejected(try TauChecks.checkGradient(seed: Self.seed("S9/G1"), loss: bug))
    }

    // MARK: S9/T1

    /// A training step from the public pieces, with planted bugs switchable.
    static func training(
        draw: @escaping (UInt64, Int, UInt64, Int, Int) -> TauTrainingDraw = {
            ReferenceADAR.tauTrainingDraw(seed: $0, epoch: $1, row: $2, dimension: $3, steps: $4)
        },
        divideByRows: Bool = true, keepSteps: Bool = true
    ) -> TauChecks.TrainingStep {
        { trainer, users, positives, firstRow, epoch, schedule, sigma in
            let d = trainer.parameters.dimension, rows = users.count / d
            var loss = 0.0, sum = [Double](repeating: 0, count: trainer.parameters.flattened.count)
            for i in 0..<rows {
                let draw = draw(trainer.seed, epoch, firstRow + UInt64(i), d, schedule.steps)
                let xt = ReferenceADAR.forwardSample(x0: positives[i * d ..< (i + 1) * d], epsilon: draw.epsilon,
                                                     timestep: draw.timestep, schedule: schedule, sigma: sigma)
                let row = ReferenceADAR.tauLoss(trainer.parameters, noisy: xt, timestep: draw.timestep,
                                                user: Array(users[i * d ..< (i + 1) * d]), target: draw.epsilon)
                loss += row.loss
                for (q, g) in row.gradient.flattened.enumerated() { sum[q] += g }
            }
            let scale = divideByRows ? Double(rows) : 1
            if !keepSteps { trainer.steps = 0 }
            ReferenceADAR.adamStep(&trainer, gradient: TauParameters(dimension: d, flattened: sum.map { $0 / scale }))
            return loss / scale
        }
    }

    @Test("S9/T1 τ's training step: draws, row-order mean, Adam, step count")
    func training() throws {
        try expectClaim("S9/T1")
        #expect(try TauChecks.checkTraining(seed: Self.seed("S9/T1"), train: Self.training()).passed)
    }

    @Test("S9/T1 rejects t′ = ⌊w₀·T/2³²⌋ (the + 1 dropped)")
    func trainingZeroBasedTimestep() throws {
        let bug = Self.training(draw: { seed, epoch, b, d, steps in
            var draw = ReferenceADAR.tauTrainingDraw(seed: seed, epoch: epoch, row: b, dimension: d, steps: steps)
            draw.timestep -= 1
            return draw
        })
        expectRejected(try TauChecks.checkTraining(seed: Self.seed("S9/T1"), train: bug))
    }

    @Test("S9/T1 rejects ε′ from stream E instead of 2³¹ + E (synthesis's stream)")
    func trainingSynthesisStream() throws {
        let bug = Self.training(draw: { seed, epoch, b, d, steps in
            var draw = ReferenceADAR.tauTrainingDraw(seed: seed, epoch: epoch, row: b, dimension: d, steps: steps)
            draw.epsilon = GaussianNoise(seed: seed, stream: UInt32(epoch)).row(b, dimension: d)
            return draw
        })
        expectRejected(try TauChecks.checkTraining(seed: Self.seed("S9/T1"), train: bug))
    }

    @Test("S9/T1 rejects the batch sum in place of the mean")
    func trainingSum() throws {
        expectRejected(try TauChecks.checkTraining(seed: Self.seed("S9/T1"), train: Self.training(divideByRows: false)))
    }

    @Test("S9/T1 rejects Adam's step count restarted every batch")
    func trainingStepCountReset() throws {
        expectRejected(try TauChecks.checkTraining(seed: Self.seed("S9/T1"), train: Self.training(keepSteps: false)))
    }

    // MARK: S9/D1

    @Test("S9/D1 x̂_0 = x_0 + σ·r_t·(ε − ε̂) equals the quotient form within its bound")
    func denoised() throws { try expectClaim("S9/D1") }

    @Test("S9/D1 rejects the quotient form (x_t − √(1 − ᾱ)·σ·ε̂)/√ᾱ in binary64")
    func denoisedQuotientForm() throws {
        let quotient: TauChecks.DenoisedSampleFunction = { x0, epsilon, predicted, r, sigma in
            let signal = 1 / (1 + r * r).squareRoot(), noise = r * signal
            return zip(x0, zip(epsilon, predicted)).map { x, pair in
                let xt = signal * x + noise * (sigma * pair.0)
                return (xt - noise * (sigma * pair.1)) / signal
            }
        }
        expectRejected(try TauChecks.checkDenoised(seed: Self.seed("S9/D1"), sample: quotient))
    }

    @Test("S9/D1 rejects r_t = √(1 − ᾱ_t)/ᾱ_t")
    func denoisedWrongRatio() throws {
        let bug: TauChecks.RatioTable = { schedule in schedule.alphaBar.map { (1 - $0).squareRoot() / $0 } }
        expectRejected(try TauChecks.checkDenoised(seed: Self.seed("S9/D1"), ratios: bug))
    }

    @Test("S9/D1 rejects x̂_0 without σ")
    func denoisedWithoutSigma() throws {
        let bug: TauChecks.DenoisedSampleFunction = { x0, epsilon, predicted, r, _ in
            ReferenceADAR.denoisedSample(x0: x0, epsilon: epsilon, predictedNoise: predicted, ratio: r, sigma: 1)
        }
        expectRejected(try TauChecks.checkDenoised(seed: Self.seed("S9/D1"), sample: bug))
    }

    // MARK: S9/C1

    @Test("S9/C1 forward is calibrated: Z and χ² over π-deciles do not reject")
    func calibration() throws { try expectClaim("S9/C1") }

    @Test("S9/C1 rejects x⁻ drawn without σ (power)")
    func calibrationWithoutSigma() throws {
        let bug: CalibrationChecks.SynthesisFunction = { batch, schedule, config in
            var outcomes = try ReferenceADAR.synthesize(batch, schedule: schedule, configuration: config)
            for b in outcomes.indices where !outcomes[b].status.isFallback {
                let x = ReferenceADAR.forwardSample(x0: batch.positive(b), epsilon: ReferenceADAR.epsilon(batch, row: b),
                                                    timestep: outcomes[b].timestep, schedule: schedule, sigma: 1)
                outcomes[b].syntheticNegative = x
                outcomes[b].syntheticScore = ReferenceADAR.dot(Array(batch.user(b)), x)
            }
            return outcomes
        }
        expectRejected(try CalibrationChecks.checkForwardCalibration(seed: Self.seed("S9/C1"), synthesize: bug))
    }

    @Test("S9/C1 rejects π computed with ᾱ_t in place of √ᾱ_t (power)")
    func calibrationAlphaBar() throws {
        let bug: CalibrationChecks.SynthesisFunction = { batch, schedule, config in
            var outcomes = try ReferenceADAR.synthesize(batch, schedule: schedule, configuration: config)
            for b in outcomes.indices where !outcomes[b].status.isFallback {
                let o = outcomes[b], t = o.timestep
                let n = ReferenceADAR.scoreNoiseScale(user: batch.user(b), sigma: config.sigma)
                outcomes[b].retention = StandardNormal.cdf(
                    (schedule.alphaBar[t] * o.positiveScore - o.referenceNegativeScore) / (schedule.sqrtOneMinusAlphaBar[t] * n))
            }
            return outcomes
        }
        expectRejected(try CalibrationChecks.checkForwardCalibration(seed: Self.seed("S9/C1"), synthesize: bug))
    }
}
