import Foundation
import ADARCore
import GSLOracle

/// The tables `β_t`, `ᾱ_t` (`t = 0…T`, index 0 the clean sample) that a
/// schedule implementation produced (spec S1).
public struct ScheduleTables: Sendable, Equatable {
    public var beta: [Double]
    public var alphaBar: [Double]

    public init(beta: [Double], alphaBar: [Double]) {
        self.beta = beta
        self.alphaBar = alphaBar
    }
}

/// A schedule implementation under test: the tables of `kind` with `T` steps,
/// or the error it refuses the parameters with.
public typealias ScheduleBuilder = @Sendable (_ kind: ScheduleKind, _ steps: Int) throws -> ScheduleTables

/// Checks of Proofs/S1-schedules.md (S1 schedules).
public enum ScheduleChecks {
    /// The implementation checked by `adar verify`: `NoiseSchedule` (ADARCore).
    public static let reference: ScheduleBuilder = { kind, steps in
        let schedule = try NoiseSchedule(kind, steps: steps)
        return ScheduleTables(beta: schedule.beta, alphaBar: schedule.alphaBar)
    }

    public static let defaultSeed: UInt64 = 20_260_101

    public static var claims: [Claim] {
        [
            Claim(id: "S1/K1", title: "cosine, T = 1000: known β_1, ᾱ_501, ᾱ_1000; only β_1000 clipped") {
                try checkCosineKnownValues(seed: $0)
            },
            Claim(id: "S1/R1", title: "every family agrees with an independent recomputation of β and ᾱ") {
                try checkIndependentRecomputation(seed: $0)
            },
            Claim(id: "S1.a/M1", title: "ᾱ strictly decreasing, 0 < ᾱ_T < 1") {
                try checkMonotoneAlphaBar(seed: $0)
            },
            Claim(id: "S1.b/C1", title: "cosine: ᾱ_t = f(t/T)/f(0) before the first clipped step") {
                try checkCosineClosedForm(seed: $0)
            },
            Claim(id: "S1.c/V1", title: "linear-variance: 1 − ᾱ_t = v_t before the first clipped step") {
                try checkLinearVarianceClosedForm(seed: $0)
            },
            Claim(id: "S1.d/L1", title: "log ᾱ_t = Σ log1p(−β_s) (GSL log_1plusx)") {
                try checkLogSum(seed: $0)
            },
            Claim(id: "S1.d/L2", title: "T-scaled linear: log ᾱ_{τT} → −∫_0^τ β(u) du at rate 1/T (GSL QAGS)") {
                try checkContinuousLimit(seed: $0)
            },
            Claim(id: "S1/E1", title: "invalid parameters are refused, naming the parameter") {
                try checkInvalidParametersRefused(seed: $0)
            },
        ]
    }
}

// MARK: - Error-analysis vocabulary (Proofs/S1-schedules.md, "Rounding model"; u is in RoundingAnalysis.swift)

/// glibc's `sin`, `cos`, `exp`, `log` are within 1 ulp: relative error ≤ 2u.
let libmError = 2 * unitRoundoff
/// Every bound is first order in u; the neglected terms are below n·u < 10⁻⁹
/// of it (n ≤ 10⁶ roundings here), so this factor covers them.
let secondOrderAllowance = 1 + 1e-9

/// The case whose error is largest relative to its own derived bound; the
/// result passes iff every case is within its bound.
struct WorstRatio {
    private(set) var error = 0.0
    private(set) var bound = 0.0
    private(set) var ratio = -Double.infinity
    private(set) var label = ""
    private(set) var cases = 0
    private(set) var largestError = 0.0

    mutating func record(error: Double, bound: Double, _ label: @autoclosure () -> String) {
        cases += 1
        largestError = error.isNaN ? .nan : max(largestError, error)
        let caseRatio = error.isNaN ? Double.infinity : error == 0 ? 0 : error / bound
        if caseRatio > ratio {
            (self.error, self.bound, ratio, self.label) = (error, bound, caseRatio, label())
        }
    }

    mutating func merge(_ other: WorstRatio) {
        if other.ratio > ratio { (error, bound, ratio, label) = (other.error, other.bound, other.ratio, other.label) }
        cases += other.cases
        largestError = largestError.isNaN || other.largestError.isNaN ? .nan : max(largestError, other.largestError)
    }

    func result(id: String, statistic: String, seed: UInt64, unit: String) -> ClaimResult {
        guard cases > 0 else {
            return ClaimResult(id: id, statistic: statistic, measure: .maxError(.infinity, bound: 0, unit: unit), seed: seed, worstCase: "no case was checked")
        }
        let worst = "\(label): err \(short(error)) vs its bound \(short(bound))"
        return ClaimResult(id: id, statistic: statistic, measure: .maxError(error, bound: bound, unit: unit), seed: seed, worstCase: worst)
    }
}

/// A short name for a schedule (a custom list is summarised, not printed).
func describe(_ kind: ScheduleKind, steps: Int) -> String {
    switch kind {
    case let .custom(betas): "custom(\(betas.count) β), T = \(steps)"
    default: "\(kind), T = \(steps)"
    }
}

// MARK: - Random valid schedules (Proofs, "Sweep")

extension ScheduleChecks {
    static let sweepSteps = [1, 2, 10, 100, 1000]

    /// Every family at every `T` of the sweep, with `draws` random valid
    /// parameter sets each (ddpm-linear has none: one case per `T`, invalid
    /// for 2 ≤ T ≤ 20 because its end `20/T` is ≥ 1).
    static func randomCases(seed: UInt64, draws: Int = 3) -> [ScheduleCase] {
        var rng = SeededGenerator(seed: seed)
        func uniform(_ lo: Double, _ hi: Double) -> Double { Double.random(in: lo...hi, using: &rng) }
        func logUniform(_ lo: Double, _ hi: Double) -> Double { exp(uniform(log(lo), log(hi))) }
        var cases: [ScheduleCase] = []
        for steps in sweepSteps {
            cases.append(ScheduleCase(kind: .ddpmLinear, steps: steps))
            // Σβ ≤ 200 keeps ᾱ_T ≥ e^{-250}: far from underflow.
            let largestEnd = min(0.9, 200 / Double(steps))
            for draw in 0..<draws {
                let start = logUniform(1e-6, 1e-2)
                let end = draw == 0 ? start : uniform(start, largestEnd)
                cases.append(ScheduleCase(kind: .linear(start: start, end: end), steps: steps))
                let scaledStart = logUniform(1e-6, 1e-2)
                cases.append(ScheduleCase(kind: .scaledLinear(start: scaledStart, end: uniform(scaledStart, largestEnd)), steps: steps))
                cases.append(ScheduleCase(kind: .cosine(s: uniform(0, 0.1), maxBeta: uniform(0.5, 0.999)), steps: steps))
                let scale = uniform(0.05, 1)
                let firstV = logUniform(1e-5, 1e-2), lastV = uniform(firstV * 1.01, 0.99)
                cases.append(ScheduleCase(
                    kind: .linearVariance(scale: scale, min: firstV / scale, max: lastV / scale, maxBeta: uniform(0.5, 0.999)),
                    steps: steps))
                cases.append(ScheduleCase(kind: .custom(betas: (0..<steps).map { _ in logUniform(1e-12, 0.9) }), steps: steps))
            }
        }
        cases.append(ScheduleCase(kind: .defaultCosine, steps: 1000))
        return cases.enumerated().map { ScheduleCase(kind: $1.kind, steps: $1.steps, index: $0) }
    }

