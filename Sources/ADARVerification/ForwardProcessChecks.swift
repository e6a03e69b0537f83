import Foundation
import ADARCore
import ADARReference
import GSLOracle

/// `x_t` from `x_0`, `ε`, the 1-based timestep, the schedule and `σ` (spec S2).
public typealias ForwardSampler = @Sendable (
    _ x0: ArraySlice<Double>, _ epsilon: [Double], _ timestep: Int, _ schedule: NoiseSchedule, _ sigma: Double
) -> [Double]

/// The declared law of the score `s_t = ⟨e_u, x_t⟩` (S2.a): mean and standard
/// deviation from `e_u`, `s_0`, `σ`, `t` and the schedule.
public typealias ScoreLaw = @Sendable (
    _ user: ArraySlice<Double>, _ positiveScore: Double, _ sigma: Double, _ timestep: Int, _ schedule: NoiseSchedule
) -> (mean: Double, standardDeviation: Double)

/// The S2 implementation under test: the forward sampler and the score law it declares.
public struct ForwardProcessModel: Sendable {
    public var sample: ForwardSampler
    public var scoreLaw: ScoreLaw

    public init(sample: @escaping ForwardSampler, scoreLaw: @escaping ScoreLaw) {
        self.sample = sample
        self.scoreLaw = scoreLaw
    }

    /// `ReferenceADAR.forwardSample`, `scoreDistribution` and `scoreNoiseScale`.
    public static let reference = ForwardProcessModel(
        sample: { x0, epsilon, t, schedule, sigma in
            ReferenceADAR.forwardSample(x0: x0, epsilon: epsilon, timestep: t, schedule: schedule, sigma: sigma)
        },
        scoreLaw: { user, s0, sigma, t, schedule in
            ReferenceADAR.scoreDistribution(
                positiveScore: s0, noiseScale: ReferenceADAR.scoreNoiseScale(user: user, sigma: sigma),
                timestep: t, schedule: schedule)
        })
}

/// Checks of Proofs/S2-forward-process.md (S2 forward process, Lemma 1).
public enum ForwardProcessChecks {
    public static var claims: [Claim] {
        [
            Claim(id: "S2.a/L1", title: "Lemma 1: the score is N(√ᾱ_t·s_0, (1 − ᾱ_t)·σ²‖e_u‖²)") {
                try checkScoreLaw(seed: $0)
            },
            Claim(id: "S2.a/P1", title: "noise orthogonal to e_u leaves the score at √ᾱ_t·s_0") {
                try checkOrthogonalNoise(seed: $0)
            },
        ]
    }

    // MARK: S2.a/L1

    /// One Monte Carlo configuration of S2.a/L1.
    public struct ScoreLawCase: Sendable, CustomStringConvertible {
        public var schedule: ScheduleKind
        public var steps: Int
        public var timestep: Int
        public var dimension: Int
        public var sigma: Double

        public var description: String {
            "\(schedule.name) T=\(steps) t=\(timestep) d=\(dimension) σ=\(sigma)"
        }
    }

    /// The configurations of S2.a/L1 (Proofs/S2-forward-process.md explains
    /// the choice: coarse schedules, so a one-step timestep error is a large
    /// shift; σ ≠ 1, so a forgotten σ is a large scale error; d from 1 to 16).
    public static let scoreLawCases: [ScoreLawCase] = [
        ScoreLawCase(schedule: .defaultCosine, steps: 20, timestep: 10, dimension: 8, sigma: 1),
        ScoreLawCase(schedule: .linear(start: 0.01, end: 0.2), steps: 10, timestep: 3, dimension: 16, sigma: 0.1),
        ScoreLawCase(schedule: .ddpmLinear, steps: 1000, timestep: 500, dimension: 4, sigma: 2.5),
        ScoreLawCase(
            schedule: .linearVariance(scale: 1, min: 1e-3, max: 0.5, maxBeta: 0.999), steps: 5, timestep: 2,
            dimension: 1, sigma: 1),
    ]

    /// Monte Carlo replicates per configuration (S8 rows `0 ..< n`).
    public static let scoreLawReplicates = 10_000
    /// Family-wise significance level of S2.a/L1 (Bonferroni over every KS test).
    public static let scoreLawAlpha = 1e-3

