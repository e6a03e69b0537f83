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
    /// the error and the tolerance at the case with the largest ratio; a
    /// failing sweep shrinks its first failing input (docs/Shrinking.md).
    public static func checkMarginDerivative(
        seed: UInt64, model: RetentionModel? = nil, cases: Int = derivativeCases
    ) throws -> ClaimResult {
        var rng = SeededGenerator(seed: seed)
        return try retentionSweep(.marginDerivative, seed: seed, model: model, run: runMarginDerivative) { index in
            let (s0, sNeg, n) = validInputs(using: &rng)
            return RetentionCase(s0: s0, sNeg: sNeg, n: n, a: Double.random(in: 0...0.99, using: &rng), index: index)
        }.sweep(cases: cases)
    }

    /// S4.b/D1 on one input (skipped outside the valid domain as drawn and `a ∈ [0, 0.99]`).
    static func runMarginDerivative(_ c: RetentionCase, _ model: RetentionModel, into tally: inout RetentionTally) throws {
        guard c.inDrawnValidDomain, (0...0.99).contains(c.a) else { return }
        let (a, s0, sNeg, n) = (c.a, c.s0, c.sNeg, c.n)
        let u = 0x1p-53
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
        tally.checked += 1
        tally.largest.record(error: error, bound: bound, "a=\(a) s_0=\(s0) s⁻=\(sNeg) n=\(n): g' = \(value), GSL \(oracle.value) ± \(short(oracle.error))")
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

    /// The schedules S4.b/M1 draws from.
    static func monotonicitySchedules() throws -> [NoiseSchedule] {
        try [
            NoiseSchedule(.ddpmLinear, steps: 200), NoiseSchedule(.defaultCosine, steps: 200),
            NoiseSchedule(.scaledLinear(start: 0.00085, end: 0.012), steps: 200),
            NoiseSchedule(.linearVariance(scale: 0.1, min: 1e-4, max: 0.02, maxBeta: 0.999), steps: 50),
            NoiseSchedule(.linear(start: 1e-4, end: 0.02), steps: 100),
        ]
    }

    /// S4.b/M1: on random valid inputs and schedules, `g(√ᾱ_t)` strictly
    /// decreases over `t = 1…T`, `π_t` never increases over `t = 0…T` (Φ may
    /// saturate at 0 or 1 in binary64), and `g'(a) > 0` on the grid
    /// `a = 0, 0.01, …, 0.99`. Counts every comparison; reports the first failure
    /// and shrinks its input (docs/Shrinking.md).
    public static func checkMonotonicity(
        seed: UInt64, model: RetentionModel? = nil, inputs: Int = monotonicityInputs
    ) throws -> ClaimResult {
        var rng = SeededGenerator(seed: seed)
        let schedules = try monotonicitySchedules()
        return retentionSweep(.monotonicity, seed: seed, model: model, run: runMonotonicity) { (index: Int) throws(Never) in
            let (s0, sNeg, n) = validInputs(using: &rng)
            let schedule = schedules[Int.random(in: 0..<schedules.count, using: &rng)]
            return RetentionCase(s0: s0, sNeg: sNeg, n: n, schedule: schedule, index: index)
        }.sweep(cases: inputs)
    }

    static let monotonicityGrid = (0..<100).map { Double($0) / 100 }

    /// S4.b/M1 on one input and its schedule (skipped outside the valid domain as drawn).
    static func runMonotonicity(_ c: RetentionCase, _ model: RetentionModel, into tally: inout RetentionTally) {
        guard c.inDrawnValidDomain, let schedule = c.schedule else { return }
        let (s0, sNeg, n) = (c.s0, c.sNeg, c.n)
        tally.checked += 1
        func record(_ holds: Bool, _ what: @autoclosure () -> String) {
            tally.comparisons += 1
            if !holds {
                tally.mismatches += 1
                if tally.firstFailure.isEmpty { tally.firstFailure = what() }
            }
        }
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
        for a in monotonicityGrid {
            let slope = model.marginDerivative(a, s0, sNeg, n)
            record(slope > 0, "\(inputText): g'(\(a)) = \(slope) ≤ 0")
        }
    }

    // MARK: S4.b/N1

    public static let nonMonotonicityCases = 50

    /// S4.b/N1: outside the valid domain, with `s⁻ < s_0 < 0` (the first case
    /// is the spec's `s_0 = −1, s⁻ = −2, n = 1`), `g'` vanishes at
    /// `c = s_0/s⁻ ∈ (0, 1)`. GSL's central derivative of the model's `g` must
    /// be negative at `c − δ` and positive at `c + δ`, each by more than
    /// `derivativeSafety` × its error estimate, `δ = c·(1 − c)/100`.
    /// Passes when every case shows the sign change; a failing sweep shrinks
    /// its first failing input (docs/Shrinking.md).
    public static func checkNonMonotonicity(
        seed: UInt64, model: RetentionModel? = nil, cases: Int = nonMonotonicityCases
    ) throws -> ClaimResult {
        var rng = SeededGenerator(seed: seed)
        return try retentionSweep(.nonMonotonicity, seed: seed, model: model, run: runNonMonotonicity) { index in
            guard index > 0 else { return RetentionCase(s0: -1, sNeg: -2, n: 1, index: 0) }
            let s0 = -ForwardProcessChecks.logUniform(1e-3, 1e3, using: &rng)
            let c = Double.random(in: 0.05...0.95, using: &rng)
            return RetentionCase(s0: s0, sNeg: s0 / c, n: ForwardProcessChecks.logUniform(1e-3, 1e3, using: &rng), index: index)
        }.sweep(cases: cases)
    }

    /// S4.b/N1 on one input (skipped outside the domain drawn: `s_0 ∈ [−1e3, −1e-3]`,
    /// `n ∈ [1e-3, 1e3]`, `c = s_0/s⁻ ∈ [0.05, 0.95]`, each with a relative slack of 1e-12 for rounding).
    static func runNonMonotonicity(_ c: RetentionCase, _ model: RetentionModel, into tally: inout RetentionTally) throws {
        let (s0, sNeg, n) = (c.s0, c.sNeg, c.n)
        let crossing = s0 / sNeg
        let slack = 1e-12, decades = (1e-3 * (1 - slack))...(1e3 * (1 + slack))
        guard decades.contains(-s0), decades.contains(n), ((0.05 * (1 - slack))...(0.95 * (1 + slack))).contains(crossing) else { return }
        let delta = crossing * (1 - crossing) / 100
        let g = { (a: Double) in model.margin(a, s0, sNeg, n) }
        let below = try GSL.centralDerivative(at: crossing - delta, step: delta / 2, g)
        let above = try GSL.centralDerivative(at: crossing + delta, step: delta / 2, g)
        let strength = min(-below.value / below.error, above.value / above.error)
        let text = "s_0=\(s0) s⁻=\(sNeg) n=\(n), c=\(short(crossing)): g'(c−δ) = \(short(below.value)) ± \(short(below.error)), "
            + "g'(c+δ) = \(short(above.value)) ± \(short(above.error))"
        tally.checked += 1
        if !(strength > derivativeSafety) {
            tally.mismatches += 1
            if tally.firstFailure.isEmpty { tally.firstFailure = text }
        }
        if strength < tally.weakest || tally.weakestCase.isEmpty {
            tally.weakest = strength
            tally.weakestCase = text
        }
    }
}