    /// Whether `c` is in the drawn domain and its exact `β` are certainly in `(0, 1)` (the domain of
    /// S1.a/M1, S1.b/C1, S1.c/V1, S1.d/L1).
    static func isValid(_ c: ScheduleCase) -> Bool {
        c.inDrawnDomain && classify(oracleBetas(c.kind, steps: c.steps), steps: c.steps) == .valid
    }
}

// MARK: - The oracle: β_t by a second route, with the allowed difference

/// The oracle's `β_t` (clipped as S1 says) and the bound on `|β̂_t − β_t|`
/// that the error analysis allows between implementation and oracle.
struct OracleBeta {
    var value: Double
    var allowance: Double
    /// Whether the exact `β_t` may reach `maxBeta` (so the step may be clipped).
    var mayClip: Bool
}

enum Validity: Equatable {
    case valid
    /// Some exact `β_t` is certainly outside `(0, 1)`; `step` is the first such `t`.
    case invalid(step: Int)
    /// Some `β_t` is within rounding of 0 or 1: no prediction.
    case borderline
}

extension ScheduleChecks {
    /// `β_1 … β_T` of `kind` by routes other than S1's formulas (Proofs S1/R1).
    static func oracleBetas(_ kind: ScheduleKind, steps: Int) -> [OracleBeta] {
        let u = unitRoundoff
        let T = steps
        switch kind {
        case let .linear(start, end):
            return (1...T).map { t in
                let value = convexLinspace(start, end, steps: T, at: t)
                // 4u (implementation) + 3u (convex form) relative when 0 ≤ start ≤ end.
                let magnitude = start >= 0 ? abs(value) : abs(start) + abs(end)
                return OracleBeta(value: value, allowance: T == 1 ? 0 : 7 * u * magnitude, mayClip: false)
            }
        case .ddpmLinear:
            return (1...T).map { t in
                // (0.1·(T − t) + 20·(t − 1)) / (T(T − 1)), the exact start 0.1/T and end 20/T.
                let value = T == 1 ? 0.1 : (Double(T - t) * 0.1 + Double(t - 1) * 20) / Double(T * (T - 1))
                return OracleBeta(value: value, allowance: 11 * u * value, mayClip: false)
            }
        case let .scaledLinear(start, end):
            return (1...T).map { t in
                guard T > 1 else { return OracleBeta(value: start, allowance: 3 * u * start, mayClip: false) }
                // (p√a + q√b)² / (T − 1)² expanded, with √(ab) the only root.
                let p = Double(T - t), q = Double(t - 1), n = Double(T - 1)
                let value = (p * p * start + 2 * p * q * (start * end).squareRoot() + q * q * end) / (n * n)
                return OracleBeta(value: value, allowance: 16.5 * u * value, mayClip: false)
            }
        case let .cosine(s, maxBeta):
            let cosine = CosineAnalysis(s: s, steps: T)
            return (1...T).map { t in
                if t == T { return clip(1, allowance: cosine.lastStepError, maxBeta: maxBeta) }
                let oracle = cosine.oracleBeta(t)
                return clip(oracle.value, allowance: oracle.error + cosine.betaError(t), maxBeta: maxBeta)
            }
        case let .linearVariance(scale, lo, hi, maxBeta):
            let variance = LinearVarianceAnalysis(scale: scale, lo: lo, hi: hi, steps: T)
            return (1...T).map { t in
                if t == 1 {
                    let v = variance.v(1)
                    return OracleBeta(value: v, allowance: 9 * u * abs(v), mayClip: false)
                }
                let oracle = variance.oracleBeta(t)
                return clip(oracle.value, allowance: oracle.error + variance.betaError(t), maxBeta: maxBeta)
            }
        case let .custom(betas):
            return betas.map { OracleBeta(value: $0, allowance: 0, mayClip: false) }
        }
    }

    /// `min(x, maxBeta)`; `min` is 1-Lipschitz, so the allowance carries over,
    /// and when `x` is certainly ≥ maxBeta both sides clip to exactly maxBeta.
    static func clip(_ x: Double, allowance: Double, maxBeta: Double) -> OracleBeta {
        if x - allowance >= maxBeta { return OracleBeta(value: maxBeta, allowance: 0, mayClip: true) }
        return OracleBeta(value: min(x, maxBeta), allowance: allowance, mayClip: x + allowance >= maxBeta)
    }

    /// `((T − t)·a + (t − 1)·b)/(T − 1)`: the convex form of S1's linspace (3u relative for a, b ≥ 0).
    static func convexLinspace(_ a: Double, _ b: Double, steps T: Int, at t: Int) -> Double {
        T == 1 ? a : (Double(T - t) * a + Double(t - 1) * b) / Double(T - 1)
    }

    static func classify(_ betas: [OracleBeta], steps: Int) -> Validity {
        guard betas.count == steps else { return .invalid(step: min(betas.count, steps) + 1) }
        var uncertain = false
        for (index, beta) in betas.enumerated() {
            if beta.value.isNaN || beta.value + beta.allowance <= 0 || beta.value - beta.allowance >= 1 {
                return .invalid(step: index + 1)
            }
            if !(beta.value - beta.allowance > 0 && beta.value + beta.allowance < 1) { uncertain = true }
        }
        return uncertain ? .borderline : .valid
    }
}

/// S1 cosine, `f(τ) = cos²θ(τ)`, `θ(τ) = ((τ + s)/(1 + s))·π/2`, `τ = t/T`,
/// with the rounding-error bounds of Proofs S1.b/C1.
struct CosineAnalysis {
    let s: Double
    let steps: Int

    func theta(_ t: Int) -> Double { (Double(t) / Double(steps) + s) / (1 + s) * (Double.pi / 2) }

    func f(_ t: Int) -> Double {
        let c = cos(theta(t))
        return c * c
    }

