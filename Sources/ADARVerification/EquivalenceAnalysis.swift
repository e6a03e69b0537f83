import Foundation
import ADARCore
import ADAR

/// What the error analysis of Proofs/S6-binary32-equivalence.md allows the
/// binary32 path to output for one row, from the row's binary32 inputs.
struct RowAnalysis {
    let positiveScore: Enclosure
    let poolScores: [Enclosure]
    let negativeScore: Enclosure
    let noiseScale: Enclosure
    /// S5 fallback statuses the binary32 path may reach (S6/E1, "Statuses").
    let possibleFallbacks: Set<RowStatus>
    /// Whether the box of binary32 inputs meets the valid domain.
    let validPossible: Bool
    /// On a box inside the valid domain: the S4.d/S4.f analysis.
    let transition: TransitionAnalysis?
    /// Candidates that may be the hardest in binary32 (S5, first on ties).
    let possibleHardest: [Int]

    /// False when `‖e_u‖²`, `n`, `s_0`, a pool score or the pool-score sum
    /// may reach the binary32 overflow threshold: the binary32 path may then
    /// refuse the whole call with `overflow` (S6/E1, "Range").
    var mayStayInRange: Bool {
        noiseScale.isBounded && positiveScore.isBounded && negativeScore.isBounded
            && Enclosure.sum(poolScores).isBounded
    }

    var isBoundary: Bool {
        var outcomes = possibleFallbacks.count
        if validPossible {
            if let transition {
                outcomes += transition.possibleTimesteps.count + (transition.saturatedPossible ? 1 : 0)
            } else {
                outcomes += 2   // the box straddles the valid domain: t* is not constrained
            }
        }
        return outcomes > 1
    }

    /// Whether `(status, timestep)` is within the analysis.
    func allows(status: RowStatus, timestep: Int, steps: Int) -> Bool {
        if status.isFallback { return possibleFallbacks.contains(status) && timestep == 0 }
        guard validPossible else { return false }
        guard let transition else { return status == .saturated ? timestep == steps : (1...steps).contains(timestep) }
        if status == .saturated { return transition.saturatedPossible && timestep == steps }
        return transition.possibleTimesteps.contains(timestep)
    }
}

/// S4.d–S4.f on a box of binary32 inputs inside the valid domain.
struct TransitionAnalysis {
    /// `a*` of the binary64 formula over the box corners (nil: no root at some corner / every corner).
    let lowestAmplitude: Double?, highestAmplitude: Double?
    /// Bound on the rounding of the binary32 evaluation of S4.d/S4.e.
    let formulaRounding: Double
    let rootPossible: Bool, noRootPossible: Bool
    let possibleTimesteps: Range<Int>
    let saturatedPossible: Bool

    /// `|â* − a*| ≤` this when both exist.
    func amplitudeBound(reference a: Double) -> Double {
        guard let low = lowestAmplitude, let high = highestAmplitude else { return .infinity }
        return Swift.max(high - a, a - low, 0) + formulaRounding
    }
}

enum EquivalenceAnalysis {
    static let u = Binary32Model.unitRoundoff, eta = Binary32Model.underflowError

    static func analyse(
        user: UnsafeBufferPointer<Float>, positive: UnsafeBufferPointer<Float>, candidates: [UnsafeBufferPointer<Float>],
        schedule: NoiseSchedule, configuration: ADARConfiguration
    ) -> RowAnalysis {
        let s0 = Enclosure.dot(user, positive)
        let scores = candidates.map { Enclosure.dot(user, $0) }
        let sNeg: Enclosure
        switch configuration.policy {
        case .max: sNeg = Enclosure.maximum(scores)
        case .mean: sNeg = Enclosure.sum(scores) / .exact(Double(scores.count))
        case .first: sNeg = scores[0]
        }
        let n = Enclosure.rounded(configuration.sigma) * Enclosure.dot(user, user).squareRoot()
        let nLow = Swift.max(n.lower, 0), nHigh = n.upper
        var fallbacks = Set<RowStatus>()
        if nLow <= 0 { fallbacks.insert(.degenerateUser) }
        var valid = false
        if nHigh > 0 {
            if s0.lower <= sNeg.upper { fallbacks.insert(.alreadyNegative) }
            if s0.lower <= 0 && Swift.min(s0.upper, 0) > sNeg.lower { fallbacks.insert(.nonPositiveScore) }
            valid = s0.upper > 0 && s0.upper > sNeg.lower
        }
        let transition = valid && fallbacks.isEmpty
            ? analyseTransition(s0: s0, sNeg: sNeg, n: n, schedule: schedule, rho: configuration.rho) : nil
        return RowAnalysis(
            positiveScore: s0, poolScores: scores, negativeScore: sNeg, noiseScale: n,
            possibleFallbacks: fallbacks, validPossible: valid, transition: transition,
            possibleHardest: possibleHardest(scores, candidates))
    }

