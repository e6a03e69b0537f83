import Foundation
import ADARCore
import ADARReference
import GSLOracle

/// Checks of Proofs/S7-loss.md: the S7 loss value, its gradients in every
/// option combination, and the stability of softplus.
///
/// Every expected value is computed here from the spec formula (S7) with
/// GSL's `log1plusx` and `gsl_deriv_central`; the implementation under test
/// is only ever called, never consulted.
public enum LossChecks {
    /// The S7 row loss under test: `(batch, row, outcome, schedule, configuration) → RowLoss`.
    public typealias RowLossFunction = (ADARBatch, Int, RowOutcome, NoiseSchedule, ADARConfiguration) -> RowLoss

    public static var claims: [Claim] {
        [
            Claim(id: "S7/G1", title: "S7 gradients match gsl_deriv_central in every option combination") {
                try checkGradients(seed: $0)
            },
            Claim(id: "S7/L1", title: "S7 loss value matches an independent log(1 + e^{−m}) evaluation") {
                try checkLossValue(seed: $0)
            },
            Claim(id: "S7/F1", title: "softplus is finite on [−1000, 1000] and within 4 ulp of GSL") {
                try checkSoftplus(seed: $0)
            },
        ]
    }

    // MARK: - S7/G1

    /// S7/G1: every partial derivative `∂L/∂e_u`, `∂L/∂e_i`, `∂L/∂e_{j_m}` of
    /// `loss`, for both gradient flows × both fallback modes on rows of every
    /// status kind, against `gsl_deriv_central` of the spec's loss written as
    /// a function of the embeddings (x⁻ recomputed per mode, t and ε fixed).
    ///
    /// Per partial the tolerance is GSL's own error estimate, plus the
    /// rounding of the function values amplified by the stencil (`3·δf/h`),
    /// plus the rounding of the gradient under test; the measure is the
    /// largest error as a fraction of its tolerance (passes at ≤ 1). Each row
    /// is a `LossCase`; a failing sweep shrinks its first failing row (docs/Shrinking.md).
    public static func checkGradients(seed: UInt64, loss: RowLossFunction? = nil) throws -> ClaimResult {
        let fixture = try LossFixture(seed: seed, kinds: RowKind.gradientKinds)
        return try lossSweep(.gradients, seed: seed, loss: loss) { try fixture.lossCase(row: $0) }.sweep(cases: fixture.batch.rows)
    }

    /// S7/G1 on one row.
    static func runGradients(_ c: LossCase, _ loss: RowLossFunction, into tally: inout LossTally) throws {
        let batch = try c.batch
        let outcome = try c.outcome
        let d = c.dimension, poolSize = c.poolSize
        tally.rows += 1
        tally.coordinates = (2 + poolSize) * d
        for flow in GradientFlow.allCases {
            for fallback in FallbackMode.allCases {
                let config = try c.configuration(flow: flow, fallback: fallback, weight: gradientWeight, l2: gradientL2)
                let model = c.specLoss(outcome: outcome, configuration: config)
                let point = c.embeddings
                let result = loss(batch, 0, outcome, c.schedule, config)
                let bounds = model.roundingBounds(at: point)
                for coordinate in Coordinate.all(dimension: d, poolSize: poolSize) {
                    tally.checked += 1
                    let tested = coordinate.gradient(in: result, dimension: d)
                    let (numeric, tolerance) = try numericPartial(model, at: point, coordinate, bounds: bounds)
                    let error = abs(tested - numeric)
                    let ratio = error.isNaN ? Double.infinity : error / tolerance
                    let mixed = error.isNaN ? Double.infinity : error / max(1, abs(numeric))
                    tally.worstSecondary = max(tally.worstSecondary, mixed)
                    if ratio > tally.worst.ratio {
                        tally.worst = (ratio, """
                            row \(c.index) (\(outcome.status), t = \(outcome.timestep), hardest j_\(outcome.hardestCandidate + 1)), \
                            \(flow)/\(fallback), ∂L/∂\(coordinate.name): tested \(tested), GSL \(numeric), tol \(short(tolerance))
                            """)
                    }
                }
            }
        }
    }