    /// Relative error of `f(t/T)` evaluated as written: the argument carries
    /// ≤ 6u, which cos amplifies by |θ tan θ|; cos adds 2u; squaring doubles
    /// both and rounds once: `5u + 12u·|θ tan θ|`. Unbounded at τ = 1 (θ = π/2).
    func fError(_ t: Int) -> Double {
        guard t < steps else { return .infinity }
        let x = theta(t)
        return 5 * unitRoundoff + 12 * unitRoundoff * abs(x * tan(x))
    }

    /// `|β̂_t − β_t|` of the implementation's `1 − f(t/T)/f((t−1)/T)` for `t < T`:
    /// the ratio carries `fError(t) + fError(t−1) + u`, the subtraction `u·β`.
    func betaError(_ t: Int) -> Double {
        let ratio = f(t) / f(t - 1)
        return ratio * (fError(t) + fError(t - 1) + unitRoundoff) + unitRoundoff * abs(1 - ratio)
    }

    /// The oracle's unclipped `β_t` for `t < T`, free of cancellation:
    /// `1 − cos²θ_t/cos²θ_{t−1} = sin(θ_t − θ_{t−1})·sin(θ_t + θ_{t−1})/cos²θ_{t−1}`,
    /// with `θ_t − θ_{t−1} = π/(2T(1 + s))` exact in reals.
    func oracleBeta(_ t: Int) -> (value: Double, error: Double) {
        let u = unitRoundoff
        let difference = (Double.pi / 2) / (Double(steps) * (1 + s))
        let sum = (Double(2 * t - 1) / Double(steps) + 2 * s) / (1 + s) * (Double.pi / 2)
        let c = cos(theta(t - 1))
        let value = sin(difference) * sin(sum) / (c * c)
        // sin(difference): 4u argument, condition ≤ 1, + 2u; sin(sum): 6u·|y cot y| + 2u;
        // cos²θ_{t−1}: fError(t − 1); product and quotient: 2u.
        let relative = 6 * u + (6 * u * abs(sum / tan(sum)) + 2 * u) + fError(t - 1) + 2 * u
        return (value, abs(value) * relative)
    }

    /// At `t = T`, `f(1) = cos²(π/2) = 0`, so the exact unclipped `β_T` is 1.
    /// The implementation's `f̂(1) ≤ φ = ((π/2)·6u·(1 + 2u))²·(1 + u)` (cos of an
    /// argument within 6u of π/2), so its unclipped `β̂_T ≥ 1 − 2φ/f((T−1)/T) − 2u`.
    var lastStepError: Double {
        let phi = pow((Double.pi / 2) * 6 * unitRoundoff * (1 + libmError), 2) * (1 + unitRoundoff)
        return 2 * phi / f(steps - 1) + 2 * unitRoundoff
    }

    /// Relative error of the implementation's `ᾱ_t`, `t = 1…last`, against
    /// `f(t/T)/f(0)` before the first clipped step: per step the ratio
    /// (`fError(k) + fError(k−1) + u`), `β = 1 − r` (`u·β/α`) and `α = 1 − β`
    /// (`u`); then `t − 1` products. Element `t − 1` is the bound for `ᾱ_t`.
    func alphaBarErrors(through last: Int) -> [Double] {
        var total = -unitRoundoff, bounds: [Double] = []
        for k in stride(from: 1, through: last, by: 1) {
            let ratio = f(k) / f(k - 1)
            total += fError(k) + fError(k - 1) + 3 * unitRoundoff + unitRoundoff * (1 - ratio) / ratio
            bounds.append(total)
        }
        return bounds
    }
}

/// S1 linear-variance: `v_t = linspace(scale·min, scale·max, T)_t`,
/// `w_t = 1 − v_t = ᾱ'_t`, with the bounds of Proofs S1.c/V1.
struct LinearVarianceAnalysis {
    let scale: Double
    let lo: Double
    let hi: Double
    let steps: Int

    /// The oracle's `v_t` (convex form; ≤ 4u relative).
    func v(_ t: Int) -> Double { ScheduleChecks.convexLinspace(scale * lo, scale * hi, steps: steps, at: t) }
    func w(_ t: Int) -> Double { 1 - v(t) }

    /// `|ŵ_t − w_t|` of the implementation: `v̂` carries 5u, the subtraction u.
    func implWError(_ t: Int) -> Double { 5 * unitRoundoff * abs(v(t)) + unitRoundoff * abs(w(t)) }

    /// The oracle's unclipped `β_t`, `t ≥ 2`: `1 − w_t/w_{t−1} = Δ/w_{t−1}` with the
    /// constant increment `Δ = scale·(max − min)/(T − 1)`: no cancellation.
    func oracleBeta(_ t: Int) -> (value: Double, error: Double) {
        let u = unitRoundoff
        let increment = scale * (hi - lo) / Double(steps - 1)
        let previous = w(t - 1)
        let value = increment / previous
        // Δ: 3u; w^o_{t−1}: (4u·v + u·|w|)/|w|; quotient: u.
        let relative = 4 * u + (4 * u * abs(v(t - 1)) + u * abs(previous)) / abs(previous)
        return (value, abs(value) * relative)
    }

    /// `|β̂_t − β_t|` of the implementation's `1 − ŵ_t/ŵ_{t−1}`, `t ≥ 2` (before clipping).
    func betaError(_ t: Int) -> Double {
        let u = unitRoundoff
        let previous = abs(w(t - 1)), ratio = w(t) / w(t - 1)
        return (implWError(t) + abs(ratio) * implWError(t - 1)) / previous + u * abs(ratio) + u * abs(1 - ratio)
    }

    /// Relative error of the implementation's `ᾱ_t`, `t = 1…last`, against `1 − v_t`
    /// before clipping: `ω_s = |ŵ_s − w_s|/w_s`; step 1 carries `ω_1`, step s ≥ 2
    /// carries `ω_s + ω_{s−1} + u` (quotient) `+ u·β_s/α_s + u` (the two
    /// subtractions) and one product (u). Element `t − 1` is the bound for `ᾱ_t`.
    func alphaBarErrors(through last: Int) -> [Double] {
        let u = unitRoundoff
        func omega(_ s: Int) -> Double { implWError(s) / abs(w(s)) }
        var total = omega(1), bounds = [total]
        for s in stride(from: 2, through: last, by: 1) {
            let alpha = w(s) / w(s - 1)
            total += omega(s) + omega(s - 1) + 3 * u + u * (1 - alpha) / alpha
            bounds.append(total)
        }
        return Array(bounds.prefix(last))
    }
}

// MARK: - S1/K1 known values

