import Foundation
import ADARCore
import ADARReference
import ADAR

/// One row of an equivalence case: the reference's outcome, the analysis of
/// the binary32 inputs, and the optimised path's outputs, compared claim by claim.
struct RowComparison {
    let c: EquivalenceCase
    let b: Int
    let reference: RowOutcome
    let analysis: RowAnalysis
    let synthesis: SynthesisBuffers
    let user: UnsafeBufferPointer<Float>, positive: UnsafeBufferPointer<Float>
    let candidate: (Int) -> UnsafeBufferPointer<Float>

    var status: RowStatus { synthesis.statuses[b] }
    var timestep: Int { Int(synthesis.timesteps[b]) }
    var hardest: Int { Int(synthesis.hardestCandidates[b]) }
    var sameOutcome: Bool { status == reference.status && timestep == reference.timestep }

    /// S6/E1: status and t* within the analysis; equal to the reference's
    /// wherever the analysis allows a single outcome.
    func compareStatus(into tally: inout StatusTally, context: () -> String) {
        tally.rows += 1
        let steps = c.schedule.steps
        let found = "binary32 \(status.rawValue) t = \(timestep), reference \(reference.status.rawValue) t = \(reference.timestep)"
        if !analysis.allows(status: reference.status, timestep: reference.timestep, steps: steps) {
            tally.mismatches += 1
            tally.firstMismatch = tally.firstMismatch ?? "the analysis excludes the reference's outcome (\(found)): \(context())"
        } else if !analysis.allows(status: status, timestep: timestep, steps: steps) {
            tally.mismatches += 1
            tally.firstMismatch = tally.firstMismatch ?? "\(found), outside the analysis: \(context())"
        }
        if analysis.isBoundary {
            tally.boundary += 1
            tally.boundaryByKind[c.rowKinds[b].rawValue, default: 0] += 1
            if !sameOutcome {
                tally.boundaryDiffered += 1
                tally.exampleBoundary = tally.exampleBoundary ?? "boundary: \(found): \(context())"
            }
        }
    }

    /// The row's ε as the reference draws it, and the bound on the binary32 ε's distance.
    var epsilon: (values: [Double], error: (Double) -> Double) {
        let d = c.dimension
        switch c.noise {
        case let .explicit(values): return (values[b * d ..< (b + 1) * d].map(Double.init), { _ in 0 })
        case let .counter(seed, stream, rowOffset):
            return (GaussianNoise(seed: seed, stream: stream).row(rowOffset &+ UInt64(b), dimension: d),
                    Binary32Model.counterNoiseError)
        }
    }

    /// `x⁻` of the binary32 path, enclosed (S6 rows) or exact (fallback rows).
    var syntheticNegativeEnclosure: [Enclosure] {
        if status.isFallback { return candidate(hardest).map { .exact(Double($0)) } }
        let (values, error) = epsilon
        return EquivalenceAnalysis.syntheticNegative(
            positive: positive, epsilon: values, noiseError: error, timestep: timestep,
            schedule: c.schedule, sigma: c.configuration.sigma)
    }

    var syntheticScoreEnclosure: Enclosure {
        status.isFallback ? analysis.poolScores[hardest] : EquivalenceAnalysis.score(user: user, syntheticNegativeEnclosure)
    }

    /// S6/E2: scores, a*, π and x⁻ within their derived bounds.
    func compareOutputs(into tally: inout [String: ErrorTally], context: () -> String) {
        tally["s_0", default: .init()].record(Double(synthesis.positiveScores[b]), reference.positiveScore, analysis.positiveScore, context: context())
        tally["s⁻", default: .init()].record(Double(synthesis.referenceNegativeScores[b]), reference.referenceNegativeScore,
                                             analysis.negativeScore, context: context())
        tally["hardest", default: .init()].recordExact(
            analysis.possibleHardest.contains(hardest),
            context: "hardest \(hardest) not in \(analysis.possibleHardest): \(context())")
        guard sameOutcome else { return }
        let aStar = synthesis.aStars[b], pi = synthesis.retentions[b]
        let xNeg = synthesis.syntheticNegative(b)
        if status.isFallback {
            tally["a*", default: .init()].recordExact(aStar.isNaN && pi.isNaN, context: "fallback a* = \(aStar), π = \(pi): \(context())")
            tally["x⁻", default: .init()].recordExact(xNeg.elementsEqual(candidate(hardest)), context: "fallback x⁻ is not candidate \(hardest): \(context())")
            tally["⟨e_u, x⁻⟩", default: .init()].record(Double(synthesis.syntheticScores[b]), reference.syntheticScore,
                                                      Enclosure.maximum(analysis.poolScores), context: context())
            return
        }
        let transition = analysis.transition
        switch (aStar.isNaN, reference.aStar.isNaN) {
        case (false, false):
            let bound = transition?.amplitudeBound(reference: reference.aStar) ?? .infinity
            tally["a*", default: .init()].record(Double(aStar), reference.aStar, Enclosure(reference.aStar, radius: bound), context: context())
        case (true, true):
            tally["a*", default: .init()].recordExact(true, context: "")
        default:
            let existenceAmbiguous = transition.map { $0.rootPossible && $0.noRootPossible } ?? true
            tally["a*", default: .init()].recordExact(existenceAmbiguous, context: "a* = \(aStar), reference \(reference.aStar): \(context())")
        }
        tally["π", default: .init()].record(Double(pi), reference.retention,
                                            EquivalenceAnalysis.retention(analysis, timestep: timestep, schedule: c.schedule), context: context())
        let enclosure = syntheticNegativeEnclosure
        for k in 0..<c.dimension {
            tally["x⁻", default: .init()].record(Double(xNeg[k]), reference.syntheticNegative[k], enclosure[k], context: "component \(k), \(context())")
        }
        tally["⟨e_u, x⁻⟩", default: .init()].record(Double(synthesis.syntheticScores[b]), reference.syntheticScore,
                                                  EquivalenceAnalysis.score(user: user, enclosure), context: context())
    }