    /// `w ≠ 1` and `λ > 0`, so that a dropped weight or L2 term shows.
    static let gradientWeight = 0.6, gradientL2 = 0.03

    /// `gsl_deriv_central` of the spec loss along one coordinate, and the
    /// tolerance of S7/G1 for comparing a gradient against it.
    static func numericPartial(
        _ model: SpecLoss, at point: RowEmbeddings, _ coordinate: Coordinate, bounds: RoundingBounds
    ) throws -> (value: Double, tolerance: Double) {
        let centre = coordinate.value(in: point)
        // The smallest offset GSL evaluates at is h/2 of the step it used.
        var smallestOffset = Double.infinity
        let derivative = try GSL.centralDerivative(at: centre, step: 1e-3) { x in
            if x != centre { smallestOffset = min(smallestOffset, abs(x - centre)) }
            var moved = point
            coordinate.set(x, in: &moved)
            return (try? model.value(moved)) ?? .nan
        }
        let step = 2 * smallestOffset
        let stencilRounding = step.isFinite ? 3 * bounds.functionValue / step : 0
        let tolerance = derivative.error + stencilRounding + bounds.gradient(coordinate, at: point)
        return (derivative.value, tolerance)
    }

    // MARK: - S7/L1

    /// S7/L1: the loss value of `loss` against `log(1 + e^{−m})` (GSL's
    /// `log1plusx`) with compensated margins, on rows of every status, both
    /// fallback modes, two weights `w`, `λ > 0`. The measure is the largest
    /// error as a fraction of the derived per-row bound (passes at ≤ 1). Each
    /// row is a `LossCase`; a failing sweep shrinks its first failing row (docs/Shrinking.md).
    public static func checkLossValue(seed: UInt64, loss: RowLossFunction? = nil) throws -> ClaimResult {
        let fixture = try LossFixture(seed: seed, kinds: RowKind.valueKinds)
        return try lossSweep(.lossValue, seed: seed, loss: loss) { try fixture.lossCase(row: $0) }.sweep(cases: fixture.batch.rows)
    }

    /// S7/L1 on one row.
    static func runLossValue(_ c: LossCase, _ loss: RowLossFunction, into tally: inout LossTally) throws {
        let batch = try c.batch
        let outcome = try c.outcome
        tally.rows += 1
        for fallback in FallbackMode.allCases {
            for weight in valueWeights {
                let config = try c.configuration(flow: .detach, fallback: fallback, weight: weight, l2: gradientL2)
                let tested = loss(batch, 0, outcome, c.schedule, config).loss
                let expected = try independentLoss(c, outcome: outcome, configuration: config)
                let error = abs(tested - expected.value)
                let ratio = error.isNaN ? Double.infinity : error / expected.bound
                tally.worstSecondary = max(tally.worstSecondary, error.isNaN ? .infinity : error / expected.value)
                tally.checked += 1
                if ratio > tally.worst.ratio {
                    tally.worst = (ratio, """
                        row \(c.index) (\(outcome.status)), fallback \(fallback), w = \(weight): \
                        tested \(tested), independent \(expected.value), bound \(short(expected.bound))
                        """)
                }
            }
        }
    }

    static let valueWeights = [0.6, 2.5]

