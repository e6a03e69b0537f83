import Foundation
import ADARCore
import ADARReference
import GSLOracle

/// `π_t` from the timestep, `s_0`, `s⁻`, `n` and the schedule (spec S4.a).
public typealias RetentionFunction = @Sendable (
    _ timestep: Int, _ positiveScore: Double, _ referenceNegativeScore: Double, _ noiseScale: Double,
    _ schedule: NoiseSchedule
) -> Double

/// A function of `(a, s_0, s⁻, n)`: the standardized margin `g` of S4.b or its derivative.
public typealias MarginFunction = @Sendable (
    _ amplitude: Double, _ positiveScore: Double, _ referenceNegativeScore: Double, _ noiseScale: Double
) -> Double

/// The S4.a–S4.b implementation under test.
public struct RetentionModel: Sendable {
    public var retention: RetentionFunction
    public var margin: MarginFunction
    public var marginDerivative: MarginFunction

    public init(
        retention: @escaping RetentionFunction, margin: @escaping MarginFunction,
        marginDerivative: @escaping MarginFunction
    ) {
        self.retention = retention
        self.margin = margin
        self.marginDerivative = marginDerivative
    }

    /// `ReferenceADAR.retention`, `standardizedMargin`, `standardizedMarginDerivative`.
    public static let reference = RetentionModel(
        retention: { t, s0, sNeg, n, schedule in
            ReferenceADAR.retention(
                timestep: t, positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n, schedule: schedule)
        },
        margin: { a, s0, sNeg, n in
            ReferenceADAR.standardizedMargin(amplitude: a, positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n)
        },
        marginDerivative: { a, s0, sNeg, n in
            ReferenceADAR.standardizedMarginDerivative(
                amplitude: a, positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n)
        })
}

/// Checks of Proofs/S4-retention.md (S4.a–S4.b retention and monotonicity).
public enum RetentionChecks {
    public static var claims: [Claim] {
        [
            Claim(id: "S4.a/B1", title: "Lemma 2: π_t is the Monte Carlo frequency of s_t > s⁻") {
                try checkRetentionFrequency(seed: $0)
            },
            Claim(id: "S4.b/D1", title: "Lemma 3: g'(a) agrees with GSL's central derivative of g") {
                try checkMarginDerivative(seed: $0)
            },
            Claim(id: "S4.b/M1", title: "on the valid domain g(√ᾱ_t) strictly decreases in t, π_t never increases, g' > 0") {
                try checkMonotonicity(seed: $0)
            },
            Claim(id: "S4.b/N1", title: "outside the valid domain g is not monotone: g' changes sign at a = s_0/s⁻") {
                try checkNonMonotonicity(seed: $0)
            },
        ]
    }

    /// `g(a) = (a·s_0 − s⁻)/(n·√(1 − a²))` as S4.b writes it, evaluated for the
    /// oracle with `fma` and `1 − a² = (1 − a)(1 + a)`: relative error at most
    /// about 5.5u for every `a ∈ (−1, 1)` (Proofs/S4-retention.md, S4.b/D1).
    static func specMargin(_ a: Double, _ s0: Double, _ sNeg: Double, _ n: Double) -> Double {
        fma(a, s0, -sNeg) / (n * ((1 - a) * (1 + a)).squareRoot())
    }

    // MARK: S4.a/B1

    /// Random rows of S4.a/B1 and Monte Carlo replicates per row.
    public static let retentionRows = 8
    public static let retentionReplicates = 20_000
    /// Family-wise significance level of S4.a/B1 (Bonferroni over the rows).
    public static let retentionAlpha = 1e-3

    /// Coarse schedules, so that a one-step timestep error moves `π` far
    /// beyond the Monte Carlo noise (power check of S4.a/B1).
    static func coarseSchedules() throws -> [NoiseSchedule] {
        try [
            NoiseSchedule(.defaultCosine, steps: 20),
            NoiseSchedule(.linear(start: 0.01, end: 0.2), steps: 10),
            NoiseSchedule(.ddpmLinear, steps: 50),
            NoiseSchedule(.linearVariance(scale: 1, min: 1e-3, max: 0.5, maxBeta: 0.999), steps: 8),
        ]
    }