    /// S7/E1: the loss and its gradients within their derived bounds, on rows
    /// whose status, timestep and fallback candidate equal the reference's.
    func compareLoss(_ expected: RowLoss, _ losses: LossBuffers, into tally: inout [String: ErrorTally], context: () -> String) {
        guard sameOutcome, hardest == reference.hardestCandidate else { return }
        let config = c.configuration, d = c.dimension, u = Binary32Model.unitRoundoff
        let libm = Binary32Model.libmULPs * 2 * u
        // softplus32 = max(x, 0) + log1pf(expf(−|x|)): Lipschitz 1; expf and log1pf
        // (log1p has condition ≤ 1 on (0, 1]) and one sum. logistic32: Lipschitz ¼;
        // expf twice, one sum, one quotient.
        let softplus = { (x: Enclosure) in x.mapped(ReferenceADAR.softplus, lipschitz: 1, relativeError: 2 * libm + u) }
        let logistic = { (x: Enclosure) in x.mapped(ReferenceADAR.logistic, lipschitz: 0.25, relativeError: 2 * libm + 2 * u) }
        let s0 = analysis.positiveScore, sj = analysis.poolScores[0]
        let realMargin = s0 - sj
        var loss = softplus(-realMargin)
        let realWeight = logistic(-realMargin)
        let augment = (!status.isFallback || config.fallback == .hardest) && config.augmentationWeight > 0
        let w = Enclosure.rounded(config.augmentationWeight)
        var synthWeight = Enclosure.exact(0)
        let xNeg = syntheticNegativeEnclosure
        if augment {
            let syntheticMargin = s0 - syntheticScoreEnclosure
            loss = loss + w * softplus(-syntheticMargin)
            synthWeight = w * logistic(-syntheticMargin)
        }
        let through = augment && config.gradientFlow == .through
        let positiveFlow = through && !status.isFallback ? Enclosure.rounded(c.schedule.sqrtAlphaBar[timestep]) : .exact(0)
        let fallbackFlow = Enclosure.exact(through && status.isFallback ? 1 : 0)
        let lambda = Enclosure.rounded(config.l2)
        let x = positive.map { Enclosure.exact(Double($0)) }, e = user.map { Enclosure.exact(Double($0)) }
        let j = candidate(0).map { Enclosure.exact(Double($0)) }
        // Σ (u_k² + x_k² + j_k²): 3d non-negative terms, any order.
        let squaresValue = (0..<d).reduce(0.0) { $0 + e[$1].value * e[$1].value + x[$1].value * x[$1].value + j[$1].value * j[$1].value }
        let squares = Enclosure(squaresValue, radius: Binary32Model.gamma(3 * d) * squaresValue + Double(3 * d) * Binary32Model.underflowError)
        loss = loss + (lambda / .exact(2)) * squares
        tally["L", default: .init()].record(Double(losses.losses[b]), expected.loss, loss, context: context())

        let h = hardest
        for k in 0..<d {
            let gu = -realWeight * (x[k] - j[k]) - synthWeight * (x[k] - xNeg[k]) + lambda * e[k]
            let gi = (-realWeight - synthWeight * (.exact(1) - positiveFlow)) * e[k] + lambda * x[k]
            let gj = realWeight * e[k] + lambda * j[k]
            let gh = synthWeight * fallbackFlow * e[k]
            let got = (u: Double(losses.userGradients[b * d + k]), i: Double(losses.positiveGradients[b * d + k]),
                       j: Double(losses.negativeGradients[b * d + k]), h: Double(losses.fallbackGradients[b * d + k]))
            tally["∂L/∂e_u", default: .init()].record(got.u, expected.userGradient[k], gu, context: "component \(k), \(context())")
            tally["∂L/∂e_i", default: .init()].record(got.i, expected.positiveGradient[k], gi, context: "component \(k), \(context())")
            // The reference's pool gradient holds j_1's and the fallback candidate's together.
            if h == 0 {
                tally["∂L/∂e_j", default: .init()].record(got.j + got.h, expected.poolGradient[k], gj + gh, context: "component \(k), \(context())")
            } else {
                tally["∂L/∂e_j", default: .init()].record(got.j, expected.poolGradient[k], gj, context: "component \(k), \(context())")
                tally["∂L/∂e_h", default: .init()].record(got.h, expected.poolGradient[h * d + k], gh, context: "component \(k), \(context())")
            }
        }
    }
}