    /// `L` from the spec formula in the form `log1plusx(e^{−m})` (no max/abs
    /// split), margins by the compensated dot product, with the bound on
    /// `|L_tested − L_independent|` of Proofs/S7-loss.md (S7/L1).
    static func independentLoss(
        _ c: LossCase, outcome: RowOutcome, configuration config: ADARConfiguration
    ) throws -> (value: Double, bound: Double) {
        let e = c.embeddings
        let j = e.pool[0], w = config.augmentationWeight, lambda = config.l2
        // One `softplus(−m)` term and the bound on |tested − independent| for it.
        func term(_ negative: [Double]) throws -> (value: Double, bound: Double) {
            let margin = compensatedDot(e.user + e.user.map { -$0 }, e.positive + negative)
            let y = exp(-margin)
            let (value, gslError) = try GSL.log1plusxWithError(y)
            // exp's 2u relative error moves log1p by ≤ 2u·log1p(y); GSL's own
            // estimate, plus u for its fl(1 + y) branch.
            let oracleError = 2 * unitRoundoff * value + gslError + unitRoundoff
            let ell = 1 / (1 + exp(margin))
            let magnitude = absoluteDot(e.user, e.positive) + absoluteDot(e.user, negative)
            let testedMargin = gamma(c.dimension) * magnitude + unitRoundoff * abs(margin)
            let oracleMargin = unitRoundoff * abs(margin) + pow(gamma(2 * c.dimension), 2) * magnitude
            let bound = ell * (testedMargin + oracleMargin) + 6 * unitRoundoff * value + oracleError
            return (value, bound)
        }
        let real = try term(j)
        var value = real.value, bound = real.bound
        if !outcome.status.isFallback || config.fallback == .hardest {
            let synthetic = try term(outcome.syntheticNegative)
            value += w * synthetic.value
            bound += w * synthetic.bound + 2 * unitRoundoff * w * synthetic.value
        }
        let squares = compensatedDot(e.user, e.user) + compensatedDot(e.positive, e.positive) + compensatedDot(j, j)
        value += lambda / 2 * squares
        // Tested: three plain dots, two additions, one product; independent: Dot2, two additions, one product.
        bound += (gamma(c.dimension + 3) + 4 * unitRoundoff) * lambda / 2 * squares
        // The three-term sums, once in each evaluation.
        bound += 2 * gamma(3) * value
        return (value, bound)
    }

    // MARK: - S7/F1

    /// S7/F1: `softplus` is finite on a grid over [−1000, 1000] (with 0,
    /// ±1e-300, the overflow and underflow edges of exp) and on log-uniform
    /// random points, and within 4 ulp of `x⁺ + log1plusx(e^{−|x|})` beyond
    /// GSL's own error estimate. A failing sweep shrinks its first failing
    /// point to a simpler one (docs/Shrinking.md).
    public static func checkSoftplus(seed: UInt64, softplus: ((Double) -> Double)? = nil) throws -> ClaimResult {
        var generator = SeededGenerator(seed: seed)
        var points = stride(from: -1000.0, through: 1000.0, by: 0.5).map { $0 }
        let edges = [
            0, 1e-300, Double.leastNonzeroMagnitude, 1e-20, 1e-8, 0.5, log(2.0), 1, 36.7, 37,
            708, 709.78, 710, 745, 746, 1000,
        ]
        points += edges + edges.map { -$0 }
        points += (0..<4000).map { _ in
            let magnitude = pow(10, Double.random(in: -300...3, using: &generator))
            return Bool.random(using: &generator) ? magnitude : -magnitude
        }
        return try softplusSweep(seed: seed, softplus: softplus) { SoftplusCase(x: points[$0], index: $0) }
            .sweep(cases: points.count)
    }

    /// S7/F1 at the one point `c` (the reference's softplus unless `softplus` is given):
    /// how a shrunk counterexample is replayed.
    public static func checkSoftplus(on c: SoftplusCase, softplus: ((Double) -> Double)? = nil) throws -> ClaimResult {
        try softplusSweep(seed: 0, softplus: softplus) { _ in c }.single(c)
    }

    static func softplusSweep(
        seed: UInt64, softplus: ((Double) -> Double)?, draw: @escaping (Int) throws -> SoftplusCase
    ) -> CaseSweep<SoftplusCase, SoftplusTally, any Error> {
        CaseSweep(
            claimID: "S7/F1", call: "LossChecks.checkSoftplus(on: c", argument: "softplus",
            tested: softplus, reference: ReferenceADAR.softplus, emptyTally: SoftplusTally(), draw: draw,
            run: { c, softplus, tally in try runSoftplus(c, softplus, into: &tally) },
            result: { tally, _ in softplusResult(tally, seed: seed) })
    }

