import Foundation
import ADARCore

/// One row's draws for S9's τ training: the target noise `ε′` and the timestep `t′`.
public struct TauTrainingDraw: Equatable, Sendable {
    public var epsilon: [Double]
    public var timestep: Int
}

/// τ and its Adam state (S9): β₁ 0.9, β₂ 0.999, ε 1e-8, bias-corrected, no
/// weight decay; the step count is kept across batches and epochs.
public struct TauTrainer: Equatable, Sendable {
    public static let beta1 = 0.9, beta2 = 0.999, adamEpsilon = 1e-8

    /// The run's seed: the key of τ's initialisation and of its training draws (S8).
    public let seed: UInt64
    /// `lr_τ`.
    public var learningRate: Double
    public var parameters: TauParameters
    /// Adam's first and second moments, in the shape of the parameters.
    public var firstMoment: TauParameters
    public var secondMoment: TauParameters
    /// Adam steps taken so far.
    public var steps: Int

    /// τ initialised from `seed` (S9), zero moments, no step taken.
    public init(seed: UInt64, dimension d: Int, learningRate: Double) {
        let zeros = TauParameters.zeros(dimension: d)
        self.init(
            seed: seed, learningRate: learningRate, parameters: ReferenceADAR.tauInitialParameters(seed: seed, dimension: d),
            firstMoment: zeros, secondMoment: zeros, steps: 0)
    }

    /// τ and Adam's state as given (a restored run, or the fixture operation `tauStep`).
    public init(seed: UInt64, learningRate: Double, parameters: TauParameters, firstMoment: TauParameters, secondMoment: TauParameters, steps: Int) {
        precondition(learningRate.isFinite && learningRate > 0, "lr_τ = \(learningRate) must be finite and > 0")
        precondition(firstMoment.dimension == parameters.dimension && secondMoment.dimension == parameters.dimension && steps >= 0)
        self.seed = seed
        self.learningRate = learningRate
        self.parameters = parameters
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
        self.steps = steps
    }
}

extension ReferenceADAR {
    /// S9: the Philox stream word of τ's training draws in 1-based epoch `E`, `2³¹ + E`.
    public static func tauTrainingStream(epoch: Int) -> UInt32 {
        precondition(epoch >= 1 && epoch < 1 << 31, "epoch \(epoch) is outside 1…2³¹ − 1")
        return 0x8000_0000 + UInt32(epoch)
    }

    /// S9: for global row `b` in epoch `E`, `ε′_k` = S8 normal `(seed, 2³¹ + E, b, k)` and
    /// `t′ = 1 + ⌊w₀·T/2³²⌋`, `w₀` word 0 of Philox on counter
    /// `(2³² − 1, low32(b), high32(b), 2³¹ + E)` with S8's key.
    public static func tauTrainingDraw(seed: UInt64, epoch: Int, row b: UInt64, dimension d: Int, steps T: Int) -> TauTrainingDraw {
        let noise = GaussianNoise(seed: seed, stream: tauTrainingStream(epoch: epoch))
        let w0 = Philox4x32.block(counter: noise.counter(row: b, block: 0xFFFF_FFFF), key: noise.key)[0]
        let timestep = 1 + Int((UInt64(w0) * UInt64(T)) >> 32)
        return TauTrainingDraw(epsilon: noise.row(b, dimension: d), timestep: timestep)
    }

    /// S9: the mean over the batch's rows (row `i` has global number `firstRow + i`),
    /// accumulated in row order, of `L_τ` and its gradient, with
    /// `x_t′ = √ᾱ_t′·x_0 + √(1 − ᾱ_t′)·σ·ε′`; `e_u` and `x_0 = e_i` are constants.
    /// `users` and `positives` are `rows × d`, row-major.
    public static func tauBatchLoss(
        _ p: TauParameters, users: [Double], positives: [Double], firstRow: UInt64,
        seed: UInt64, epoch: Int, schedule: NoiseSchedule, sigma: Double
    ) -> TauLoss {
        let d = p.dimension
        precondition(users.count == positives.count && users.count % d == 0 && !users.isEmpty)
        let draws = (0 ..< users.count / d).map {
            tauTrainingDraw(seed: seed, epoch: epoch, row: firstRow &+ UInt64($0), dimension: d, steps: schedule.steps)
        }
        return tauBatchLoss(
            p, users: users, positives: positives, targets: draws.flatMap(\.epsilon), timesteps: draws.map(\.timestep),
            schedule: schedule, sigma: sigma)
    }