extension ScheduleChecks {
    /// Exact values (mpmath, 50 digits; Proofs S1/K1) for cosine(s = 0.008, maxBeta = binary64 0.999), T = 1000.
    static let exactCosineBeta1 = 4.128422482177780235346443e-05
    static let exactCosineAlphaBar501 = 0.4922851724488025835296709
    static let exactCosineAlphaBar1000 = 2.42876690703447051316751e-09
    /// The same quantities as binary64 NumPy (improved-diffusion's code) gives them.
    static let numpyCosineBeta1 = 4.128422482196914e-05
    static let numpyCosineAlphaBar501 = 0.49228517244880304
    static let numpyCosineAlphaBar1000 = 2.4287669070348567e-09

    public static func checkCosineKnownValues(builder: ScheduleBuilder = reference, seed: UInt64 = defaultSeed) throws -> ClaimResult {
        let id = "S1/K1", steps = 1000, s = 0.008, maxBeta = 0.999
        var worst = WorstRatio()
        let tables: ScheduleTables
        do {
            tables = try builder(.cosine(s: s, maxBeta: maxBeta), steps)
        } catch {
            worst.record(error: .infinity, bound: 0, "cosine T = 1000 refused: \(error)")
            return worst.result(id: id, statistic: "refused", seed: seed, unit: "rel")
        }
        guard tables.beta.count == steps + 1, tables.alphaBar.count == steps + 1 else {
            worst.record(error: .infinity, bound: 0, "tables have \(tables.beta.count), \(tables.alphaBar.count) entries, not T + 1 = 1001")
            return worst.result(id: id, statistic: "wrong shape", seed: seed, unit: "rel")
        }
        let cosine = CosineAnalysis(s: s, steps: steps)
        let u = unitRoundoff
        let beta1Bound = cosine.betaError(1) / exactCosineBeta1 * secondOrderAllowance
        let alphaBarBounds = cosine.alphaBarErrors(through: steps - 1)
        let alphaBar501Bound = alphaBarBounds[500] * secondOrderAllowance
        // Step 1000 is clipped: α_1000 = 1 − maxBeta (u) and one more product (u).
        let alphaBar1000Bound = (alphaBarBounds[998] + 2 * u) * secondOrderAllowance
        let known: [(name: String, computed: Double, exact: Double, numpy: Double, bound: Double)] = [
            ("β_1", tables.beta[1], exactCosineBeta1, numpyCosineBeta1, beta1Bound),
            ("ᾱ_501", tables.alphaBar[501], exactCosineAlphaBar501, numpyCosineAlphaBar501, alphaBar501Bound),
            ("ᾱ_1000", tables.alphaBar[1000], exactCosineAlphaBar1000, numpyCosineAlphaBar1000, alphaBar1000Bound),
        ]
        var numpyDifferences: [String] = []
        for value in known {
            worst.record(error: abs(value.computed - value.exact) / value.exact, bound: value.bound,
                         "\(value.name) = \(value.computed) vs exact \(value.exact)")
            // NumPy ran the same binary64 algorithm, so it too is within `bound` of the exact value.
            let numpyError = abs(value.computed - value.numpy) / value.numpy
            worst.record(error: numpyError, bound: 2 * value.bound, "\(value.name) = \(value.computed) vs NumPy \(value.numpy)")
            numpyDifferences.append("\(value.name) \(short(numpyError))")
        }
        // Clipping: β_1000 is exactly maxBeta; no earlier step reaches it (exact β_999 ≈ 0.75).
        worst.record(error: abs(tables.beta[steps] - maxBeta) / maxBeta, bound: 0, "β_1000 = \(tables.beta[steps]), not maxBeta")
        let clippedEarly = (1..<steps).filter { tables.beta[$0] >= maxBeta }
        worst.record(error: clippedEarly.isEmpty ? 0 : .infinity, bound: 0, "steps \(clippedEarly.prefix(5)) are clipped too")
        let statistic = "β_1, ᾱ_501, ᾱ_1000 vs exact (rel bounds \(short(beta1Bound)), \(short(alphaBar501Bound)), \(short(alphaBar1000Bound))); "
            + "vs NumPy rel diff \(numpyDifferences.joined(separator: ", ")); clipped only at t = 1000"
        return worst.result(id: id, statistic: statistic, seed: seed, unit: "rel")
    }
}

// MARK: - S1/R1 independent recomputation

extension ScheduleChecks {
    public static func checkIndependentRecomputation(builder: ScheduleBuilder? = nil, seed: UInt64 = defaultSeed) throws -> ClaimResult {
        let cases = randomCases(seed: seed)
        return try scheduleSweep(.independentRecomputation, seed: seed, builder: builder, run: runIndependentRecomputation) { cases[$0] }
            .sweep(cases: cases.count)
    }

    /// S1/R1 on one schedule in the drawn domain: refused when the exact β leave `(0, 1)`, skipped
    /// when borderline, else β and ᾱ against the oracle's.
    static func runIndependentRecomputation(_ schedule: ScheduleCase, _ builder: ScheduleBuilder, into tally: inout ScheduleTally) throws {
        guard schedule.inDrawnDomain else { return }
        let u = unitRoundoff
        let oracle = oracleBetas(schedule.kind, steps: schedule.steps)
        switch classify(oracle, steps: schedule.steps) {
        case .borderline:
            tally.borderline += 1
        case let .invalid(step):
            if (try? builder(schedule.kind, schedule.steps)) == nil {
                tally.refusedAsPredicted += 1
            } else {
                tally.betas.record(error: .infinity, bound: 0, "\(schedule.name): accepted, but exact β_\(step) ∉ (0, 1)")
            }
        case .valid:
            tally.schedules += 1
            let tables: ScheduleTables
            do { tables = try builder(schedule.kind, schedule.steps) } catch {
                tally.betas.record(error: .infinity, bound: 0, "\(schedule.name): refused valid parameters: \(error)")
                return
            }
            guard tables.beta.count == schedule.steps + 1, tables.alphaBar.count == schedule.steps + 1,
                  tables.beta[0] == 0, tables.alphaBar[0] == 1 else {
                tally.betas.record(error: .infinity, bound: 0, "\(schedule.name): tables are not t = 0…T with β_0 = 0, ᾱ_0 = 1")
                return
            }
            // ᾱ by the other route: exp(Σ log1p(−β^o)), from the oracle's β.
            var logSum = 0.0, sumOfPartialSums = 0.0, logErrors = 0.0, betaShift = 0.0
            for t in 1...schedule.steps {
                let expected = oracle[t - 1], computed = tables.beta[t]
                tally.betas.record(error: abs(computed - expected.value) / expected.value,
                                   bound: expected.allowance / expected.value * secondOrderAllowance,
                                   "\(schedule.name): β_\(t) = \(computed) vs \(expected.value)")
                let term = try GSL.log1plusxWithError(-expected.value)
                logSum += term.value
                if t >= 2 { sumOfPartialSums += abs(logSum) }
                logErrors += term.error
                // |log(1 − β̂) − log(1 − β^o)| ≤ |β̂ − β^o|/(1 − max) (mean value theorem).
                let larger = max(computed, expected.value)
                betaShift += larger < 1 ? abs(computed - expected.value) / (1 - larger) : .infinity
                let alphaBar = exp(logSum)
                let bound = (Double(2 * t - 1) * u + betaShift + u * sumOfPartialSums + logErrors + libmError) * secondOrderAllowance
                tally.alphaBars.record(error: abs(tables.alphaBar[t] - alphaBar) / alphaBar, bound: bound,
                                   "\(schedule.name): ᾱ_\(t) = \(tables.alphaBar[t]) vs \(alphaBar)")
            }
        }
    }
}