    /// S7/F1 at one point (skipped outside [−1000, 1000]).
    static func runSoftplus(_ c: SoftplusCase, _ softplus: (Double) -> Double, into tally: inout SoftplusTally) throws {
        let x = c.x
        guard (-1000...1000).contains(x) else { return }
        tally.points += 1
        let tested = softplus(x)
        guard tested.isFinite else {
            tally.nonFinite += 1
            if tally.firstNonFinite.isEmpty { tally.firstNonFinite = "softplus(\(x)) = \(tested) is not finite" }
            return
        }
        let (expected, gslError) = try oracleSoftplus(x)
        let unit = expected.ulp
        let error = abs(tested - expected)
        let excess = error.isNaN ? .infinity : max(0, error - gslError) / unit
        let raw = error / unit
        tally.largestRaw = max(tally.largestRaw, raw)
        tally.largestGSLError = max(tally.largestGSLError, gslError / unit)
        // Worst by excess over GSL's estimate, ties (mostly 0) by raw error.
        if (excess, raw) > (tally.worst.excess, tally.worst.raw) {
            tally.worst = (excess, raw, "x = \(x): tested \(tested), independent \(expected) ± \(gslError)")
        }
    }

    static func softplusResult(_ tally: SoftplusTally, seed: UInt64) -> ClaimResult {
        ClaimResult(
            id: "S7/F1",
            statistic: """
                \(tally.points) points in [−1000, 1000]; \(tally.nonFinite) non-finite; \
                max |Δ| = \(short(tally.largestRaw)) ulp; largest GSL error estimate \(short(tally.largestGSLError)) ulp; \
                max excess over it = \(short(max(tally.worst.excess, 0))) ulp
                """,
            measure: .maxError(tally.nonFinite == 0 ? tally.worst.excess : .infinity, bound: softplusUlpBound, unit: "ulp"),
            seed: seed, worstCase: tally.nonFinite == 0 ? tally.worst.text : tally.firstNonFinite)
    }

    /// glibc log1p (1 ulp, at most 2 ulp of a result in the binade below) +
    /// two final roundings (½ ulp each, at most 1½ ulp across a binade):
    /// 3½ ulp, rounded up (Proofs/S7-loss.md, S7/F1).
    static let softplusUlpBound = 4.0

    /// `softplus(x)` as `x + log1plusx(e^{−x})` for `x ≥ 0` and
    /// `log1plusx(e^{x})` for `x < 0`, with GSL's error estimate of the log part.
    static func oracleSoftplus(_ x: Double) throws -> (value: Double, error: Double) {
        if x >= 0 {
            let (log1p, error) = try GSL.log1plusxWithError(exp(-x))
            return (x + log1p, error)
        }
        return try GSL.log1plusxWithError(exp(x))
    }
}

// MARK: - The sweeps of S7/G1 and S7/L1, which shrink their first failing row

/// The claims of S7 that sweep `LossCase`s.
public enum LossClaim: String, CaseIterable, Sendable {
    case gradients = "S7/G1", lossValue = "S7/L1"

    func result(_ tally: LossTally, seed: UInt64) -> ClaimResult {
        let w = LossChecks.gradientWeight, lambda = LossChecks.gradientL2
        return switch self {
        case .gradients:
            ClaimResult(
                id: rawValue,
                statistic: """
                    \(tally.checked) partials (\(tally.rows) rows × 2 flows × 2 fallbacks × \(tally.coordinates) coordinates), \
                    w = \(w), λ = \(lambda); max |Δ|/tol = \(short(tally.worst.ratio)); \
                    max mixed error |Δ|/max(1, |∂L|) = \(short(tally.worstSecondary))
                    """,
                measure: .maxError(tally.worst.ratio, bound: 1, unit: "rel"),
                seed: seed, worstCase: tally.worst.text)
        case .lossValue:
            ClaimResult(
                id: rawValue,
                statistic: """
                    \(tally.checked) losses (\(tally.rows) rows × 2 fallbacks × w ∈ \(LossChecks.valueWeights)), λ = \(lambda); \
                    max |ΔL|/bound = \(short(tally.worst.ratio)); max relative error |ΔL|/L = \(short(tally.worstSecondary))
                    """,
                measure: .maxError(tally.worst.ratio, bound: 1, unit: "rel"),
                seed: seed, worstCase: tally.worst.text)
        }
    }
}