    /// S2.a/L1: for each configuration, `replicates` scores `⟨e_u, x_t⟩` of the
    /// sampler, with `ε` the S8 noise row `r` (stream = configuration index),
    /// are KS-tested against Lemma 1's law computed here from the schedule
    /// table, and against the law the model declares. The p-value reported is
    /// the Bonferroni-adjusted minimum over all `2 × cases` tests.
    public static func checkScoreLaw(
        seed: UInt64, model: ForwardProcessModel = .reference,
        cases: [ScoreLawCase] = scoreLawCases, replicates: Int = scoreLawReplicates
    ) throws -> ClaimResult {
        var rng = SeededGenerator(seed: seed)
        var minP = 1.0, maxD = 0.0, worst = ""
        for (index, c) in cases.enumerated() {
            let schedule = try NoiseSchedule(c.schedule, steps: c.steps)
            // x_0 leans on e_u so that s_0 is of the order of ‖e_u‖²: the
            // mean √ᾱ_t·s_0 then carries weight against the spread.
            let user = rng.normals(c.dimension)
            let x0 = zip(user, rng.normals(c.dimension)).map { $0 + 0.5 * $1 }
            let s0 = plainDot(user, x0)
            let alphaBar = schedule.alphaBar[c.timestep]
            let lemmaMean = alphaBar.squareRoot() * s0
            let lemmaSD = (1 - alphaBar).squareRoot() * c.sigma * plainDot(user, user).squareRoot()
            let declared = model.scoreLaw(user[...], s0, c.sigma, c.timestep, schedule)

            let noise = GaussianNoise(seed: seed, stream: UInt32(index))
            let scores = (0..<replicates).map { r in
                let epsilon = noise.row(UInt64(r), dimension: c.dimension)
                return plainDot(user, model.sample(x0[...], epsilon, c.timestep, schedule, c.sigma))
            }
            for (label, mean, sd) in [
                ("Lemma 1", lemmaMean, lemmaSD), ("declared", declared.mean, declared.standardDeviation),
            ] {
                let ks = GSL.kolmogorovSmirnov(scores) { GSL.normalCDF(($0 - mean) / sd) }
                maxD = max(maxD, ks.statistic)
                if worst.isEmpty || ks.pValue < minP {
                    minP = ks.pValue
                    worst = "\(c) vs \(label) N(\(short(mean)), \(short(sd))²): D = \(short(ks.statistic)), p = \(short(ks.pValue))"
                }
            }
        }
        let tests = 2 * cases.count
        return ClaimResult(
            id: "S2.a/L1",
            statistic: "KS of \(replicates) S8 scores per configuration, \(cases.count) configurations × "
                + "{Lemma 1, declared law}: max D = \(short(maxD)); Bonferroni ×\(tests)",
            measure: .pValue(min(1, Double(tests) * minP), alpha: scoreLawAlpha),
            seed: seed, worstCase: worst)
    }

    // MARK: S2.a/P1

    /// Random cases of S2.a/P1.
    public static let orthogonalNoiseCases = 2000

    /// S2.a/P1: for `ε` projected onto the orthogonal complement of `e_u`,
    /// `⟨e_u, x_t⟩` equals `√ᾱ_t·s_0` within the rounding bound derived in
    /// Proofs/S2-forward-process.md (which also charges the residual
    /// `⟨e_u, ε⟩` the projection leaves in binary64). Reports the error and
    /// the bound at the case with the largest error/bound ratio; a failing
    /// sweep shrinks its first failing case (docs/Shrinking.md).
    public static func checkOrthogonalNoise(
        seed: UInt64, model: ForwardProcessModel? = nil, cases: Int = orthogonalNoiseCases
    ) throws -> ClaimResult {
        var rng = SeededGenerator(seed: seed)
        let schedules = try [
            NoiseSchedule(.ddpmLinear, steps: 1000), NoiseSchedule(.defaultCosine, steps: 50),
            NoiseSchedule(.scaledLinear(start: 0.00085, end: 0.012), steps: 200),
            NoiseSchedule(.linearVariance(scale: 0.1, min: 1e-4, max: 0.02, maxBeta: 0.999), steps: 5),
        ]
        return orthogonalNoiseSweep(seed: seed, model: model) { index in
            let d = Int.random(in: 2...32, using: &rng)
            let schedule = schedules[Int.random(in: 0..<schedules.count, using: &rng)]
            let t = Int.random(in: 0...schedule.steps, using: &rng)
            let sigma = logUniform(0.1, 10, using: &rng)
            let userScale = logUniform(1e-2, 1e2, using: &rng), itemScale = logUniform(1e-2, 1e2, using: &rng)
            let user = rng.normals(d).map { $0 * userScale }
            let x0 = rng.normals(d).map { $0 * itemScale }
            return OrthogonalNoiseCase(
                schedule: schedule, timestep: t, sigma: sigma, user: user, x0: x0, noise: rng.normals(d), index: index)
        }.sweep(cases: cases)
    }

