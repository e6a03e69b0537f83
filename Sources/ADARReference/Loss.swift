import Foundation
import ADARCore

/// The S7 loss of one row and its gradient with respect to every input embedding.
public struct RowLoss: Equatable, Sendable {
    public var loss: Double
    /// `∂L/∂e_u`, `d` values.
    public var userGradient: [Double]
    /// `∂L/∂e_i`, `d` values.
    public var positiveGradient: [Double]
    /// `∂L/∂e_{j_m}`, `M × d` values (non-zero for `j_1`, and for the fallback
    /// candidate under `fallback = hardest, gradientFlow = through`).
    public var poolGradient: [Double]
}

extension ReferenceADAR {
    /// `softplus(x) = max(x, 0) + log1p(exp(−|x|))`: finite for every finite x.
    public static func softplus(_ x: Double) -> Double {
        max(x, 0) + log1p(exp(-abs(x)))
    }

    /// `d softplus(x)/dx = 1/(1 + e^{−x})`, evaluated without overflow.
    public static func logistic(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
    }

    /// S7: `L = softplus(−(s_0 − s_uj)) + w·softplus(−(s_0 − ⟨e_u, x⁻⟩)) + λ/2·(‖e_u‖² + ‖e_i‖² + ‖e_j‖²)`
    /// for row `b`, with `j = j_1`, `x⁻` from the row's outcome and `w` the row's
    /// (`ADARConfiguration.augmentationWeight(fallbackRow:)`).
    public static func loss(
        _ batch: ADARBatch, row b: Int, outcome: RowOutcome,
        schedule: NoiseSchedule, configuration config: ADARConfiguration
    ) -> RowLoss {
        let d = batch.dimension
        let user = Array(batch.user(b)), positive = Array(batch.positive(b)), negative = Array(batch.candidate(b, 0))
        let s0 = dot(user, positive), sNeg = dot(user, negative)
        var loss = softplus(-(s0 - sNeg))
        // ∂softplus(−m)/∂m = −logistic(−m).
        let realWeight = logistic(-(s0 - sNeg))
        var gUser = (0..<d).map { -realWeight * (positive[$0] - negative[$0]) }
        var gPositive = user.map { -realWeight * $0 }
        var gPool = [Double](repeating: 0, count: batch.poolSize * d)
        for k in 0..<d { gPool[k] = realWeight * user[k] }

        // The row's w: `syntheticWeight` (default w) on synthesised rows; on fallback rows w under
        // `hardest`, 0 under `skip` (S7).
        let rowWeight = config.augmentationWeight(fallbackRow: outcome.status.isFallback)
        if rowWeight > 0 {
            let xNeg = outcome.syntheticNegative
            let margin = s0 - dot(user, xNeg)
            loss += rowWeight * softplus(-margin)
            let weight = rowWeight * logistic(-margin)
            for k in 0..<d {
                gUser[k] -= weight * (positive[k] - xNeg[k])
                gPositive[k] -= weight * user[k]
            }
            if config.gradientFlow == .through {
                if outcome.status.isFallback {
                    // x⁻ is the fallback candidate's own embedding.
                    let start = outcome.hardestCandidate * d
                    for k in 0..<d { gPool[start + k] += weight * user[k] }
                } else {
                    // ∂x⁻/∂x_0 = √ᾱ_t·I.
                    let signal = schedule.sqrtAlphaBar[outcome.timestep]
                    for k in 0..<d { gPositive[k] += weight * signal * user[k] }
                }
            }
        }

        let lambda = config.l2
        loss += lambda / 2 * (dot(user, user) + dot(positive, positive) + dot(negative, negative))
        for k in 0..<d {
            gUser[k] += lambda * user[k]
            gPositive[k] += lambda * positive[k]
            gPool[k] += lambda * negative[k]
        }
        return RowLoss(loss: loss, userGradient: gUser, positiveGradient: gPositive, poolGradient: gPool)
    }
}