/// What S7/G1 (partials) and S7/L1 (losses) tally over their rows.
struct LossTally {
    var rows = 0, checked = 0
    /// Coordinates per row (G1): `(2 + M)·d`.
    var coordinates = 0
    var worst = (ratio: -1.0, text: "")
    /// G1: the largest mixed error `|Δ|/max(1, |∂L|)`; L1: the largest relative error `|ΔL|/L`.
    var worstSecondary = 0.0
}

extension LossChecks {
    /// `claim` on the one row `c` (the reference's S7 loss unless `loss` is given):
    /// how a shrunk counterexample is replayed.
    public static func check(_ claim: LossClaim, on c: LossCase, loss: RowLossFunction? = nil) throws -> ClaimResult {
        try lossSweep(claim, seed: 0, loss: loss) { _ in c }.single(c)
    }

    /// `claim`'s sweep over the rows `draw` returns, with the loss under test (the reference's unless given).
    static func lossSweep(
        _ claim: LossClaim, seed: UInt64, loss: RowLossFunction?, draw: @escaping (Int) throws -> LossCase
    ) -> CaseSweep<LossCase, LossTally, any Error> {
        CaseSweep(
            claimID: claim.rawValue, call: "LossChecks.check(.\(claim), on: c", argument: "loss",
            tested: loss, reference: { ReferenceADAR.loss($0, row: $1, outcome: $2, schedule: $3, configuration: $4) },
            emptyTally: LossTally(), draw: draw,
            run: { c, loss, tally in
                switch claim {
                case .gradients: try runGradients(c, loss, into: &tally)
                case .lossValue: try runLossValue(c, loss, into: &tally)
                }
            },
            result: { tally, _ in claim.result(tally, seed: seed) })
    }
}

// MARK: - Fixtures for S7/G1 and S7/L1

/// The embeddings of one row, as the loss's variables.
struct RowEmbeddings {
    var user: [Double]
    var positive: [Double]
    var pool: [[Double]]
}

/// One scalar variable of the loss: a component of `e_u`, `e_i` or `e_{j_m}`.
enum Coordinate {
    case user(Int)
    case positive(Int)
    case pool(Int, Int)

    static func all(dimension d: Int, poolSize: Int) -> [Coordinate] {
        (0..<d).map { .user($0) } + (0..<d).map { .positive($0) }
            + (0..<poolSize).flatMap { m in (0..<d).map { .pool(m, $0) } }
    }

    var name: String {
        switch self {
        case let .user(k): "e_u[\(k)]"
        case let .positive(k): "e_i[\(k)]"
        case let .pool(m, k): "e_j\(m + 1)[\(k)]"
        }
    }

    func value(in e: RowEmbeddings) -> Double {
        switch self {
        case let .user(k): e.user[k]
        case let .positive(k): e.positive[k]
        case let .pool(m, k): e.pool[m][k]
        }
    }

    func set(_ x: Double, in e: inout RowEmbeddings) {
        switch self {
        case let .user(k): e.user[k] = x
        case let .positive(k): e.positive[k] = x
        case let .pool(m, k): e.pool[m][k] = x
        }
    }

    /// The matching component of a tested gradient (NaN when it is missing).
    func gradient(in result: RowLoss, dimension d: Int) -> Double {
        let (array, index): ([Double], Int) = switch self {
        case let .user(k): (result.userGradient, k)
        case let .positive(k): (result.positiveGradient, k)
        case let .pool(m, k): (result.poolGradient, m * d + k)
        }
        return array.indices.contains(index) ? array[index] : .nan
    }
}

/// How `x⁻` depends on the embeddings under each S7 option (Proofs/S7-loss.md).
enum SyntheticNegative {
    /// `fallback = skip` on a fallback row: no augmentation term.
    case absent
    /// `detach`: `x⁻` is a constant.
    case constant([Double])
    /// `through` on an S6 row: `x⁻ = √ᾱ_t·x_0 + √(1 − ᾱ_t)·σ·ε`, t and ε fixed.
    case forward(signal: Double, noise: [Double])
    /// `through` with `fallback = hardest` on a fallback row: `x⁻ = e_{j_m}`.
    case candidate(Int)

