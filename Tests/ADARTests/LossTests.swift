import Foundation
import Testing
import ADARCore
import ADARReference
import ADARVerification

/// Proofs/S7-loss.md: the S7 loss, its gradients, softplus.
@Suite("S7 loss")
struct LossTests {
    static let seed: UInt64 = 20_260_101

    // MARK: S7/G1

    @Test("S7/G1 gradients match gsl_deriv_central for detach/through × skip/hardest")
    func gradients() throws { try expectClaim("S7/G1") }

    @Test("S7/G1 rejects a gradient that ignores through (treats it as detach)")
    func gradientIgnoringThrough() throws {
        expectRejected(try LossChecks.checkGradients(seed: Self.seed) { batch, b, outcome, schedule, config in
            var detached = config
            detached.gradientFlow = .detach
            return ReferenceADAR.loss(batch, row: b, outcome: outcome, schedule: schedule, configuration: detached)
        })
    }

    @Test("S7/G1 rejects a through gradient missing the √ᾱ_t factor")
    func gradientMissingSignalFactor() throws {
        expectRejected(try LossChecks.checkGradients(seed: Self.seed) { batch, b, outcome, schedule, config in
            var result = ReferenceADAR.loss(batch, row: b, outcome: outcome, schedule: schedule, configuration: config)
            guard config.gradientFlow == .through, !outcome.status.isFallback else { return result }
            // ∂x⁻/∂x_0 taken as I instead of √ᾱ_t·I.
            let user = Array(batch.user(b))
            let margin = ReferenceADAR.dot(user, Array(batch.positive(b))) - ReferenceADAR.dot(user, outcome.syntheticNegative)
            let weight = config.augmentationWeight * ReferenceADAR.logistic(-margin)
            let missing = 1 - schedule.sqrtAlphaBar[outcome.timestep]
            for k in user.indices { result.positiveGradient[k] += weight * missing * user[k] }
            return result
        })
    }

    @Test("S7/G1 rejects a gradient missing the λ term on e_j")
    func gradientMissingL2OnNegative() throws {
        expectRejected(try LossChecks.checkGradients(seed: Self.seed) { batch, b, outcome, schedule, config in
            var result = ReferenceADAR.loss(batch, row: b, outcome: outcome, schedule: schedule, configuration: config)
            for (k, x) in batch.candidate(b, 0).enumerated() { result.poolGradient[k] -= config.l2 * x }
            return result
        })
    }

    @Test("S7/G1 rejects a gradient that does not apply the weight w")
    func gradientIgnoringWeight() throws {
        expectRejected(try LossChecks.checkGradients(seed: Self.seed, loss: Self.ignoringWeight))
    }

    // MARK: S7/L1

    @Test("S7/L1 loss value matches log1plusx(e^{−m}) with compensated margins")
    func lossValue() throws { try expectClaim("S7/L1") }

    @Test("S7/L1 rejects an augmentation term on fallback rows under skip")
    func lossAugmentingSkippedFallback() throws {
        expectRejected(try LossChecks.checkLossValue(seed: Self.seed) { batch, b, outcome, schedule, config in
            var hardest = config
            if outcome.status.isFallback { hardest.fallback = .hardest }
            return ReferenceADAR.loss(batch, row: b, outcome: outcome, schedule: schedule, configuration: hardest)
        })
    }

    @Test("S7/L1 rejects a loss that ignores the weight w")
    func lossIgnoringWeight() throws {
        expectRejected(try LossChecks.checkLossValue(seed: Self.seed, loss: Self.ignoringWeight))
    }

    // MARK: S7/F1

    @Test("S7/F1 softplus is finite on [−1000, 1000] and within 4 ulp of GSL")
    func softplus() throws { try expectClaim("S7/F1") }

    @Test("S7/F1 rejects the naive −log(sigmoid(−x)), which overflows at x = 1000")
    func naiveSoftplus() throws {
        let naive = { (x: Double) in -log(1 / (1 + exp(x))) }
        #expect(naive(1000) == .infinity)
        let result = try LossChecks.checkSoftplus(seed: Self.seed, softplus: naive)
        expectRejected(result)
        #expect(result.worstCase.contains("is not finite"))
    }

    @Test("S7/F1 rejects the naive log(1 + exp(x))")
    func naiveLogOnePlusExp() throws {
        let naive = { (x: Double) in log(1 + exp(x)) }
        #expect(naive(1000) == .infinity)
        expectRejected(try LossChecks.checkSoftplus(seed: Self.seed, softplus: naive))
    }

    /// The loss with `w` dropped (taken as 1), in value and gradient.
    static func ignoringWeight(
        _ batch: ADARBatch, _ b: Int, _ outcome: RowOutcome, _ schedule: NoiseSchedule, _ config: ADARConfiguration
    ) -> RowLoss {
        var unweighted = config
        unweighted.augmentationWeight = 1
        return ReferenceADAR.loss(batch, row: b, outcome: outcome, schedule: schedule, configuration: unweighted)
    }
}