    /// Candidate m may be the binary32 hardest when its score may reach every
    /// other's; of identical vectors (identical binary32 scores) only the first.
    static func possibleHardest(_ scores: [Enclosure], _ candidates: [UnsafeBufferPointer<Float>]) -> [Int] {
        let floor = scores.map(\.lower).max()!
        let eligible = scores.indices.filter { scores[$0].upper >= floor }
        guard eligible.count > 1 else { return eligible }
        return eligible.filter { m in
            !eligible.contains { k in k < m && candidates[k].elementsEqual(candidates[m]) }
        }
    }

    /// S4.d/S4.e in binary64 with `z` given (so that `z` can be perturbed).
    static func amplitude(s0: Double, sNeg: Double, n: Double, z: Double) -> Double? {
        if z == 0 { return sNeg >= 0 ? sNeg / s0 : nil }
        let zn = z * n
        let radicand = (s0 - sNeg) * (s0 + sNeg) + zn * zn
        guard radicand >= 0 else { return nil }
        let b = s0 * sNeg, c = zn * radicand.squareRoot()
        let a = (b >= 0) == (c >= 0)
            ? (b + c) / (s0 * s0 + zn * zn)
            : sNeg.addingProduct(-z, n) * sNeg.addingProduct(z, n) / (b - c)
        return a >= 0 ? a : nil
    }

    /// The rounding of the binary32 evaluation of S4.d/S4.e at one point
    /// (running error analysis), and whether a sign test on the way (the
    /// radicand, the branch, `a* ≥ 0`) may go either way.
    static func formulaRounding(s0: Double, sNeg: Double, n: Double, z: Double) -> (radius: Double, signAmbiguous: Bool) {
        let s0e = Enclosure.exact(s0), se = Enclosure.exact(sNeg), ne = Enclosure.exact(n), ze = Enclosure.rounded(z)
        if z == 0 { return ((se / s0e).radius, false) }
        let zn = ze * ne
        let radicand = (s0e - se) * (s0e + se) + zn * zn
        var ambiguous = radicand.lower < 0 && radicand.upper >= 0
        guard radicand.upper >= 0 else { return (0, ambiguous) }
        let root = Enclosure(Swift.max(radicand.value, 0), radius: radicand.radius).squareRoot()
        let b = s0e * se, c = zn * root
        let direct = (b + c) / (s0e * s0e + zn * zn)
        // The binary32 path fuses s⁻ ± z·n (one rounding each); rounding z·n
        // first, as modelled here, can only widen the bound.
        let product = (se - zn) * (se + zn) / (b - c)
        let sameSign = (b.lower >= 0 && c.lower >= 0) || (b.upper < 0 && c.upper < 0)
        let oppositeSign = (b.lower >= 0 && c.upper < 0) || (b.upper < 0 && c.lower >= 0)
        let candidates = sameSign ? [direct] : oppositeSign ? [product] : [direct, product]
        for a in candidates where a.lower < 0 && a.upper >= 0 { ambiguous = true }
        return (candidates.map(\.radius).max()!, ambiguous)
    }