    func resolve(_ e: RowEmbeddings) -> [Double]? {
        switch self {
        case .absent: nil
        case let .constant(x): x
        case let .forward(signal, noise): zip(e.positive, noise).map { signal * $0 + $1 }
        case let .candidate(m): e.pool[m]
        }
    }
}

/// The spec's S7 loss of one row as a function of its embeddings, written
/// from the formula, with `softplus` through GSL's `log1plusx`.
struct SpecLoss {
    let weight: Double
    let l2: Double
    let negative: SyntheticNegative

    func value(_ e: RowEmbeddings) throws -> Double {
        let s0 = plainDot(e.user, e.positive)
        var loss = try softplus(-(s0 - plainDot(e.user, e.pool[0])))
        if let x = negative.resolve(e) {
            loss += weight * (try softplus(-(s0 - plainDot(e.user, x))))
        }
        let squares = plainDot(e.user, e.user) + plainDot(e.positive, e.positive) + plainDot(e.pool[0], e.pool[0])
        return loss + l2 / 2 * squares
    }

    func softplus(_ z: Double) throws -> Double { try LossChecks.oracleSoftplus(z).value }

    /// The rounding bounds of S7/G1 at `e`: `δf` of one evaluation of
    /// `value`, and the magnitudes that bound a binary64 gradient's rounding.
    func roundingBounds(at e: RowEmbeddings) -> RoundingBounds {
        let d = e.user.count, u = unitRoundoff
        let s0 = plainDot(e.user, e.positive)
        let j = e.pool[0]
        let m1 = s0 - plainDot(e.user, j)
        let delta1 = gamma(d) * (absoluteDot(e.user, e.positive) + absoluteDot(e.user, j)) + u * abs(m1)
        let ell1 = 1 / (1 + exp(m1))
        let sp1 = (try? LossChecks.oracleSoftplus(-m1)) ?? (.nan, .nan)
        var f = sp1.value + l2 / 2 * (plainDot(e.user, e.user) + plainDot(e.positive, e.positive) + plainDot(j, j))
        var deltaF = ell1 * delta1 + 3 * u * sp1.value + sp1.error
        var synthetic: (ell: Double, delta: Double, x: [Double])?
        if let x = negative.resolve(e) {
            let m2 = s0 - plainDot(e.user, x)
            var delta2 = gamma(d) * (absoluteDot(e.user, e.positive) + absoluteDot(e.user, x)) + u * abs(m2)
            if case let .forward(signal, noise) = negative {
                // x⁻_k = fl(√ᾱ·x_0k + noise_k): two roundings per component, weighted by |e_u,k|.
                delta2 += gamma(2) * zip(e.user, zip(e.positive, noise)).reduce(0) {
                    $0 + abs($1.0) * (abs(signal * $1.1.0) + abs($1.1.1))
                }
            }
            let ell2 = 1 / (1 + exp(m2))
            let sp2 = (try? LossChecks.oracleSoftplus(-m2)) ?? (.nan, .nan)
            f += weight * sp2.value
            deltaF += weight * (ell2 * delta2 + 4 * u * sp2.value + sp2.error)
            synthetic = (ell2, delta2, x)
        }
        let squares = plainDot(e.user, e.user) + plainDot(e.positive, e.positive) + plainDot(j, j)
        deltaF += gamma(d + 3) * l2 / 2 * squares + gamma(3) * f
        return RoundingBounds(
            // Value at the centre; the stencil moves every magnitude by a relative O(h) ≤ 1e-3.
            functionValue: 2 * deltaF,
            realWeight: ell1, realMargin: delta1, synthetic: synthetic,
            weight: weight, l2: l2, negativeCandidate: j)
    }
}