// MARK: - The sweeps of S4.b, which shrink their first failing input

/// The claims of S4.b that sweep `RetentionCase`s.
public enum RetentionClaim: String, CaseIterable, Sendable {
    case marginDerivative = "S4.b/D1", monotonicity = "S4.b/M1", nonMonotonicity = "S4.b/N1"

    func result(_ tally: RetentionTally, cases: Int, seed: UInt64) -> ClaimResult {
        switch self {
        case .marginDerivative:
            ClaimResult(
                id: rawValue,
                statistic: "|g'(a) − GSL central derivative of g| over \(tally.checked) valid inputs, a ∈ [0, 0.99]; "
                    + "worst error/tolerance ratio \(short(tally.largest.ratio))",
                measure: .maxError(tally.largest.error, bound: tally.largest.bound, unit: "abs"),
                seed: seed, worstCase: tally.largest.text)
        case .monotonicity:
            ClaimResult(
                id: rawValue,
                statistic: "\(tally.checked) valid inputs: g(√ᾱ_t) strictly decreasing, π_t non-increasing, g' > 0 on a grid of 100",
                measure: .exact(mismatches: tally.mismatches, cases: tally.comparisons),
                seed: seed, worstCase: tally.firstFailure)
        case .nonMonotonicity:
            ClaimResult(
                id: rawValue,
                statistic: "sign change of GSL's g' at a = s_0/s⁻ for s⁻ < s_0 < 0 in \(tally.checked) cases; "
                    + "weakest |g'|/error = \(short(tally.weakest))",
                measure: .exact(mismatches: tally.mismatches, cases: tally.checked),
                seed: seed, worstCase: tally.firstFailure.isEmpty ? tally.weakestCase : tally.firstFailure)
        }
    }
}

/// What S4.b's claims tally over their inputs (no input checked: every claim passes).
struct RetentionTally {
    var checked = 0, mismatches = 0, comparisons = 0
    var largest = LargestRatio(), weakest = Double.infinity
    var firstFailure = "", weakestCase = ""
}

extension RetentionChecks {
    /// `claim` on the one input `c` (the reference's S4.a–S4.b unless `model` is given):
    /// how a shrunk counterexample is replayed.
    public static func check(_ claim: RetentionClaim, on c: RetentionCase, model: RetentionModel? = nil) throws -> ClaimResult {
        let draw = { (_: Int) throws(Never) in c }
        return switch claim {
        case .marginDerivative: try retentionSweep(claim, seed: 0, model: model, run: runMarginDerivative, draw: draw).single(c)
        case .monotonicity: retentionSweep(claim, seed: 0, model: model, run: runMonotonicity, draw: draw).single(c)
        case .nonMonotonicity: try retentionSweep(claim, seed: 0, model: model, run: runNonMonotonicity, draw: draw).single(c)
        }
    }

    /// `claim`'s sweep: `run` checks one input with the model under test (the reference unless given).
    static func retentionSweep<Failure: Error>(
        _ claim: RetentionClaim, seed: UInt64, model: RetentionModel?,
        run: @escaping (RetentionCase, RetentionModel, inout RetentionTally) throws(Failure) -> Void,
        draw: @escaping (Int) throws(Failure) -> RetentionCase
    ) -> CaseSweep<RetentionCase, RetentionTally, Failure> {
        CaseSweep(
            claimID: claim.rawValue, call: "RetentionChecks.check(.\(claim), on: c", argument: "model",
            tested: model, reference: .reference, emptyTally: RetentionTally(), draw: draw, run: run,
            result: { claim.result($0, cases: $1, seed: seed) })
    }
}