    /// S4.a/B1: on random rows (random `e_u`, `x_0`, `σ`, schedule, a timestep
    /// with `ᾱ_t ∈ [0.1, 0.9]`, and `s⁻` placed so that the exact standardized
    /// margin is `±U(0.5, 1.5)`), the count of replicates with
    /// `⟨e_u, x_t⟩ > s⁻` — `x_t` from the reference sampler with S8 noise row
    /// `r` — is binomially tested against the model's `π_t`.
    public static func checkRetentionFrequency(
        seed: UInt64, model: RetentionModel = .reference,
        rows: Int = retentionRows, replicates: Int = retentionReplicates
    ) throws -> ClaimResult {
        var rng = SeededGenerator(seed: seed)
        let schedules = try coarseSchedules()
        var minP = 1.0, worst = ""
        for row in 0..<rows {
            let schedule = schedules[row % schedules.count]
            let moderate = (1...schedule.steps).filter { (0.1...0.9).contains(schedule.alphaBar[$0]) }
            let t = moderate[Int.random(in: 0..<moderate.count, using: &rng)]
            let d = Int.random(in: 1...16, using: &rng)
            let sigma = ForwardProcessChecks.logUniform(0.1, 10, using: &rng)
            let user = rng.normals(d), x0 = rng.normals(d)
            let s0 = ForwardProcessChecks.plainDot(user, x0)
            let n = sigma * ForwardProcessChecks.plainDot(user, user).squareRoot()
            let alphaBar = schedule.alphaBar[t]
            let targetMargin = Double.random(in: 0.5...1.5, using: &rng) * (Bool.random(using: &rng) ? 1 : -1)
            let sNeg = alphaBar.squareRoot() * s0 - targetMargin * (1 - alphaBar).squareRoot() * n

            let noise = GaussianNoise(seed: seed, stream: 0x5400 + UInt32(row))
            var above = 0
            for r in 0..<replicates {
                let epsilon = noise.row(UInt64(r), dimension: d)
                let xt = ReferenceADAR.forwardSample(x0: x0[...], epsilon: epsilon, timestep: t, schedule: schedule, sigma: sigma)
                if ForwardProcessChecks.plainDot(user, xt) > sNeg { above += 1 }
            }
            let pi = model.retention(t, s0, sNeg, n, schedule)
            let p = pi.isFinite && (0...1).contains(pi)
                ? GSL.binomialTwoSidedPValue(successes: above, probability: pi, trials: replicates) : 0
            if worst.isEmpty || p < minP {
                minP = p
                worst = "\(schedule.kind.name) T=\(schedule.steps) t=\(t) d=\(d) s_0=\(short(s0)) s⁻=\(short(sNeg)) "
                    + "n=\(short(n)): π_t = \(short(pi)), frequency \(above)/\(replicates), p = \(short(p))"
            }
        }
        return ClaimResult(
            id: "S4.a/B1",
            statistic: "two-sided binomial test of #{s_t > s⁻} over \(replicates) S8 replicates on \(rows) random rows; "
                + "Bonferroni ×\(rows)",
            measure: .pValue(min(1, Double(rows) * minP), alpha: retentionAlpha),
            seed: seed, worstCase: worst)
    }

    // MARK: S4.b/D1

    public static let derivativeCases = 1000
    /// GSL's error estimate is an estimate, not a bound; Proofs/S4-retention.md
    /// (S4.b/D1) shows a factor 2 covers its rounding part and the truncation
    /// part is already an overestimate; 4 leaves a margin of 2.
    public static let derivativeSafety = 4.0