/// The rounding magnitudes of one row that S7/G1's tolerance is built from.
struct RoundingBounds {
    /// `δf`: a bound on the rounding of one evaluation of the loss.
    let functionValue: Double
    let realWeight: Double
    let realMargin: Double
    let synthetic: (ell: Double, delta: Double, x: [Double])?
    let weight: Double
    let l2: Double
    let negativeCandidate: [Double]

    /// `δg_k`: the rounding of a gradient component computed by the S7
    /// formulas in binary64 (chains of ≤ 8 roundings, plus the rounding of
    /// the logistic weights through the margins' rounding).
    func gradient(_ coordinate: Coordinate, at e: RowEmbeddings) -> Double {
        let u = unitRoundoff
        let k: Int = switch coordinate {
        case let .user(k), let .positive(k), let .pool(_, k): k
        }
        let theta = abs(coordinate.value(in: e))
        let realSpan = abs(e.user[k]) + abs(e.positive[k]) + abs(negativeCandidate[k])
        var magnitude = realWeight * realSpan + l2 * theta
        // |δℓ| ≤ ℓ(1 − ℓ)·δm + 4u·ℓ ≤ δm/4 + 4u·ℓ.
        var weightRounding = (realMargin / 4 + 4 * u * realWeight) * realSpan
        if let synthetic {
            let span = abs(e.user[k]) + abs(e.positive[k]) + abs(synthetic.x[k])
            magnitude += weight * synthetic.ell * span
            weightRounding += weight * (synthetic.delta / 4 + 4 * u * synthetic.ell) * span
        }
        return gamma(8) * magnitude + weightRounding
    }
}

/// `⟨a, b⟩`, summed left to right.
func plainDot(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
}

/// A row population requirement: `count` rows whose outcome matches.
struct RowKind {
    let name: String
    let count: Int
    /// Draw `e_u = 0` (the only way to reach `degenerateUser`).
    let zeroUser: Bool
    let matches: (RowOutcome) -> Bool

    init(_ name: String, count: Int, zeroUser: Bool = false, _ matches: @escaping (RowOutcome) -> Bool) {
        self.name = name
        self.count = count
        self.zeroUser = zeroUser
        self.matches = matches
    }

    /// S7/G1: every status, a transition step with √ᾱ_t well below 1, and a
    /// fallback candidate other than `j_1` (so `through`/`hardest` must route
    /// its gradient to the right candidate).
    static var gradientKinds: [RowKind] {
        [
        RowKind("transition, t ≥ 30", count: 2) { $0.status == .transition && $0.timestep >= 30 },
        RowKind("saturated", count: 2) { $0.status == .saturated },
        RowKind("alreadyNegative, hardest ≠ j_1", count: 1) { $0.status == .alreadyNegative && $0.hardestCandidate != 0 },
        RowKind("nonPositiveScore", count: 1) { $0.status == .nonPositiveScore },
        RowKind("degenerateUser", count: 1, zeroUser: true) { $0.status == .degenerateUser },
        ]
    }