// MARK: - S1.a/M1 monotonicity

extension ScheduleChecks {
    public static func checkMonotoneAlphaBar(builder: ScheduleBuilder? = nil, seed: UInt64 = defaultSeed) throws -> ClaimResult {
        let cases = randomCases(seed: seed)
        return scheduleSweep(.monotoneAlphaBar, seed: seed, builder: builder, run: runMonotoneAlphaBar) { cases[$0] }
            .sweep(cases: cases.count)
    }

    /// S1.a/M1 on one schedule (skipped unless its exact β are certainly in `(0, 1)`).
    static func runMonotoneAlphaBar(_ schedule: ScheduleCase, _ builder: ScheduleBuilder, into tally: inout ScheduleTally) {
        guard isValid(schedule) else { return }
        let T = schedule.steps
        tally.comparisons += T + 1
        guard let tables = try? builder(schedule.kind, T), tables.alphaBar.count == T + 1 else {
            tally.fail("\(schedule.name): refused or wrong shape"); return
        }
        for t in 1...T where !(tables.alphaBar[t] < tables.alphaBar[t - 1]) {
            tally.fail("\(schedule.name): ᾱ_\(t) = \(tables.alphaBar[t]) ≥ ᾱ_\(t - 1) = \(tables.alphaBar[t - 1])")
        }
        if !(tables.alphaBar[T] > 0 && tables.alphaBar[T] < 1) { tally.fail("\(schedule.name): ᾱ_T = \(tables.alphaBar[T]) ∉ (0, 1)") }
    }
}

// MARK: - S1.b/C1 cosine closed form, S1.c/V1 linear-variance closed form

extension ScheduleChecks {
    /// The cosine schedules of the sweep, the default at T = 1000 and 10000.
    static func cosineCases(seed: UInt64) -> [ScheduleCase] {
        [ScheduleCase(kind: .cosine(s: 0.008, maxBeta: 0.999), steps: 10_000)]
            + randomCases(seed: seed).filter { if case .cosine = $0.kind { true } else { false } }
    }

    /// The first `t` whose exact `β_t` may reach maxBeta (`T + 1` if none).
    static func firstPossiblyClippedStep(_ oracle: [OracleBeta]) -> Int {
        (oracle.firstIndex { $0.mayClip } ?? oracle.count) + 1
    }

    public static func checkCosineClosedForm(builder: ScheduleBuilder? = nil, seed: UInt64 = defaultSeed) throws -> ClaimResult {
        let cases = cosineCases(seed: seed)
        return scheduleSweep(.cosineClosedForm, seed: seed, builder: builder, run: runCosineClosedForm) { cases[$0] }
            .sweep(cases: cases.count)
    }

    /// S1.b/C1 on one cosine schedule (skipped for other families and unless its exact β are certainly in `(0, 1)`).
    static func runCosineClosedForm(_ schedule: ScheduleCase, _ builder: ScheduleBuilder, into tally: inout ScheduleTally) {
        guard case let .cosine(s, _) = schedule.kind, isValid(schedule) else { return }
        let (kind, steps, name) = (schedule.kind, schedule.steps, schedule.name)
        guard let tables = try? builder(kind, steps), tables.alphaBar.count == steps + 1 else {
            tally.worst.record(error: .infinity, bound: 0, "\(name): refused or wrong shape"); return
        }
        let cosine = CosineAnalysis(s: s, steps: steps)
        let clippedFrom = firstPossiblyClippedStep(oracleBetas(kind, steps: steps))
        let f0 = cosine.f(0), implementationBounds = cosine.alphaBarErrors(through: clippedFrom - 1)
        for t in stride(from: 1, to: clippedFrom, by: 1) {
            let closedForm = cosine.f(t) / f0
            let bound = (implementationBounds[t - 1] + cosine.fError(t) + cosine.fError(0) + unitRoundoff) * secondOrderAllowance
            tally.worst.record(error: abs(tables.alphaBar[t] - closedForm) / closedForm, bound: bound,
                               "\(name): ᾱ_\(t) = \(tables.alphaBar[t]) vs f(t/T)/f(0) = \(closedForm)")
            tally.compared += 1
        }
    }

    /// The linear-variance schedules of the sweep and DiffRec's settings.
    static func linearVarianceCases(seed: UInt64) -> [ScheduleCase] {
        [(0.1, 5), (0.1, 50), (1, 1000)].map { ScheduleCase(kind: .linearVariance(scale: $0, min: 1e-4, max: 0.02, maxBeta: 0.999), steps: $1) }
            + randomCases(seed: seed).filter { if case .linearVariance = $0.kind { true } else { false } }
    }

    public static func checkLinearVarianceClosedForm(builder: ScheduleBuilder? = nil, seed: UInt64 = defaultSeed) throws -> ClaimResult {
        let cases = linearVarianceCases(seed: seed)
        return scheduleSweep(.linearVarianceClosedForm, seed: seed, builder: builder, run: runLinearVarianceClosedForm) { cases[$0] }
            .sweep(cases: cases.count)
    }

    /// S1.c/V1 on one linear-variance schedule (skipped for other families and unless its exact β are certainly in `(0, 1)`).
    static func runLinearVarianceClosedForm(_ schedule: ScheduleCase, _ builder: ScheduleBuilder, into tally: inout ScheduleTally) {
        guard case let .linearVariance(scale, lo, hi, _) = schedule.kind, isValid(schedule) else { return }
        let (kind, steps, name) = (schedule.kind, schedule.steps, schedule.name)
        guard let tables = try? builder(kind, steps), tables.alphaBar.count == steps + 1 else {
            tally.worst.record(error: .infinity, bound: 0, "\(name): refused or wrong shape"); return
        }
        let variance = LinearVarianceAnalysis(scale: scale, lo: lo, hi: hi, steps: steps)
        let clippedFrom = firstPossiblyClippedStep(oracleBetas(kind, steps: steps))
        let implementationBounds = variance.alphaBarErrors(through: clippedFrom - 1)
        for t in stride(from: 1, to: clippedFrom, by: 1) {
            // Compare ᾱ_t with 1 − v_t relative to 1 − v_t: no cancellation on either side.
            let closedForm = variance.w(t)
            let oracleError = (4 * unitRoundoff * variance.v(t) + unitRoundoff * closedForm) / closedForm
            let bound = (implementationBounds[t - 1] + oracleError) * secondOrderAllowance
            tally.worst.record(error: abs(tables.alphaBar[t] - closedForm) / closedForm, bound: bound,
                               "\(name): ᾱ_\(t) = \(tables.alphaBar[t]) vs 1 − v_t = \(closedForm)")
            tally.compared += 1
        }
    }
}