    /// S4.b/D1: `g'(a)` of the model against `gsl_deriv_central` of S4.b's `g`
    /// over random valid inputs and `a ∈ [0, 0.99]`, with the per-case
    /// tolerance `safety × GSL error + derived rounding bound of g'`. Reports
    /// the error and the tolerance at the case with the largest ratio.
    public static func checkMarginDerivative(
        seed: UInt64, model: RetentionModel = .reference, cases: Int = derivativeCases
    ) throws -> ClaimResult {
        var rng = SeededGenerator(seed: seed)
        let u = 0x1p-53
        var worstRatio = -1.0, worstError = Double.nan, worstBound = Double.nan, worst = ""
        for _ in 0..<cases {
            let (s0, sNeg, n) = validInputs(using: &rng)
            let a = Double.random(in: 0...0.99, using: &rng)
            let step = min(1e-2, (1 - a) / 4)
            let oracle = try GSL.centralDerivative(at: a, step: step) { specMargin($0, s0, sNeg, n) }
            let value = model.marginDerivative(a, s0, sNeg, n)

            // Proofs/S4-retention.md, S4.b/D1: rounding of g' as the reference writes it.
            let numerator = s0 - a * sNeg
            let numeratorError = u * (1 + abs(a * sNeg) / abs(numerator))
            let oneMinusSquareError = u * (1 + a * a / (1 - a * a))
            let rounding = abs(oracle.value) * (numeratorError + 1.5 * oneMinusSquareError + 4 * u) * 1.01
            let bound = derivativeSafety * oracle.error + rounding
            let error = abs(value - oracle.value)
            let ratio = error / bound
            if !(ratio <= worstRatio) {
                worstRatio = ratio
                worstError = error
                worstBound = bound
                worst = "a=\(a) s_0=\(s0) s⁻=\(sNeg) n=\(n): g' = \(value), GSL \(oracle.value) ± \(short(oracle.error))"
            }
            if ratio.isNaN { break }
        }
        return ClaimResult(
            id: "S4.b/D1",
            statistic: "|g'(a) − GSL central derivative of g| over \(cases) valid inputs, a ∈ [0, 0.99]; "
                + "worst error/tolerance ratio \(short(worstRatio))",
            measure: .maxError(worstError, bound: worstBound, unit: "abs"),
            seed: seed, worstCase: worst)
    }

    /// Random `(s_0, s⁻, n)` on the valid domain `n > 0, s_0 > 0, s_0 > s⁻`:
    /// `s_0` and `n` log-uniform over six decades, `s⁻ = s_0·v` with
    /// `v ∈ [−3, 0.999]` (both signs of `s⁻`, down to 0.1 % below `s_0`).
    static func validInputs(using rng: inout SeededGenerator) -> (Double, Double, Double) {
        let s0 = ForwardProcessChecks.logUniform(1e-3, 1e3, using: &rng)
        let sNeg = s0 * Double.random(in: -3...0.999, using: &rng)
        let n = ForwardProcessChecks.logUniform(1e-3, 1e3, using: &rng)
        return (s0, sNeg, n)
    }

    // MARK: S4.b/M1

    public static let monotonicityInputs = 1000

    /// S4.b/M1: on random valid inputs and schedules, `g(√ᾱ_t)` strictly
    /// decreases over `t = 1…T`, `π_t` never increases over `t = 0…T` (Φ may
    /// saturate at 0 or 1 in binary64), and `g'(a) > 0` on the grid
    /// `a = 0, 0.01, …, 0.99`. Counts every comparison; reports the first failure.
    public static func checkMonotonicity(
        seed: UInt64, model: RetentionModel = .reference, inputs: Int = monotonicityInputs
    ) throws -> ClaimResult {
        var rng = SeededGenerator(seed: seed)
        let schedules = try [
            NoiseSchedule(.ddpmLinear, steps: 200), NoiseSchedule(.defaultCosine, steps: 200),
            NoiseSchedule(.scaledLinear(start: 0.00085, end: 0.012), steps: 200),
            NoiseSchedule(.linearVariance(scale: 0.1, min: 1e-4, max: 0.02, maxBeta: 0.999), steps: 50),
            NoiseSchedule(.linear(start: 1e-4, end: 0.02), steps: 100),
        ]
        let grid = (0..<100).map { Double($0) / 100 }
        var mismatches = 0, comparisons = 0, firstFailure = ""
        func record(_ holds: Bool, _ what: @autoclosure () -> String) {
            comparisons += 1
            if !holds {
                mismatches += 1
                if firstFailure.isEmpty { firstFailure = what() }
            }
        }
        for _ in 0..<inputs {
            let (s0, sNeg, n) = validInputs(using: &rng)
            let schedule = schedules[Int.random(in: 0..<schedules.count, using: &rng)]
            let inputText = "s_0=\(s0) s⁻=\(sNeg) n=\(n) \(schedule.kind.name) T=\(schedule.steps)"
            var previousMargin = model.margin(schedule.sqrtAlphaBar[1], s0, sNeg, n)
            var previousRetention = model.retention(0, s0, sNeg, n, schedule)
            for t in 1...schedule.steps {
                if t > 1 {
                    let margin = model.margin(schedule.sqrtAlphaBar[t], s0, sNeg, n)
                    record(margin < previousMargin, "\(inputText): g(√ᾱ_\(t)) = \(margin) ≥ g(√ᾱ_\(t - 1)) = \(previousMargin)")
                    previousMargin = margin
                }
                let retention = model.retention(t, s0, sNeg, n, schedule)
                record(retention <= previousRetention, "\(inputText): π_\(t) = \(retention) > π_\(t - 1) = \(previousRetention)")
                previousRetention = retention
            }
            for a in grid {
                let slope = model.marginDerivative(a, s0, sNeg, n)
                record(slope > 0, "\(inputText): g'(\(a)) = \(slope) ≤ 0")
            }
        }
        return ClaimResult(
            id: "S4.b/M1",
            statistic: "\(inputs) valid inputs: g(√ᾱ_t) strictly decreasing, π_t non-increasing, g' > 0 on a grid of 100",
            measure: .exact(mismatches: mismatches, cases: comparisons),
            seed: seed, worstCase: firstFailure)
    }