    static func analyseTransition(
        s0: Enclosure, sNeg: Enclosure, n: Enclosure, schedule: NoiseSchedule, rho: Double
    ) -> TransitionAnalysis {
        let z = StandardNormal.quantile(rho)
        let zRadius = u * abs(z) + eta
        let zs = z == 0 ? [0.0] : [z - zRadius, z + zRadius]
        var amplitudes = [Double?](), rounding = 0.0, ambiguous = false
        // a* is monotone in each of s_0, s⁻, n, z on the valid domain (proof,
        // "Condition numbers"), so its range over the box is attained at corners.
        for a in [s0.lower, s0.upper] {
            for b in [sNeg.lower, sNeg.upper] {
                for c in [Swift.max(n.lower, .leastNonzeroMagnitude), n.upper] {
                    for zc in zs {
                        amplitudes.append(amplitude(s0: a, sNeg: b, n: c, z: zc))
                        let r = formulaRounding(s0: a, sNeg: b, n: c, z: zc)
                        rounding = Swift.max(rounding, r.radius)
                        ambiguous = ambiguous || r.signAmbiguous
                    }
                }
            }
        }
        let roots = amplitudes.compactMap { $0 }
        let low = roots.count == amplitudes.count ? roots.min() : nil
        let high = roots.max()
        var rootPossible = high != nil
        var noRootPossible = roots.count < amplitudes.count || ambiguous
        let amplitudeLow = (low ?? 0) - rounding
        if amplitudeLow < 0 { noRootPossible = noRootPossible || rootPossible }
        if !rounding.isFinite { rootPossible = true; noRootPossible = true }
        // ᾱ* = fl(â·â), compared with the binary32 table ᾱ_t(1 + δ) + η.
        let alphaLow = amplitudeLow > 0 && rounding.isFinite ? amplitudeLow * amplitudeLow * (1 - u) - eta : 0
        let amplitudeHigh = (high ?? 0) + rounding
        let alphaHigh = amplitudeHigh.isFinite ? amplitudeHigh * amplitudeHigh * (1 + u) + eta : .infinity
        let table = schedule.alphaBar, steps = schedule.steps
        let first = (1...steps).first { table[$0] * (1 - u) - eta <= alphaHigh }
        let last = (1...steps).first { table[$0] * (1 + u) + eta <= alphaLow }
        let timesteps = rootPossible && first != nil ? first! ..< (last ?? steps) + 1 : 0..<0
        let saturated = noRootPossible || last == nil || !rootPossible
        return TransitionAnalysis(
            lowestAmplitude: low, highestAmplitude: high, formulaRounding: rounding,
            rootPossible: rootPossible, noRootPossible: noRootPossible,
            possibleTimesteps: timesteps, saturatedPossible: saturated)
    }

    /// `π_t = Φ((√ᾱ_t·s_0 − s⁻)/(√(1 − ᾱ_t)·n))` in binary32 (S4.a); the
    /// binary32 `erfcf` adds `libmULPs`, the argument scaling by `1/√2` two roundings.
    static func retention(_ row: RowAnalysis, timestep t: Int, schedule: NoiseSchedule) -> Enclosure {
        let signal = Enclosure.rounded(schedule.sqrtAlphaBar[t]), noise = Enclosure.rounded(schedule.sqrtOneMinusAlphaBar[t])
        let margin = (signal * row.positiveScore - row.negativeScore) / (noise * row.noiseScale)
        let scaled = Enclosure(margin.value, radius: margin.radius + 3 * u * (abs(margin.value) + margin.radius))
        return normalCDFEnclosure(scaled, libmRelativeError: Binary32Model.libmULPs * 2 * u)
    }

    /// `x⁻_k = √ᾱ_t·x_0k + (√(1 − ᾱ_t)·σ)·ε_k` in binary32, with `|ε̂_k − ε_k| ≤ noiseError(ε_k)`.
    static func syntheticNegative(
        positive: UnsafeBufferPointer<Float>, epsilon: [Double], noiseError: (Double) -> Double,
        timestep t: Int, schedule: NoiseSchedule, sigma: Double
    ) -> [Enclosure] {
        let signal = Enclosure.rounded(schedule.sqrtAlphaBar[t])
        let noiseScale = Enclosure.rounded(schedule.sqrtOneMinusAlphaBar[t]) * Enclosure.rounded(sigma)
        return (0..<positive.count).map { k in
            signal * .exact(Double(positive[k])) + noiseScale * Enclosure(epsilon[k], radius: noiseError(epsilon[k]))
        }
    }

    /// `⟨e_u, x̂⁻⟩` in binary32 where `x̂⁻` is itself enclosed.
    static func score(user: UnsafeBufferPointer<Float>, _ x: [Enclosure]) -> Enclosure {
        var value = 0.0, propagated = 0.0, magnitude = 0.0
        for k in 0..<user.count {
            let uk = Double(user[k])
            value += uk * x[k].value
            propagated += abs(uk) * x[k].radius
            magnitude += abs(uk) * (abs(x[k].value) + x[k].radius)
        }
        let d = user.count
        guard propagated.isFinite, magnitude * (1 + Binary32Model.gamma(d)) < Binary32Model.largest else {
            return Enclosure(value, radius: .infinity)
        }
        return Enclosure(value, radius: propagated + Binary32Model.gamma(d) * magnitude + Double(d) * eta)
    }
}