// MARK: - S1.d/L1 log-sum identity, S1.d/L2 continuous limit

extension ScheduleChecks {
    public static func checkLogSum(builder: ScheduleBuilder? = nil, seed: UInt64 = defaultSeed) throws -> ClaimResult {
        let cases = randomCases(seed: seed)
        return try scheduleSweep(.logSum, seed: seed, builder: builder, run: runLogSum) { cases[$0] }.sweep(cases: cases.count)
    }

    /// S1.d/L1 on one schedule (skipped unless its exact β are certainly in `(0, 1)`).
    static func runLogSum(_ schedule: ScheduleCase, _ builder: ScheduleBuilder, into tally: inout ScheduleTally) throws {
        guard isValid(schedule) else { return }
        let u = unitRoundoff
        guard let tables = try? builder(schedule.kind, schedule.steps), tables.alphaBar.count == schedule.steps + 1,
              tables.beta.count == schedule.steps + 1 else {
            tally.worst.record(error: .infinity, bound: 0, "\(schedule.name): refused or wrong shape"); return
        }
        var logSum = 0.0, sumOfPartialSums = 0.0, logErrors = 0.0
        for t in 1...schedule.steps {
            let term = try GSL.log1plusxWithError(-tables.beta[t])
            logSum += term.value
            if t >= 2 { sumOfPartialSums += abs(logSum) }
            logErrors += term.error
            let logAlphaBar = log(tables.alphaBar[t])
            // ᾱ̂ (2t − 1 roundings), log (2u relative), the GSL sum (running bound + GSL's estimates).
            let bound = (Double(2 * t - 1) * u + libmError * abs(logAlphaBar) + u * sumOfPartialSums + logErrors) / abs(logSum)
            tally.worst.record(error: abs(logAlphaBar - logSum) / abs(logSum), bound: bound * secondOrderAllowance,
                               "\(schedule.name): log ᾱ_\(t) = \(logAlphaBar) vs Σ log1p(−β) = \(logSum)")
        }
    }

    /// VP endpoints: `β̃(u) = β_min + u(β_max − β_min)` on `u ∈ [0, 1]`.
    static let vpBetaMin = 0.1, vpBetaMax = 20.0
    static let limitSteps = [100, 1000, 10_000]
    static let limitFractions = [0.1, 0.25, 0.5, 0.75, 1.0]

    public static func checkContinuousLimit(builder: ScheduleBuilder = reference, seed: UInt64 = defaultSeed) throws -> ClaimResult {
        let u = unitRoundoff, a = vpBetaMin, b = vpBetaMax, delta = b - a
        let families: [(name: String, kind: @Sendable (Int) -> ScheduleKind)] = [
            ("linear(β_min/T, β_max/T)", { .linear(start: a / Double($0), end: b / Double($0)) }),
            ("ddpm-linear", { _ in .ddpmLinear }),
        ]
        var worst = WorstRatio()
        var summary: [String] = []
        for family in families {
            // T·E(T), its allowance K(T), and C_max = max_τ |C(τ)|.
            var scaledMaxError: [Int: Double] = [:], allowance: [Int: Double] = [:]
            var largestC = 0.0
            for steps in limitSteps {
                let T = Double(steps), name = "\(family.name), T = \(steps)"
                guard let tables = try? builder(family.kind(steps), steps), tables.alphaBar.count == steps + 1 else {
                    worst.record(error: .infinity, bound: 0, "\(name): refused or wrong shape"); continue
                }
                var largestError = 0.0, largestK = 0.0
                for fraction in limitFractions {
                    let t = Int((fraction * T).rounded()), tau = Double(t) / T
                    let integral = try GSL.integrate(0, tau) { a + $0 * delta }
                    let squares = try GSL.integrate(0, tau) { (a + $0 * delta) * (a + $0 * delta) }
                    // err_T(τ) = −C(τ)/T + O(1/T²): C = ½∫β̃² − Δτ(1−τ)/2 (Proofs S1.d/L2).
                    let c = squares.value / 2 - delta * tau * (1 - tau) / 2
                    let logAlphaBar = log(tables.alphaBar[t])
                    let error = logAlphaBar + integral.value
                    // Exact β_s = β̃((s−1)/(T−1))/T: the cubic remainder and the rounding of ᾱ̂.
                    var cubes = 0.0, relativeShift = 0.0
                    for s in 1...t {
                        let beta = (a + delta * Double(s - 1) / (T - 1)) / T
                        cubes += beta * beta * beta
                        relativeShift += beta / (1 - beta)
                    }
                    let lastBeta = (a + delta * Double(t - 1) / (T - 1)) / T
                    let rounding = Double(2 * t - 1) * u + 7 * u * relativeShift + libmError * abs(logAlphaBar)
                        + integral.error + b * u * tau
                    let k = delta * tau * (1 - tau) * (1 + a) / (2 * (T - 1))
                        + delta * delta / 12 * (tau * tau * abs(4 * tau - 3) * T + tau * abs(1 - 2 * tau * tau)) / ((T - 1) * (T - 1))
                        + T * cubes / (3 * (1 - lastBeta))
                        + T * rounding + squares.error / 2 + (b * b / 2 + delta) * u * tau
                    worst.record(error: abs(T * error + c), bound: k * secondOrderAllowance,
                                 "\(name), τ = \(tau): T·err = \(T * error) vs −C = \(-c)")
                    largestError = max(largestError, abs(error))
                    largestK = max(largestK, k)
                    largestC = max(largestC, abs(c))
                }
                scaledMaxError[steps] = T * largestError
                allowance[steps] = largestK * secondOrderAllowance
            }
            var text = "\(family.name): C_max \(short(largestC)), T·E(T) = "
                + limitSteps.map { scaledMaxError[$0].map(short) ?? "–" }.joined(separator: ", ")
            for steps in limitSteps {
                guard let scaled = scaledMaxError[steps], let k = allowance[steps] else { continue }
                worst.record(error: abs(scaled - largestC), bound: k, "\(family.name), T = \(steps): T·E(T) = \(scaled) vs C_max = \(largestC)")
            }
            for (steps, next) in zip(limitSteps, limitSteps.dropFirst()) {
                guard let scaled = scaledMaxError[steps], let nextScaled = scaledMaxError[next],
                      let k = allowance[steps], let nextK = allowance[next] else { continue }
                let ratio = 10 * scaled / nextScaled   // E(T)/E(10T)
                let lower = 10 * (largestC - k) / (largestC + nextK), upper = 10 * (largestC + k) / (largestC - nextK)
                worst.record(error: abs(ratio - 10), bound: max(10 - lower, upper - 10),
                             "\(family.name): E(\(steps))/E(\(next)) = \(ratio), band [\(short(lower)), \(short(upper))]")
                text += "; E(\(steps))/E(\(next)) = \(short(ratio)) ∈ [\(short(lower)), \(short(upper))]"
            }
            summary.append(text)
        }
        return worst.result(id: "S1.d/L2", statistic: summary.joined(separator: " | "), seed: seed, unit: "abs")
    }
}