    /// S7/L1: many rows of every status.
    static var valueKinds: [RowKind] {
        [
        RowKind("transition", count: 40) { $0.status == .transition },
        RowKind("saturated", count: 20) { $0.status == .saturated },
        RowKind("alreadyNegative", count: 25) { $0.status == .alreadyNegative },
        RowKind("nonPositiveScore", count: 10) { $0.status == .nonPositiveScore },
        RowKind("degenerateUser", count: 2, zeroUser: true) { $0.status == .degenerateUser },
        ]
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// A batch of random rows with prescribed statuses and explicit ε, drawn one row at a time;
/// each row is one `LossCase` of S7/G1 or S7/L1.
struct LossFixture {
    let dimension = 5
    let poolSize = 3
    /// σ ≠ 1 so that the `through` recomputation of x⁻ must carry it.
    let sigma = 0.8
    let schedule: NoiseSchedule
    let batch: ADARBatch
    let epsilon: [Double]

    init(seed: UInt64, kinds: [RowKind]) throws {
        // ᾱ_T ≈ 0.078: transition steps and √ᾱ_T = 0.28 both far from 1.
        schedule = try NoiseSchedule(.linear(start: 1e-4, end: 0.05), steps: 100)
        var generator = SeededGenerator(seed: seed)
        let d = dimension, poolSize = poolSize, scale = 0.7
        let synthesis = try ADARConfiguration(sigma: sigma)
        var users = [Double](), positives = [Double](), pool = [Double](), epsilon = [Double]()
        for kind in kinds {
            var found = 0, attempts = 0
            while found < kind.count {
                attempts += 1
                guard attempts <= 10_000 else { throw FixtureError(description: "no \(kind.name) row in 10000 draws") }
                let user = kind.zeroUser ? [Double](repeating: 0, count: d) : generator.normals(d).map { scale * $0 }
                let positive = generator.normals(d).map { scale * $0 }
                let candidates = generator.normals(poolSize * d).map { scale * $0 }
                let noise = generator.normals(d)
                let row = try ADARBatch(
                    rows: 1, dimension: d, poolSize: poolSize,
                    users: user, positives: positive, pool: candidates, noise: .explicit(noise))
                guard let outcome = try ReferenceADAR.synthesize(row, schedule: schedule, configuration: synthesis).first,
                      kind.matches(outcome) else { continue }
                found += 1
                users += user; positives += positive; pool += candidates; epsilon += noise
            }
        }
        batch = try ADARBatch(
            rows: users.count / d, dimension: d, poolSize: poolSize,
            users: users, positives: positives, pool: pool, noise: .explicit(epsilon))
        self.epsilon = epsilon
    }

    /// Row `b` as a case of S7/G1 or S7/L1.
    func lossCase(row b: Int) throws -> LossCase {
        let d = dimension
        return try LossCase(
            schedule: schedule, sigma: sigma, dimension: d, poolSize: poolSize,
            user: Array(batch.user(b)), positive: Array(batch.positive(b)),
            pool: (0..<poolSize).flatMap { Array(batch.candidate(b, $0)) },
            epsilon: Array(epsilon[b * d ..< (b + 1) * d]), index: b)
    }
}

extension LossCase {
    /// The row's S6 outcome from the reference (an input of S7 here, not under test).
    var outcome: RowOutcome {
        get throws {
            guard let outcome = try ReferenceADAR.synthesize(batch, schedule: schedule, configuration: synthesis).first else {
                throw FixtureError(description: "the reference synthesised no outcome for a one-row batch")
            }
            return outcome
        }
    }

    func configuration(flow: GradientFlow, fallback: FallbackMode, weight: Double, l2: Double) throws -> ADARConfiguration {
        try ADARConfiguration(sigma: sigma, fallback: fallback, augmentationWeight: weight, gradientFlow: flow, l2: l2)
    }

    var embeddings: RowEmbeddings {
        RowEmbeddings(user: user, positive: positive, pool: (0..<poolSize).map { Array(pool[$0 * dimension ..< ($0 + 1) * dimension]) })
    }

    /// The spec's loss of the row under `config` (S7, with Proofs/S7-loss.md's
    /// reading of `through` on fallback rows).
    func specLoss(outcome: RowOutcome, configuration config: ADARConfiguration) -> SpecLoss {
        let negative: SyntheticNegative
        if outcome.status.isFallback && config.fallback == .skip {
            negative = .absent
        } else if config.gradientFlow == .detach {
            negative = .constant(outcome.syntheticNegative)
        } else if outcome.status.isFallback {
            negative = .candidate(outcome.hardestCandidate)
        } else {
            let t = outcome.timestep
            let noise = epsilon.map { schedule.sqrtOneMinusAlphaBar[t] * (sigma * $0) }
            negative = .forward(signal: schedule.sqrtAlphaBar[t], noise: noise)
        }
        return SpecLoss(weight: config.augmentationWeight, l2: config.l2, negative: negative)
    }
}

/// What S7/F1 tallies over its points.
struct SoftplusTally {
    var points = 0, nonFinite = 0
    var worst = (excess: -1.0, raw: -1.0, text: "")
    var largestRaw = 0.0, largestGSLError = 0.0
    var firstNonFinite = ""
}