    /// S2.a/P1 on the one case `c` (the reference sampler unless `model` is given):
    /// how a shrunk counterexample is replayed.
    public static func checkOrthogonalNoise(on c: OrthogonalNoiseCase, model: ForwardProcessModel? = nil) -> ClaimResult {
        orthogonalNoiseSweep(seed: 0, model: model) { _ in c }.single(c)
    }

    static func orthogonalNoiseSweep(
        seed: UInt64, model: ForwardProcessModel?, draw: @escaping (Int) -> OrthogonalNoiseCase
    ) -> CaseSweep<OrthogonalNoiseCase, OrthogonalNoiseTally, Never> {
        CaseSweep(
            claimID: "S2.a/P1", call: "ForwardProcessChecks.checkOrthogonalNoise(on: c", argument: "model",
            tested: model, reference: .reference, emptyTally: OrthogonalNoiseTally(), draw: draw,
            run: { c, model, tally in runOrthogonalNoise(c, model, into: &tally) },
            result: { tally, _ in
                ClaimResult(
                    id: "S2.a/P1",
                    statistic: "|⟨e_u, x_t⟩ − √ᾱ_t·s_0| for ε ⟂ e_u over \(tally.checked) random cases; "
                        + "worst error/bound ratio \(short(tally.largest.ratio))",
                    measure: .maxError(tally.largest.error, bound: tally.largest.bound, unit: "abs"),
                    seed: seed, worstCase: tally.largest.text)
            })
    }

    /// S2.a/P1 on one case: `ε` is the case's noise projected (twice) onto the orthogonal
    /// complement of `e_u`. Skipped unless `e_u ≠ 0` and `σ > 0` (the claim's hypotheses).
    static func runOrthogonalNoise(_ c: OrthogonalNoiseCase, _ model: ForwardProcessModel, into tally: inout OrthogonalNoiseTally) {
        let (user, x0, schedule, t, sigma) = (c.user, c.x0, c.schedule, c.timestep, c.sigma)
        guard plainDot(user, user) > 0, sigma > 0 else { return }
        let u = 0x1p-53, d = user.count
        let epsilon = projectOut(user, from: projectOut(user, from: c.noise))
        let score = plainDot(user, model.sample(x0[...], epsilon, t, schedule, sigma))
        let a = schedule.sqrtAlphaBar[t], b = schedule.sqrtOneMinusAlphaBar[t]
        let s0 = plainDot(user, x0)
        let error = abs(score - a * s0)

        // Proofs/S2-forward-process.md, S2.a/P1: the derived bound.
        let gammaD = highamGamma(d, u), gamma3 = highamGamma(3, u)
        let userItem = zip(user, x0).reduce(0) { $0 + abs($1.0 * $1.1) }
        let userNoise = zip(user, epsilon).reduce(0) { $0 + abs($1.0 * $1.1) }
        let residual = abs(plainDot(user, epsilon)) + gammaD * userNoise
        let spread = a * userItem + b * sigma * userNoise
        let bound = (b * sigma * residual + (gamma3 + gammaD * (1 + gamma3)) * spread
            + gammaD * a * userItem + u * abs(a * s0)) * (1 + 0x1p-20)
        tally.checked += 1
        tally.largest.record(
            error: error, bound: bound,
            "d=\(d) \(schedule.kind.name) t=\(t) σ=\(short(sigma)) |e_u|=\(short(plainDot(user, user).squareRoot())) "
                + "|x_0|=\(short(plainDot(x0, x0).squareRoot())): ⟨e_u,x_t⟩ = \(score), √ᾱ_t·s_0 = \(a * s0)")
    }

    /// `ε − (⟨e, ε⟩/⟨e, e⟩)·e`.
    static func projectOut(_ e: [Double], from epsilon: [Double]) -> [Double] {
        let c = plainDot(e, epsilon) / plainDot(e, e)
        return zip(epsilon, e).map { $0 - c * $1 }
    }

    /// `Σ a_k b_k`, left to right: the checks' own inner product, so expected
    /// values never go through the reference's `dot`.
    static func plainDot(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        for k in a.indices { sum += a[k] * b[k] }
        return sum
    }

    /// Higham's `γ_k = k·u/(1 − k·u)`.
    static func highamGamma(_ k: Int, _ u: Double) -> Double { Double(k) * u / (1 - Double(k) * u) }

    /// `exp(U(log lo, log hi))`.
    static func logUniform(_ lo: Double, _ hi: Double, using rng: inout SeededGenerator) -> Double {
        exp(Double.random(in: log(lo)...log(hi), using: &rng))
    }
}

/// What S2.a/P1 tallies over its cases (no case checked: it passes).
struct OrthogonalNoiseTally {
    var checked = 0
    var largest = LargestRatio()
}