// MARK: - S1/E1 invalid parameters

extension ScheduleChecks {
    enum ExpectedRefusal {
        /// `.invalidSchedule` whose `parameter` (split at "/") includes one of these names.
        case parameter([String])
        case shape(field: String, expected: Int, actual: Int)

        func matches(_ error: ADARError) -> Bool {
            switch (self, error) {
            case let (.parameter(names), .invalidSchedule(parameter, _)):
                return parameter.split(separator: "/").contains { names.contains(String($0)) }
            case let (.shape(field, expected, actual), .shapeMismatch(gotField, gotExpected, gotActual)):
                return (field, expected, actual) == (gotField, gotExpected, gotActual)
            default:
                return false
            }
        }
    }

    /// Each invalid input of S1 with the parameter the refusal must name.
    static let invalidCases: [(kind: ScheduleKind, steps: Int, expected: ExpectedRefusal)] = [
        (.ddpmLinear, 0, .parameter(["steps"])),
        (.linear(start: 1e-4, end: 0.02), -5, .parameter(["steps"])),
        (.custom(betas: []), 0, .parameter(["steps"])),
        (.custom(betas: [0.1, 0, 0.2]), 3, .parameter(["beta[2]"])),
        (.custom(betas: [0.1, 1, 0.2]), 3, .parameter(["beta[2]"])),
        (.custom(betas: [-0.1]), 1, .parameter(["beta[1]"])),
        (.custom(betas: [0.5, 1.5]), 2, .parameter(["beta[2]"])),
        (.custom(betas: [0.1, .nan]), 2, .parameter(["beta[2]"])),
        (.custom(betas: [.infinity]), 1, .parameter(["beta[1]"])),
        (.custom(betas: [0.1, 0.2]), 3, .shape(field: "betas", expected: 3, actual: 2)),
        (.custom(betas: [0.1, 0.2, 0.3, 0.4]), 3, .shape(field: "betas", expected: 3, actual: 4)),
        (.linear(start: 0.02, end: 1e-4), 10, .parameter(["start", "end"])),
        (.linear(start: .nan, end: 0.02), 10, .parameter(["start"])),
        (.linear(start: 1e-4, end: .nan), 10, .parameter(["end"])),
        (.linear(start: -.infinity, end: 0.02), 10, .parameter(["start"])),
        (.linear(start: 0, end: 0.02), 10, .parameter(["beta[1]"])),
        (.linear(start: -1e-3, end: 0.02), 10, .parameter(["beta[1]"])),
        (.linear(start: 1e-4, end: 1), 10, .parameter(["beta[10]"])),
        // β_6 = 1e-4 + 5·1.5999/9 ≈ 0.889, β_7 ≈ 1.067.
        (.linear(start: 1e-4, end: 1.6), 10, .parameter(["beta[7]"])),
        // ddpm-linear at T = 10: β_t = 0.01 + (t − 1)·1.99/9; β_5 ≈ 0.894, β_6 ≈ 1.116.
        (.ddpmLinear, 10, .parameter(["beta[6]"])),
        (.scaledLinear(start: 0.02, end: 1e-4), 10, .parameter(["start", "end"])),
        (.scaledLinear(start: -1e-4, end: 0.02), 10, .parameter(["start"])),
        (.scaledLinear(start: .nan, end: 0.02), 10, .parameter(["start"])),
        (.cosine(s: -0.001, maxBeta: 0.999), 10, .parameter(["s"])),
        (.cosine(s: .nan, maxBeta: 0.999), 10, .parameter(["s"])),
        (.cosine(s: .infinity, maxBeta: 0.999), 10, .parameter(["s"])),
        (.cosine(s: 0.008, maxBeta: 0), 10, .parameter(["maxBeta"])),
        (.cosine(s: 0.008, maxBeta: 1), 10, .parameter(["maxBeta"])),
        (.cosine(s: 0.008, maxBeta: 1.5), 10, .parameter(["maxBeta"])),
        (.cosine(s: 0.008, maxBeta: -0.5), 10, .parameter(["maxBeta"])),
        (.cosine(s: 0.008, maxBeta: .nan), 10, .parameter(["maxBeta"])),
        (.linearVariance(scale: 1, min: 0.02, max: 0.02, maxBeta: 0.999), 10, .parameter(["max", "min"])),
        (.linearVariance(scale: 1, min: 0.02, max: 1e-4, maxBeta: 0.999), 10, .parameter(["max", "min"])),
        (.linearVariance(scale: 1, min: .nan, max: 0.02, maxBeta: 0.999), 10, .parameter(["min"])),
        (.linearVariance(scale: 1, min: 1e-4, max: .nan, maxBeta: 0.999), 10, .parameter(["max"])),
        (.linearVariance(scale: 0, min: 1e-4, max: 0.02, maxBeta: 0.999), 10, .parameter(["scale"])),
        (.linearVariance(scale: -1, min: 1e-4, max: 0.02, maxBeta: 0.999), 10, .parameter(["scale"])),
        (.linearVariance(scale: .nan, min: 1e-4, max: 0.02, maxBeta: 0.999), 10, .parameter(["scale"])),
        (.linearVariance(scale: 1, min: 1e-4, max: 0.02, maxBeta: 1), 10, .parameter(["maxBeta"])),
        (.linearVariance(scale: 1, min: 1e-4, max: 0.02, maxBeta: 0), 10, .parameter(["maxBeta"])),
        // v_1 = 0 ⇒ β_1 = 0.
        (.linearVariance(scale: 1, min: 0, max: 0.02, maxBeta: 0.999), 10, .parameter(["beta[1]"])),
        // v crosses 1 between t = 5 and 6: β_6 = 2 is clipped, β_7 = 1 − 3 = −2 is not a β.
        (.linearVariance(scale: 1, min: 0.5, max: 1.5, maxBeta: 0.999), 10, .parameter(["beta[7]"])),
    ]