    /// S9's batch `L_τ` and its gradient with the draws given: row `i` has
    /// target `ε′` = `targets` row `i` and timestep `timesteps[i]`; the mean over
    /// the rows accumulated in row order. `users`, `positives`, `targets` are `rows × d`.
    public static func tauBatchLoss(
        _ p: TauParameters, users: [Double], positives: [Double], targets: [Double], timesteps: [Int],
        schedule: NoiseSchedule, sigma: Double
    ) -> TauLoss {
        let d = p.dimension, rows = timesteps.count
        precondition(rows >= 1 && users.count == rows * d && positives.count == rows * d && targets.count == rows * d)
        return tauBatchMean(rows: rows, dimension: d) { i in
            let target = Array(targets[i * d ..< (i + 1) * d])
            let xt = forwardSample(x0: positives[i * d ..< (i + 1) * d], epsilon: target, timestep: timesteps[i], schedule: schedule, sigma: sigma)
            return tauLoss(p, noisy: xt, timestep: timesteps[i], user: Array(users[i * d ..< (i + 1) * d]), target: target)
        }
    }

    /// The mean of `rows` rows' `L_τ` and gradients, accumulated in row order (S9's batch loss;
    /// a port's diagnosis builds its rows its own way and averages them here).
    public static func tauBatchMean(rows: Int, dimension d: Int, row: (Int) -> TauLoss) -> TauLoss {
        var lossSum = 0.0, gradientSum = [Double](repeating: 0, count: TauParameters.zeros(dimension: d).flattened.count)
        for i in 0..<rows {
            let loss = row(i)
            lossSum += loss.loss
            for (q, g) in loss.gradient.flattened.enumerated() { gradientSum[q] += g }
        }
        let count = Double(rows)
        return TauLoss(loss: lossSum / count, gradient: TauParameters(dimension: d, flattened: gradientSum.map { $0 / count }))
    }

    /// One bias-corrected Adam step (Kingma & Ba 2015) of S9's constants on
    /// `gradient`: `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`,
    /// `θ ← θ − lr·(m/(1 − β₁ˢ))/(√(v/(1 − β₂ˢ)) + ε)` with `s` the step count after increment.
    public static func adamStep(_ trainer: inout TauTrainer, gradient: TauParameters) {
        precondition(gradient.dimension == trainer.parameters.dimension)
        trainer.steps += 1
        let s = Double(trainer.steps)
        let correction1 = 1 - pow(TauTrainer.beta1, s), correction2 = 1 - pow(TauTrainer.beta2, s)
        var theta = trainer.parameters.flattened, m = trainer.firstMoment.flattened, v = trainer.secondMoment.flattened
        for (k, g) in gradient.flattened.enumerated() {
            m[k] = TauTrainer.beta1 * m[k] + (1 - TauTrainer.beta1) * g
            v[k] = TauTrainer.beta2 * v[k] + (1 - TauTrainer.beta2) * g * g
            theta[k] -= trainer.learningRate * (m[k] / correction1) / ((v[k] / correction2).squareRoot() + TauTrainer.adamEpsilon)
        }
        let d = gradient.dimension
        trainer.parameters = TauParameters(dimension: d, flattened: theta)
        trainer.firstMoment = TauParameters(dimension: d, flattened: m)
        trainer.secondMoment = TauParameters(dimension: d, flattened: v)
    }

    /// S9 step (2) of a batch: one Adam step of τ on the batch's mean `L_τ`.
    /// Returns the mean loss before the step.
    @discardableResult
    public static func trainTau(
        _ trainer: inout TauTrainer, users: [Double], positives: [Double], firstRow: UInt64,
        epoch: Int, schedule: NoiseSchedule, sigma: Double
    ) -> Double {
        let batch = tauBatchLoss(
            trainer.parameters, users: users, positives: positives, firstRow: firstRow,
            seed: trainer.seed, epoch: epoch, schedule: schedule, sigma: sigma)
        adamStep(&trainer, gradient: batch.gradient)
        return batch.loss
    }
}