    // MARK: S4.b/N1

    public static let nonMonotonicityCases = 50

    /// S4.b/N1: outside the valid domain, with `s⁻ < s_0 < 0` (the first case
    /// is the spec's `s_0 = −1, s⁻ = −2, n = 1`), `g'` vanishes at
    /// `c = s_0/s⁻ ∈ (0, 1)`. GSL's central derivative of the model's `g` must
    /// be negative at `c − δ` and positive at `c + δ`, each by more than
    /// `derivativeSafety` × its error estimate, `δ = c·(1 − c)/100`.
    /// Passes when every case shows the sign change.
    public static func checkNonMonotonicity(
        seed: UInt64, model: RetentionModel = .reference, cases: Int = nonMonotonicityCases
    ) throws -> ClaimResult {
        var rng = SeededGenerator(seed: seed)
        var missing = 0, firstMissing = "", weakest = Double.infinity, weakestCase = ""
        for index in 0..<cases {
            let (s0, sNeg, n): (Double, Double, Double) = index == 0
                ? (-1, -2, 1)
                : {
                    let s0 = -ForwardProcessChecks.logUniform(1e-3, 1e3, using: &rng)
                    let c = Double.random(in: 0.05...0.95, using: &rng)
                    return (s0, s0 / c, ForwardProcessChecks.logUniform(1e-3, 1e3, using: &rng))
                }()
            let c = s0 / sNeg
            let delta = c * (1 - c) / 100
            let g = { (a: Double) in model.margin(a, s0, sNeg, n) }
            let below = try GSL.centralDerivative(at: c - delta, step: delta / 2, g)
            let above = try GSL.centralDerivative(at: c + delta, step: delta / 2, g)
            let strength = min(-below.value / below.error, above.value / above.error)
            let text = "s_0=\(s0) s⁻=\(sNeg) n=\(n), c=\(short(c)): g'(c−δ) = \(short(below.value)) ± \(short(below.error)), "
                + "g'(c+δ) = \(short(above.value)) ± \(short(above.error))"
            if !(strength > derivativeSafety) {
                missing += 1
                if firstMissing.isEmpty { firstMissing = text }
            }
            if strength < weakest || weakestCase.isEmpty {
                weakest = strength
                weakestCase = text
            }
        }
        return ClaimResult(
            id: "S4.b/N1",
            statistic: "sign change of GSL's g' at a = s_0/s⁻ for s⁻ < s_0 < 0 in \(cases) cases; "
                + "weakest |g'|/error = \(short(weakest))",
            measure: .exact(mismatches: missing, cases: cases),
            seed: seed, worstCase: firstMissing.isEmpty ? weakestCase : firstMissing)
    }
}