    public static func checkInvalidParametersRefused(builder: ScheduleBuilder = reference, seed: UInt64 = defaultSeed) throws -> ClaimResult {
        var mismatches = 0, firstCounterexample = ""
        for (kind, steps, expected) in invalidCases {
            let outcome: String?
            do {
                _ = try builder(kind, steps)
                outcome = "accepted"
            } catch let error as ADARError {
                outcome = expected.matches(error) ? nil : "raised \(error)"
            } catch {
                outcome = "raised a non-ADAR error \(error)"
            }
            if let outcome {
                mismatches += 1
                if firstCounterexample.isEmpty { firstCounterexample = "\(describe(kind, steps: steps)): \(outcome), expected \(expected)" }
            }
        }
        return ClaimResult(id: "S1/E1", statistic: "\(invalidCases.count) invalid inputs, each must raise the error naming its parameter",
                           measure: .exact(mismatches: mismatches, cases: invalidCases.count), seed: seed, worstCase: firstCounterexample)
    }
}

// MARK: - The sweeps of S1/R1, S1.a/M1, S1.b/C1, S1.c/V1, S1.d/L1, which shrink their first failing schedule

/// The claims of S1 that sweep random `ScheduleCase`s.
public enum ScheduleClaim: String, CaseIterable, Sendable {
    case independentRecomputation = "S1/R1", monotoneAlphaBar = "S1.a/M1", cosineClosedForm = "S1.b/C1"
    case linearVarianceClosedForm = "S1.c/V1", logSum = "S1.d/L1"

    func result(_ tally: ScheduleTally, seed: UInt64) -> ClaimResult {
        switch self {
        case .independentRecomputation:
            var merged = tally.betas
            merged.merge(tally.alphaBars)
            return Self.verdict(merged, id: rawValue, seed: seed, statistic:
                "\(tally.schedules) schedules (all 6 families, T ∈ \(ScheduleChecks.sweepSteps)), \(tally.refusedAsPredicted) refused as predicted, "
                + "\(tally.borderline) borderline skipped; max rel err β \(short(tally.betas.largestError)), ᾱ \(short(tally.alphaBars.largestError))")
        case .monotoneAlphaBar:
            return ClaimResult(id: rawValue, statistic: "ᾱ_t < ᾱ_{t−1} at every t and 0 < ᾱ_T < 1, random valid schedules of all families",
                               measure: .exact(mismatches: tally.mismatches, cases: tally.comparisons), seed: seed, worstCase: tally.firstFailure)
        case .cosineClosedForm:
            return Self.verdict(tally.worst, id: rawValue, seed: seed, statistic:
                "\(tally.compared) steps before the first clipped one; max rel err \(short(tally.worst.largestError))")
        case .linearVarianceClosedForm:
            return Self.verdict(tally.worst, id: rawValue, seed: seed, statistic:
                "\(tally.compared) steps before the first clipped one; max rel err of ᾱ_t vs 1 − v_t \(short(tally.worst.largestError))")
        case .logSum:
            return Self.verdict(tally.worst, id: rawValue, seed: seed, statistic:
                "\(tally.worst.cases) steps of the sweep; max rel err \(short(tally.worst.largestError))")
        }
    }

    /// `worst`'s verdict; a tally with no case (one schedule outside the claim's domain, or a sweep
    /// before its first valid schedule) passes, so that it is never taken for a counterexample.
    static func verdict(_ worst: WorstRatio, id: String, seed: UInt64, statistic: String) -> ClaimResult {
        guard worst.cases > 0 else {
            return ClaimResult(id: id, statistic: statistic, measure: .maxError(0, bound: 0, unit: "rel"), seed: seed,
                               worstCase: "no schedule in the claim's domain")
        }
        return worst.result(id: id, statistic: statistic, seed: seed, unit: "rel")
    }
}

/// What S1's sweeps tally over their schedules.
struct ScheduleTally {
    /// S1.b/C1, S1.c/V1, S1.d/L1; S1/R1 keeps β and ᾱ apart.
    var worst = WorstRatio(), betas = WorstRatio(), alphaBars = WorstRatio()
    var schedules = 0, refusedAsPredicted = 0, borderline = 0, compared = 0
    /// S1.a/M1.
    var comparisons = 0, mismatches = 0, firstFailure = ""

    mutating func fail(_ text: @autoclosure () -> String) {
        mismatches += 1
        if firstFailure.isEmpty { firstFailure = text() }
    }
}

extension ScheduleChecks {
    /// `claim` on the one schedule `c` (`NoiseSchedule` unless `builder` is given): how a shrunk
    /// counterexample is replayed.
    public static func check(_ claim: ScheduleClaim, on c: ScheduleCase, builder: ScheduleBuilder? = nil) throws -> ClaimResult {
        let draw = { (_: Int) throws(Never) in c }
        return switch claim {
        case .independentRecomputation: try scheduleSweep(claim, seed: 0, builder: builder, run: runIndependentRecomputation, draw: draw).single(c)
        case .monotoneAlphaBar: scheduleSweep(claim, seed: 0, builder: builder, run: runMonotoneAlphaBar, draw: draw).single(c)
        case .cosineClosedForm: scheduleSweep(claim, seed: 0, builder: builder, run: runCosineClosedForm, draw: draw).single(c)
        case .linearVarianceClosedForm: scheduleSweep(claim, seed: 0, builder: builder, run: runLinearVarianceClosedForm, draw: draw).single(c)
        case .logSum: try scheduleSweep(claim, seed: 0, builder: builder, run: runLogSum, draw: draw).single(c)
        }
    }

    /// `claim`'s sweep: `run` checks one schedule with the builder under test (`reference` unless given).
    static func scheduleSweep<Failure: Error>(
        _ claim: ScheduleClaim, seed: UInt64, builder: ScheduleBuilder?,
        run: @escaping (ScheduleCase, ScheduleBuilder, inout ScheduleTally) throws(Failure) -> Void,
        draw: @escaping (Int) throws(Failure) -> ScheduleCase
    ) -> CaseSweep<ScheduleCase, ScheduleTally, Failure> {
        CaseSweep(
            claimID: claim.rawValue, call: "ScheduleChecks.check(.\(claim), on: c", argument: "builder",
            tested: builder, reference: reference, emptyTally: ScheduleTally(), draw: draw, run: run,
            result: { tally, _ in claim.result(tally, seed: seed) })
    }
}
