import Foundation
import ADARCore
import ADARReference
import GSLOracle

/// Checks of Proofs/S9-tau.md: τ's timestep encoding, initialisation,
/// forward pass, loss and gradient, training step, and the `denoised` form.
///
/// Every expected value is computed here from the S9 text: Philox from
/// `NoiseChecks`' oracle, τ in binary80 (`Float80`), derivatives by
/// `gsl_deriv_central`; the implementation under test is only ever called.
public enum TauChecks {
    public typealias PositionalEncodingFunction = (_ timestep: Int, _ dimension: Int) -> [Double]
    public typealias InitialisationFunction = (_ seed: UInt64, _ dimension: Int) -> TauParameters
    public typealias PredictFunction = (_ p: TauParameters, _ xt: [Double], _ timestep: Int, _ user: [Double]) -> [Double]
    public typealias LossFunction = (_ p: TauParameters, _ xt: [Double], _ timestep: Int, _ user: [Double], _ target: [Double]) -> TauLoss
    public typealias TrainingStep = (
        _ trainer: inout TauTrainer, _ users: [Double], _ positives: [Double], _ firstRow: UInt64,
        _ epoch: Int, _ schedule: NoiseSchedule, _ sigma: Double
    ) -> Double
    public typealias RatioTable = (NoiseSchedule) -> [Double]
    public typealias DenoisedSampleFunction = (
        _ x0: ArraySlice<Double>, _ epsilon: [Double], _ predicted: [Double], _ ratio: Double, _ sigma: Double
    ) -> [Double]

    public static var referenceLoss: LossFunction {
        { ReferenceADAR.tauLoss($0, noisy: $1, timestep: $2, user: $3, target: $4) }
    }
    public static var referencePredict: PredictFunction {
        { ReferenceADAR.predictNoise($0, noisy: $1, timestep: $2, user: $3) }
    }
    public static var referenceTraining: TrainingStep {
        { ReferenceADAR.trainTau(&$0, users: $1, positives: $2, firstRow: $3, epoch: $4, schedule: $5, sigma: $6) }
    }
    public static var referenceDenoised: DenoisedSampleFunction {
        { ReferenceADAR.denoisedSample(x0: $0, epsilon: $1, predictedNoise: $2, ratio: $3, sigma: $4) }
    }

    public static var claims: [Claim] {
        [
            Claim(id: "S9/P1", title: "PE(t): hand values at t = 1, d = 4, and every entry within 40u·a + 2u of binary80",
                  defaultSeed: 20_260_901) { try checkPositionalEncoding(seed: $0) },
            Claim(id: "S9/I1", title: "τ's initialisation is bit-exact to S9's Philox layout, biases 0, |W_ℓ| < bound_ℓ",
                  defaultSeed: 20_260_902) { try checkInitialisationLayout(seed: $0) },
            Claim(id: "S9/I2", title: "W₁/bound₁ and W₂/bound₂ are U(−1, 1) (Kolmogorov–Smirnov)",
                  defaultSeed: 20_260_903) { try checkInitialisationDistribution(seed: $0) },
            Claim(id: "S9/F1", title: "τ's output ε̂ and L_τ match a binary80 evaluation within the derived bound",
                  defaultSeed: 20_260_904) { try checkForward(seed: $0) },
            Claim(id: "S9/G1", title: "∂L_τ/∂θ matches gsl_deriv_central on every parameter of τ, d = 2, 3, 4",
                  defaultSeed: 20_260_905) { try checkGradient(seed: $0) },
            Claim(id: "S9/T1", title: "τ's training step: S9's draws, row-order mean, bias-corrected Adam, step count kept",
                  defaultSeed: 20_260_906) { try checkTraining(seed: $0) },
            Claim(id: "S9/D1", title: "x̂_0 = x_0 + σ·r_t·(ε − ε̂) equals the quotient form within its bound; binary32 analysis",
                  defaultSeed: 20_260_907) { try checkDenoised(seed: $0) },
        ]
    }
}

// MARK: - Binary80 oracle of S9

/// `u80 = 2⁻⁶⁴`, the unit roundoff of the x87 extended format.
let extendedRoundoff = 0x1p-64

extension TauChecks {
    /// `PE(t)` in binary80, written as `sin/cos(t·10000^{−(k − k mod 2)/d})`
    /// (the same value as S9's `exp(−…·ln 10⁴)`, by another route).
    static func oracleEncoding(timestep t: Int, dimension d: Int) -> [Float80] {
        (0..<d).map { k in
            let argument = Float80(t) * pow(Float80(10_000), -Float80(k - k % 2) / Float80(d))
            return k % 2 == 0 ? sin(argument) : cos(argument)
        }
    }

    /// The binary64 `PE(t)_k`'s error bound (Proofs/S9-tau.md, S9/P1):
    /// `40u·a + 2u` for `a = t·ω_k`.
    static func encodingTolerance(timestep t: Int, dimension d: Int, component k: Int) -> Double {
        let a = Double(t) * pow(10_000, -Double(k - k % 2) / Double(d))
        return 40 * unitRoundoff * a + 2 * unitRoundoff
    }

    /// S9/P1's tolerance against the binary80 oracle rounded to binary64: the
    /// bound above, the rounding `u` and the oracle's own `2⁻⁶⁰·(a + 1)`.
    static func encodingCheckTolerance(timestep t: Int, dimension d: Int, component k: Int) -> Double {
        let a = Double(t) * pow(10_000, -Double(k - k % 2) / Double(d))
        return encodingTolerance(timestep: t, dimension: d, component: k) + unitRoundoff + 0x1p-60 * (a + 1)
    }

    /// τ's forward pass and loss in binary80 on binary64 inputs, with the
    /// binary80 `PE`. Returns `(y, L)`.
    static func oracleForward(
        _ p: TauParameters, noisy xt: [Double], timestep t: Int, user: [Double], target: [Double]
    ) -> (output: [Float80], loss: Float80) {
        let d = p.dimension, inputs = 3 * d, hidden = 4 * d
        let v = xt.map(Float80.init) + oracleEncoding(timestep: t, dimension: d) + user.map(Float80.init)
        var h = [Float80]()
        for j in 0..<hidden {
            var z = Float80(p.b1[j])
            for i in 0..<inputs { z += Float80(p.w1[j * inputs + i]) * v[i] }
            h.append(z / (1 + exp(-z)))
        }
        var y = [Float80](), loss: Float80 = 0
        for k in 0..<d {
            var sum = Float80(p.b2[k])
            for j in 0..<hidden { sum += Float80(p.w2[k * hidden + j]) * h[j] }
            y.append(sum)
            let r = sum - Float80(target[k])
            loss += r * r
        }
        return (y, loss / Float80(d))
    }
}

/// The forward error bounds of a binary64 evaluation of τ at one point
/// (Proofs/S9-tau.md, S9/F1 and S9/G1), from the magnitudes of the binary64 values.
struct TauErrorModel {
    let activations: ReferenceADAR.TauActivations
    /// Bounds on `|ẑ_j − z_j|`, `|ĥ_j − h_j|`, `|ŷ_k − y_k|`, `|r̂_k − r_k|`, `|v̂_i − v_i|`.
    let zBound: [Double], hBound: [Double], yBound: [Double], residualBound: [Double], inputBound: [Double]
    /// Bound on `|L̂ − L|`.
    let lossBound: Double
    /// `r_k = y_k − ε′_k` in binary64.
    let residuals: [Double]
    let parameters: TauParameters

    init(_ p: TauParameters, noisy xt: [Double], timestep t: Int, user: [Double], target: [Double]) {
        let d = p.dimension, inputs = 3 * d, hidden = 4 * d, u = unitRoundoff
        parameters = p
        activations = ReferenceADAR.tauForward(p, input: ReferenceADAR.tauInput(noisy: xt, timestep: t, user: user))
        let a = activations
        let input = (0..<inputs).map { i in
            (d..<2 * d).contains(i) ? TauChecks.encodingTolerance(timestep: t, dimension: d, component: i - d) : 0
        }
        var z = [Double](), h = [Double]()
        for j in 0..<hidden {
            var magnitude = abs(p.b1[j]), propagated = 0.0
            for i in 0..<inputs {
                magnitude += abs(p.w1[j * inputs + i] * a.input[i])
                propagated += abs(p.w1[j * inputs + i]) * input[i]
            }
            let dz = gamma(inputs + 1) * magnitude + propagated
            z.append(dz)
            // |SiLU′| ≤ 1.1; SiLU's own evaluation: logistic 4u, one product u, rounded up to 6u.
            h.append(1.1 * dz + 6 * u * abs(a.hidden[j]))
        }
        var y = [Double](), residual = [Double](), residuals = [Double](), loss = 0.0
        for k in 0..<d {
            var magnitude = abs(p.b2[k]), propagated = 0.0
            for j in 0..<hidden {
                magnitude += abs(p.w2[k * hidden + j] * a.hidden[j])
                propagated += abs(p.w2[k * hidden + j]) * h[j]
            }
            let dy = gamma(hidden + 1) * magnitude + propagated
            y.append(dy)
            let r = a.output[k] - target[k]
            residuals.append(r)
            let dr = dy + u * abs(r)
            residual.append(dr)
            // (r + δ)² − r² ≤ (2|r| + δ)δ, then the square's rounding.
            loss += (2 * abs(r) + dr) * dr + u * r * r
        }
        let squares = residuals.reduce(0) { $0 + $1 * $1 }
        // The sum of d squares (γ_d) and the division by d (u).
        lossBound = loss / Double(d) + gamma(d + 1) * squares / Double(d)
        inputBound = input
        zBound = z
        hBound = h
        yBound = y
        residualBound = residual
        self.residuals = residuals
    }

    /// Bound on `|ĝ_q − g_q|` for the binary64 gradient of `L_τ` by the
    /// backpropagation of S9/G1, parameter `q` in `TauParameters.flattened` order.
    func gradientBounds() -> [Double] {
        let p = parameters, d = p.dimension, inputs = 3 * d, hidden = 4 * d, u = unitRoundoff
        let a = activations
        // ∂L/∂y_k = 2r_k/d.
        let gy = residuals.map { 2 * $0 / Double(d) }
        let dgy = (0..<d).map { 2 * residualBound[$0] / Double(d) + u * abs(gy[$0]) }
        var gh = [Double](repeating: 0, count: hidden), dgh = [Double](repeating: 0, count: hidden)
        var dW2 = [Double](repeating: 0, count: d * hidden)
        for k in 0..<d {
            for j in 0..<hidden {
                dW2[k * hidden + j] = abs(a.hidden[j]) * dgy[k] + abs(gy[k]) * hBound[j] + u * abs(gy[k] * a.hidden[j])
                gh[j] += p.w2[k * hidden + j] * gy[k]
                dgh[j] += gamma(d) * abs(p.w2[k * hidden + j] * gy[k]) + abs(p.w2[k * hidden + j]) * dgy[k]
            }
        }
        var dW1 = [Double](repeating: 0, count: hidden * inputs), db1 = [Double](repeating: 0, count: hidden)
        for j in 0..<hidden {
            let zj = a.preActivation[j], slope = ReferenceADAR.siluDerivative(zj)
            // |SiLU″| ≤ ½; SiLU′'s own evaluation: ≤ 6 roundings over terms ≤ 1 + |z|.
            let dSlope = 0.5 * zBound[j] + 16 * u * (1 + abs(zj))
            let gz = gh[j] * slope
            let dgz = (abs(slope) + dSlope) * dgh[j] + abs(gh[j]) * dSlope + u * abs(gz)
            db1[j] = dgz
            for i in 0..<inputs {
                dW1[j * inputs + i] = abs(a.input[i]) * dgz + (abs(gz) + dgz) * inputBound[i] + u * abs(gz * a.input[i])
            }
        }
        return dW1 + db1 + dW2 + dgy
    }
}

// MARK: - S9/P1

extension TauChecks {
    /// `PE(1)` for `d = 4` by hand: `(sin 1, cos 1, sin 10⁻², cos 10⁻²)`
    /// (Taylor series, rounded to binary64; Proofs/S9-tau.md).
    public static let handEncoding = [0.8414709848078965, 0.5403023058681398, 0.009999833334166665, 0.9999500004166653]

    /// S9/P1: every entry of `PE(t)` for chosen and random `(t, d)` (t up to 10⁵,
    /// d up to 256) against binary80, within `40u·a + 3u` (a the argument) plus
    /// the oracle's error, and at `t = 1, d = 4` also against the hand values.
    /// Passes at `max |Δ|/tol ≤ 1`; a failing sweep shrinks its first failing
    /// `(t, d)` to the smallest one that still fails (docs/Shrinking.md).
    public static func checkPositionalEncoding(
        seed: UInt64, encoding: PositionalEncodingFunction? = nil
    ) throws -> ClaimResult {
        var generator = SeededGenerator(seed: seed)
        var cases = [1, 2, 3, 4, 5, 7, 8, 16, 64, 128].flatMap { d in [1, 2, 3, 10, 100, 999, 1000, 100_000].map { ($0, d) } }
        for _ in 0..<200 { cases.append((Int.random(in: 1...100_000, using: &generator), Int.random(in: 1...256, using: &generator))) }
        return encodingSweep(seed: seed, encoding: encoding) { EncodingCase(timestep: cases[$0].0, dimension: cases[$0].1, index: $0) }
            .sweep(cases: cases.count)
    }

    /// S9/P1 at the one `(t, d)` of `c` (the reference's PE unless `encoding` is given):
    /// how a shrunk counterexample is replayed.
    public static func checkPositionalEncoding(on c: EncodingCase, encoding: PositionalEncodingFunction? = nil) -> ClaimResult {
        encodingSweep(seed: 0, encoding: encoding) { _ in c }.single(c)
    }

    static func encodingSweep(
        seed: UInt64, encoding: PositionalEncodingFunction?, draw: @escaping (Int) -> EncodingCase
    ) -> CaseSweep<EncodingCase, EncodingTally, Never> {
        CaseSweep(
            claimID: "S9/P1", call: "TauChecks.checkPositionalEncoding(on: c", argument: "encoding",
            tested: encoding, reference: ReferenceADAR.positionalEncoding, emptyTally: EncodingTally(), draw: draw,
            run: { c, encoding, tally in runPositionalEncoding(c, encoding, into: &tally) },
            result: { tally, _ in
                ClaimResult(
                    id: "S9/P1",
                    statistic: "\(tally.handEntries) hand values (t = 1, d = 4) and \(tally.entries) entries of \(tally.cases) (t, d) against binary80; "
                        + "max |Δ|/tol = \(short(tally.worstRatio))",
                    measure: .maxError(tally.worstRatio, bound: 1, unit: "rel"), seed: seed, worstCase: tally.worst)
            })
    }

    /// S9/P1 at one `(t, d)` (skipped unless `t ≥ 1`, `d ≥ 1`).
    static func runPositionalEncoding(_ c: EncodingCase, _ encoding: PositionalEncodingFunction, into tally: inout EncodingTally) {
        let (t, d) = (c.timestep, c.dimension)
        guard t >= 1, d >= 1 else { return }
        func compare(_ tested: Double, _ expected: Double, tolerance: Double, _ what: @autoclosure () -> String) {
            let error = abs(tested - expected)
            let ratio = error.isNaN ? .infinity : error / tolerance
            if ratio > tally.worstRatio { (tally.worstRatio, tally.worst) = (ratio, "\(what()): tested \(tested), expected \(expected), tol \(short(tolerance))") }
        }
        let tested = encoding(t, d)
        tally.cases += 1
        if (t, d) == (1, 4) {
            for k in 0..<4 {
                tally.handEntries += 1
                // The hand values carry ½ ulp of their own.
                compare(tested.indices.contains(k) ? tested[k] : .nan, handEncoding[k],
                        tolerance: encodingCheckTolerance(timestep: 1, dimension: 4, component: k), "t = 1, d = 4, k = \(k) (by hand)")
            }
        }
        guard tested.count == d else {
            tally.entries += 1
            compare(.nan, 0, tolerance: 1, "t = \(t), d = \(d): \(tested.count) values")
            return
        }
        let expected = oracleEncoding(timestep: t, dimension: d)
        for k in 0..<d {
            tally.entries += 1
            compare(tested[k], Double(expected[k]), tolerance: encodingCheckTolerance(timestep: t, dimension: d, component: k),
                    "t = \(t), d = \(d), k = \(k)")
        }
    }
}

/// What S9/P1 tallies over its `(t, d)`.
struct EncodingTally {
    var cases = 0, entries = 0, handEntries = 0
    var worstRatio = -1.0, worst = ""
}

// MARK: - S9/I1, S9/I2

extension TauChecks {
    /// Entry `k` of `W_ℓ` as S9 states it: counter `(⌊k/4⌋, ℓ, 0, 2³² − 2)`, key
    /// `(low32(seed), high32(seed))`, lane `k mod 4`, `u = (2w + 1)·2⁻³³`,
    /// `bound_ℓ·(2u − 1)` with `bound_ℓ = √(6/(fan_in + fan_out))`.
    static func oracleXavier(seed: UInt64, layer: Int, index k: Int, dimension d: Int) -> Double {
        let w = NoiseChecks.oraclePhilox([UInt32(k / 4), UInt32(layer), 0, 0xFFFF_FFFE],
                                         (UInt32(seed & 0xFFFF_FFFF), UInt32(seed >> 32)))[k % 4]
        let u = Double(2 * UInt64(w) + 1) * 0x1p-33
        let fans = layer == 1 ? 3 * d + 4 * d : 4 * d + d
        return (6 / Double(fans)).squareRoot() * (2 * u - 1)
    }

    /// S9/I1: `initialise(seed, d)` bit for bit against the oracle layout, for
    /// seeds with both halves set and `d ∈ {1, 2, 3, 5, 8, 13}`; biases exactly 0;
    /// every weight strictly inside `±bound_ℓ`.
    public static func checkInitialisationLayout(
        seed: UInt64, initialise: InitialisationFunction = ReferenceADAR.tauInitialParameters
    ) throws -> ClaimResult {
        var cases = 0, mismatches = 0, first = ""
        func record(_ agree: Bool, _ what: @autoclosure () -> String) {
            cases += 1
            if !agree {
                mismatches += 1
                if first.isEmpty { first = what() }
            }
        }
        for s in [seed, 0, 0x0000_0001_0000_0005, 0xFEDC_BA98_7654_3210, .max] {
            for d in [1, 2, 3, 5, 8, 13] {
                let p = initialise(s, d)
                let bounds = [(6 / Double(7 * d)).squareRoot(), (6 / Double(5 * d)).squareRoot()]
                for (layer, weights) in [(1, p.w1), (2, p.w2)] {
                    for (k, value) in weights.enumerated() {
                        let expected = oracleXavier(seed: s, layer: layer, index: k, dimension: d)
                        record(value.bitPattern == expected.bitPattern && abs(value) < bounds[layer - 1],
                               "seed \(s), d = \(d), W\(layer) entry \(k) (row \(k / (layer == 1 ? 3 * d : 4 * d))): \(value), expected \(expected)")
                    }
                }
                for (name, biases) in [("b1", p.b1), ("b2", p.b2)] {
                    record(biases.allSatisfy { $0 == 0 }, "seed \(s), d = \(d): \(name) is not 0")
                }
            }
        }
        return ClaimResult(
            id: "S9/I1", statistic: "every weight and bias of τ for 5 seeds × d ∈ {1, 2, 3, 5, 8, 13}; bit-exact",
            measure: .exact(mismatches: mismatches, cases: cases), seed: seed, worstCase: first)
    }

    /// S9/I2: for `d = 64`, the 49152 entries of `W₁/bound₁` and the 16384 of
    /// `W₂/bound₂` each against U(−1, 1) by Kolmogorov–Smirnov; Bonferroni × 2,
    /// α = 10⁻³ in total. The bounds are S9's, computed here.
    public static func checkInitialisationDistribution(
        seed: UInt64, initialise: InitialisationFunction = ReferenceADAR.tauInitialParameters
    ) throws -> ClaimResult {
        let d = 64
        let p = initialise(seed, d)
        let uniform = { (x: Double) in min(max((x + 1) / 2, 0), 1) }
        let tests = [(1, p.w1, (6 / Double(7 * d)).squareRoot()), (2, p.w2, (6 / Double(5 * d)).squareRoot())].map { layer, weights, bound in
            let (statistic, pValue) = GSL.kolmogorovSmirnov(weights.map { $0 / bound }, cdf: uniform)
            return (text: "W\(layer): D = \(short(statistic)) over n = \(weights.count), p = \(short(pValue))", p: pValue)
        }
        let worst = tests.min { $0.p < $1.p }!
        return ClaimResult(
            id: "S9/I2", statistic: "d = \(d): " + tests.map(\.text).joined(separator: "; ") + "; Bonferroni × 2",
            measure: .pValue(min(1, 2 * worst.p), alpha: 1e-3), seed: seed, worstCase: worst.text)
    }
}

// MARK: - Random τ and rows for S9/F1, S9/G1

/// One evaluation point of τ: parameters (Xavier plus random biases, so every
/// path of the gradient is non-zero), `x_t`, `t`, `e_u`, `ε′`.
struct TauPoint {
    var parameters: TauParameters
    let noisy: [Double], timestep: Int, user: [Double], target: [Double]

    init(dimension d: Int, generator: inout SeededGenerator) {
        var p = ReferenceADAR.tauInitialParameters(seed: generator.next(), dimension: d)
        p.b1 = generator.normals(4 * d).map { 0.3 * $0 }
        p.b2 = generator.normals(d).map { 0.3 * $0 }
        parameters = p
        noisy = generator.normals(d)
        timestep = Int.random(in: 1...1000, using: &generator)
        user = generator.normals(d).map { 0.7 * $0 }
        target = generator.normals(d)
    }
}

// MARK: - S9/F1

extension TauChecks {
    /// S9/F1: `ε̂` from `predict` and `L_τ` from `loss` on random τ and rows
    /// (d ∈ {1, 2, 3, 4, 8, 16}, 5 rows each) against binary80, within the
    /// running bound of Proofs/S9-tau.md plus the oracle's own error (the same
    /// bound scaled by `2·u80/u`). Passes at `max |Δ|/tol ≤ 1`. Each row is a
    /// `TauRowCase`; a failing sweep shrinks its first failing row (docs/Shrinking.md).
    public static func checkForward(seed: UInt64, predict: PredictFunction? = nil, loss: LossFunction? = nil) throws -> ClaimResult {
        let rows = try randomRows(seed: seed, dimensions: [1, 2, 3, 4, 8, 16], perDimension: 5)
        let tested = predict == nil && loss == nil
            ? nil : TauRowImplementation(predict: predict ?? referencePredict, loss: loss ?? referenceLoss)
        return try tauRowSweep(.forward, seed: seed, implementation: tested) { rows[$0] }.sweep(cases: rows.count)
    }

    /// S9/F1 on one row.
    static func runForward(_ c: TauRowCase, _ implementation: TauRowImplementation, into tally: inout TauRowTally) {
        let p = c.parameters, d = c.dimension
        let oracleShare = 1 + 2 * extendedRoundoff / unitRoundoff
        let model = TauErrorModel(p, noisy: c.noisy, timestep: c.timestep, user: c.user, target: c.target)
        let expected = oracleForward(p, noisy: c.noisy, timestep: c.timestep, user: c.user, target: c.target)
        let output = implementation.predict(p, c.noisy, c.timestep, c.user)
        let tested = implementation.loss(p, c.noisy, c.timestep, c.user, c.target).loss
        tally.record(row: c)
        var pairs = (0..<d).map { k in
            (output.indices.contains(k) ? output[k] : .nan, Double(expected.output[k]), model.yBound[k], "ε̂[\(k)]")
        }
        pairs.append((tested, Double(expected.loss), model.lossBound, "L_τ"))
        for (value, oracle, bound, name) in pairs {
            tally.checked += 1
            // The oracle's rounding to binary64 adds ½ ulp.
            let tolerance = bound * oracleShare + unitRoundoff * abs(oracle)
            let error: Double = abs(value - oracle)
            let ratio = error.isNaN ? Double.infinity : error / tolerance
            if ratio > tally.worst.ratio {
                tally.worst = (ratio, "d = \(d), t = \(c.timestep), \(name): tested \(value), binary80 \(oracle), tol \(short(tolerance))")
            }
        }
    }

    /// The random τ and rows of S9/F1 and S9/G1: `perDimension` rows for each `d`, in that order.
    static func randomRows(seed: UInt64, dimensions: [Int], perDimension: Int) throws -> [TauRowCase] {
        var generator = SeededGenerator(seed: seed)
        var rows = [TauRowCase]()
        for d in dimensions {
            for _ in 0..<perDimension {
                let point = TauPoint(dimension: d, generator: &generator)
                rows.append(try TauRowCase(
                    dimension: d, parameters: point.parameters.flattened, noisy: point.noisy, timestep: point.timestep,
                    user: point.user, target: point.target, index: rows.count))
            }
        }
        return rows
    }
}

// MARK: - S9/G1

extension TauChecks {
    /// S9/G1: every component of `∂L_τ/∂θ` from `loss` (all of `W₁, b₁, W₂, b₂`)
    /// on two random rows for each of d = 2, 3, 4, against `gsl_deriv_central`
    /// of the binary80 loss, within GSL's error estimate + `3·δf/h` + the
    /// binary64 backpropagation's bound. Passes at `max |Δ|/tol ≤ 1`. Each row is a
    /// `TauRowCase`; a failing sweep shrinks its first failing row (docs/Shrinking.md).
    public static func checkGradient(seed: UInt64, loss: LossFunction? = nil) throws -> ClaimResult {
        let rows = try randomRows(seed: seed, dimensions: [2, 3, 4], perDimension: 2)
        let tested = loss.map { TauRowImplementation(predict: referencePredict, loss: $0) }
        return try tauRowSweep(.gradient, seed: seed, implementation: tested) { rows[$0] }.sweep(cases: rows.count)
    }

    /// S9/G1 on one row.
    static func runGradient(_ c: TauRowCase, _ implementation: TauRowImplementation, into tally: inout TauRowTally) throws {
        let p = c.parameters, d = c.dimension
        let tested = implementation.loss(p, c.noisy, c.timestep, c.user, c.target).gradient.flattened
        let model = TauErrorModel(p, noisy: c.noisy, timestep: c.timestep, user: c.user, target: c.target)
        let gradientBounds = model.gradientBounds()
        // δf: the binary80 value's rounding to binary64 plus its own error (Proofs, S9/G1).
        let valueRounding = unitRoundoff * Double(oracleForward(
            p, noisy: c.noisy, timestep: c.timestep, user: c.user, target: c.target).loss)
            + 2 * extendedRoundoff / unitRoundoff * model.lossBound
        let theta = p.flattened
        tally.record(row: c)
        for q in theta.indices {
            tally.checked += 1
            var smallestOffset = Double.infinity
            let centre = theta[q]
            let numeric = try GSL.centralDerivative(at: centre, step: 1e-3) { x in
                if x != centre { smallestOffset = min(smallestOffset, abs(x - centre)) }
                var moved = theta
                moved[q] = x
                let probe = TauParameters(dimension: d, flattened: moved)
                return Double(oracleForward(probe, noisy: c.noisy, timestep: c.timestep, user: c.user, target: c.target).loss)
            }
            let step = 2 * smallestOffset
            // The stencil moves L by O(h); δf is doubled to cover it.
            let tolerance = numeric.error + (step.isFinite ? 3 * 2 * valueRounding / step : 0) + gradientBounds[q]
            let value = tested.indices.contains(q) ? tested[q] : .nan
            let error: Double = abs(value - numeric.value)
            let ratio = error.isNaN ? Double.infinity : error / tolerance
            tally.worstMixed = max(tally.worstMixed, error.isNaN ? Double.infinity : error / max(1, abs(numeric.value)))
            if ratio > tally.worst.ratio {
                tally.worst = (ratio, "d = \(d), t = \(c.timestep), ∂L/∂\(parameterName(q, dimension: d)): tested \(value), "
                               + "GSL \(numeric.value), tol \(short(tolerance))")
            }
        }
    }

    /// `W1[j][i]`, `b1[j]`, `W2[k][j]`, `b2[k]` for index `q` of `flattened`.
    static func parameterName(_ q: Int, dimension d: Int) -> String {
        let w1 = 12 * d * d, b1 = w1 + 4 * d, w2 = b1 + 4 * d * d
        switch q {
        case ..<w1: return "W1[\(q / (3 * d))][\(q % (3 * d))]"
        case ..<b1: return "b1[\(q - w1)]"
        case ..<w2: return "W2[\((q - b1) / (4 * d))][\((q - b1) % (4 * d))]"
        default: return "b2[\(q - w2)]"
        }
    }
}

// MARK: - The sweeps of S9/F1 and S9/G1, which shrink their first failing row

/// The τ under test in S9/F1 and S9/G1: its prediction `ε̂` and its loss with gradient.
public struct TauRowImplementation {
    public var predict: TauChecks.PredictFunction
    public var loss: TauChecks.LossFunction

    public init(predict: @escaping TauChecks.PredictFunction, loss: @escaping TauChecks.LossFunction) {
        self.predict = predict
        self.loss = loss
    }

    public static var reference: TauRowImplementation {
        TauRowImplementation(predict: TauChecks.referencePredict, loss: TauChecks.referenceLoss)
    }
}

/// The claims of S9 that sweep `TauRowCase`s.
public enum TauRowClaim: String, CaseIterable, Sendable {
    case forward = "S9/F1", gradient = "S9/G1"

    func result(_ tally: TauRowTally, seed: UInt64) -> ClaimResult {
        let dimensions = "{" + tally.dimensions.map(String.init).joined(separator: ", ") + "}"
        return switch self {
        case .forward:
            ClaimResult(
                id: rawValue,
                statistic: "\(tally.checked) values (ε̂ and L_τ of \(tally.rows) rows, d ∈ \(dimensions)); max |Δ|/tol = \(short(tally.worst.ratio))",
                measure: .maxError(tally.worst.ratio, bound: 1, unit: "rel"), seed: seed, worstCase: tally.worst.text)
        case .gradient:
            ClaimResult(
                id: rawValue,
                statistic: "\(tally.checked) partials (every parameter of τ, \(tally.rows / max(1, tally.dimensions.count)) rows × d ∈ \(dimensions)); "
                    + "max |Δ|/tol = \(short(tally.worst.ratio)); max mixed error |Δ|/max(1, |∂L|) = \(short(tally.worstMixed))",
                measure: .maxError(tally.worst.ratio, bound: 1, unit: "rel"), seed: seed, worstCase: tally.worst.text)
        }
    }
}

/// What S9/F1 (values) and S9/G1 (partials) tally over their rows.
struct TauRowTally {
    var rows = 0, checked = 0
    /// The dimensions of the rows, in the order first seen.
    var dimensions = [Int]()
    var worst = (ratio: -1.0, text: "")
    var worstMixed = 0.0

    mutating func record(row c: TauRowCase) {
        rows += 1
        if !dimensions.contains(c.dimension) { dimensions.append(c.dimension) }
    }
}

extension TauChecks {
    /// `claim` on the one row `c` (the reference's τ unless `implementation` is given):
    /// how a shrunk counterexample is replayed.
    public static func check(_ claim: TauRowClaim, on c: TauRowCase, implementation: TauRowImplementation? = nil) throws -> ClaimResult {
        try tauRowSweep(claim, seed: 0, implementation: implementation) { _ in c }.single(c)
    }

    static func tauRowSweep(
        _ claim: TauRowClaim, seed: UInt64, implementation: TauRowImplementation?, draw: @escaping (Int) throws -> TauRowCase
    ) -> CaseSweep<TauRowCase, TauRowTally, any Error> {
        CaseSweep(
            claimID: claim.rawValue, call: "TauChecks.check(.\(claim), on: c", argument: "implementation",
            tested: implementation, reference: .reference, emptyTally: TauRowTally(), draw: draw,
            run: { c, implementation, tally in
                switch claim {
                case .forward: runForward(c, implementation, into: &tally)
                case .gradient: try runGradient(c, implementation, into: &tally)
                }
            },
            result: { tally, _ in claim.result(tally, seed: seed) })
    }
}

// MARK: - S9/T1

extension TauChecks {
    /// S9/T1: four batches over two epochs (rows numbered from 0, 5 and 2³² + 3)
    /// through `train`, against an oracle written from S9: `ε′` and `t′` from the
    /// oracle Philox/Box–Muller, `x_t′` from S2, the per-row `L_τ` and gradient
    /// (checked by S9/F1, S9/G1), summed in row order and divided by the row
    /// count, one bias-corrected Adam step with the step count continued.
    /// Parameters, both moments, the step count and the returned mean loss must
    /// agree bit for bit after every batch. The run is a `TauTrainingCase`; when
    /// it fails it shrinks to a shorter, smaller run that still fails (docs/Shrinking.md).
    public static func checkTraining(seed: UInt64, train: TrainingStep? = nil) throws -> ClaimResult {
        let d = 3, learningRate = 0.01
        let runSeed = seed ^ 0x5A5A_0000_0000_0000
        let schedule = try NoiseSchedule(.linear(start: 1e-3, end: 0.08), steps: 37)
        var generator = SeededGenerator(seed: seed)
        let layout: [(epoch: Int, firstRow: UInt64, rows: Int)] = [(1, 0, 5), (1, 5, 4), (2, 0, 5), (2, 0x1_0000_0003, 3)]
        let batches = layout.map { batch in
            let users = generator.normals(batch.rows * d).map { 0.7 * $0 }
            return TauTrainingBatch(epoch: batch.epoch, firstRow: batch.firstRow, users: users,
                                    positives: generator.normals(batch.rows * d).map { 0.7 * $0 })
        }
        let run = try TauTrainingCase(
            seed: runSeed, dimension: d, learningRate: learningRate, schedule: schedule, sigma: 0.6,
            parameters: ReferenceADAR.tauInitialParameters(seed: runSeed, dimension: d).flattened, batches: batches)
        return try trainingSweep(seed: seed, train: train) { _ in run }.sweep(cases: 1)
    }

    /// S9/T1 on the one run `c` (the reference's training step unless `train` is given): how a
    /// shrunk counterexample is replayed.
    public static func checkTraining(on c: TauTrainingCase, train: TrainingStep? = nil) throws -> ClaimResult {
        try trainingSweep(seed: 0, train: train) { _ in c }.single(c)
    }

    static func trainingSweep(
        seed: UInt64, train: TrainingStep?, draw: @escaping (Int) throws -> TauTrainingCase
    ) -> CaseSweep<TauTrainingCase, TrainingTally, any Error> {
        CaseSweep(
            claimID: "S9/T1", call: "TauChecks.checkTraining(on: c", argument: "train", tested: train, reference: referenceTraining,
            emptyTally: TrainingTally(), draw: draw, run: { c, train, tally in runTraining(c, train, into: &tally) },
            result: { tally, _ in
                ClaimResult(
                    id: "S9/T1", statistic: "\(tally.run); θ, m, v, step count, mean loss bit-exact after each",
                    measure: .exact(mismatches: tally.mismatches, cases: tally.cases), seed: seed, worstCase: tally.first)
            })
    }

    /// One run through `train` and the oracle, compared after every batch.
    static func runTraining(_ c: TauTrainingCase, _ train: TrainingStep, into tally: inout TrainingTally) {
        let d = c.dimension
        var tested = c.trainer
        var oracle = tested
        tally.run = "\(c.batches.count) batches over \(Set(c.batches.map(\.epoch)).count) epochs, d = \(d), T = \(c.schedule.steps), σ = \(c.sigma)"
        for (n, batch) in c.batches.enumerated() {
            let testedLoss = train(&tested, batch.users, batch.positives, batch.firstRow, batch.epoch, c.schedule, c.sigma)
            let oracleLoss = oracleTrainingStep(&oracle, users: batch.users, positives: batch.positives, firstRow: batch.firstRow,
                                                epoch: batch.epoch, schedule: c.schedule, sigma: c.sigma)
            let label = "batch \(n + 1) (epoch \(batch.epoch), rows from \(batch.firstRow))"
            tally.record(testedLoss.bitPattern == oracleLoss.bitPattern, "\(label): mean L_τ \(testedLoss), expected \(oracleLoss)")
            tally.record(tested.steps == oracle.steps, "\(label): step count \(tested.steps), expected \(oracle.steps)")
            for (name, got, expected) in [("θ", tested.parameters, oracle.parameters), ("m", tested.firstMoment, oracle.firstMoment),
                                          ("v", tested.secondMoment, oracle.secondMoment)] {
                let a = got.flattened, b = expected.flattened
                let q = a.indices.first { $0 < b.count && a[$0].bitPattern != b[$0].bitPattern }
                tally.record(a.count == b.count && q == nil,
                             "\(label): \(name)[\(q.map { parameterName($0, dimension: d) } ?? "shape")] = \(q.map { a[$0] } ?? .nan), expected \(q.map { b[$0] } ?? .nan)")
            }
        }
    }

    /// The S9 training step written from the spec text (see `checkTraining`).
    static func oracleTrainingStep(
        _ trainer: inout TauTrainer, users: [Double], positives: [Double], firstRow: UInt64,
        epoch: Int, schedule: NoiseSchedule, sigma: Double
    ) -> Double {
        let d = trainer.parameters.dimension, rows = users.count / d
        let stream = UInt32(1 << 31) + UInt32(epoch), key = (UInt32(trainer.seed & 0xFFFF_FFFF), UInt32(trainer.seed >> 32))
        var lossSum = 0.0, gradientSum = [Double](repeating: 0, count: trainer.parameters.flattened.count)
        for i in 0..<rows {
            let b = firstRow + UInt64(i)
            let epsilon = (0..<d).map { NoiseChecks.oracleNormal(seed: trainer.seed, stream: stream, row: b, component: $0) }
            let w0 = NoiseChecks.oraclePhilox([0xFFFF_FFFF, UInt32(b & 0xFFFF_FFFF), UInt32(b >> 32), stream], key)[0]
            let t = 1 + Int(UInt64(w0) * UInt64(schedule.steps) / (1 << 32))
            let xt = (0..<d).map {
                schedule.sqrtAlphaBar[t] * positives[i * d + $0] + schedule.sqrtOneMinusAlphaBar[t] * (sigma * epsilon[$0])
            }
            let row = ReferenceADAR.tauLoss(trainer.parameters, noisy: xt, timestep: t,
                                            user: Array(users[i * d ..< (i + 1) * d]), target: epsilon)
            lossSum += row.loss
            for (q, g) in row.gradient.flattened.enumerated() { gradientSum[q] += g }
        }
        let gradient = gradientSum.map { $0 / Double(rows) }
        trainer.steps += 1
        let s = Double(trainer.steps)
        var theta = trainer.parameters.flattened, m = trainer.firstMoment.flattened, v = trainer.secondMoment.flattened
        for q in theta.indices {
            m[q] = 0.9 * m[q] + (1 - 0.9) * gradient[q]
            v[q] = 0.999 * v[q] + (1 - 0.999) * gradient[q] * gradient[q]
            let mHat = m[q] / (1 - pow(0.9, s)), vHat = v[q] / (1 - pow(0.999, s))
            theta[q] -= trainer.learningRate * mHat / (vHat.squareRoot() + 1e-8)
        }
        trainer.parameters = TauParameters(dimension: d, flattened: theta)
        trainer.firstMoment = TauParameters(dimension: d, flattened: m)
        trainer.secondMoment = TauParameters(dimension: d, flattened: v)
        return lossSum / Double(rows)
    }
}

/// What S9/T1 tallies over its runs: bit-exact comparisons, and the last run's shape for people.
struct TrainingTally {
    var cases = 0, mismatches = 0, first = "", run = ""

    mutating func record(_ agree: Bool, _ what: @autoclosure () -> String) {
        cases += 1
        if !agree {
            mismatches += 1
            if first.isEmpty { first = what() }
        }
    }
}

// MARK: - S9/D1

extension TauChecks {
    /// S9/D1: (a) the `r_t` table from `ratios` against binary80
    /// `√((1 − ᾱ_t)/ᾱ_t)` within `2.5u·r_t`; (b) `x̂_0` from `sample` against the
    /// quotient form `(x_t − √(1 − ᾱ_t)·σ·ε̂)/√ᾱ_t` evaluated in binary80, within
    /// `γ₅·σ·r_t·|ε_k − ε̂_k| + u·|x̂_k|` plus the oracle's error, on rows with
    /// `r_t ≤ 10`, `ε̂` at distances 1 … 10⁻⁶ from `ε`, `|x_0|` from 10⁻³ to 1.
    /// Also measures (c) the binary32 direct form against its bound, and how
    /// far the binary32 quotient form exceeds it. Passes at `max |Δ|/tol ≤ 1`.
    /// Each row of (b) is a `DenoisedCase` (with its own `r_t`, and (c)); a failing
    /// sweep shrinks its first failing row (docs/Shrinking.md). The tables (a) are
    /// fixed and name their worst entry.
    public static func checkDenoised(
        seed: UInt64, ratios: RatioTable? = nil, sample: DenoisedSampleFunction? = nil
    ) throws -> ClaimResult {
        let tested = ratios == nil && sample == nil
            ? nil : DenoisedImplementation(ratios: ratios ?? ReferenceADAR.denoisingRatios, sample: sample ?? referenceDenoised)
        let implementation = tested ?? .reference
        var generator = SeededGenerator(seed: seed)
        var tables = DenoisedTally(), rows = [DenoisedCase]()
        let d = 8
        for schedule in [try NoiseSchedule(.linear(start: 1e-4, end: 0.05), steps: 100), try NoiseSchedule(.defaultCosine, steps: 1000)] {
            let name = "\(schedule.kind.name), T = \(schedule.steps)"
            let table = implementation.ratios(schedule)
            guard table.count == schedule.steps + 1 else {
                tables.compare(.nan, 0, 1, "\(name): r table has \(table.count) entries for T = \(schedule.steps)")
                continue
            }
            for t in 0...schedule.steps {
                tables.compare(table[t], exactRatio(schedule, t), ratioTolerance(schedule, t), "\(name): r_\(t)")
            }
            let usable = (1...schedule.steps).filter { Double(exactRatio(schedule, $0)) <= 10 }
            for distance in [1.0, 0.1, 1e-3, 1e-6] {
                for x0Scale in [1.0, 0.1, 1e-3] {
                    for sigma in [0.1, 1, 2] {
                        let t = usable[Int.random(in: usable.indices, using: &generator)]
                        let x0 = generator.normals(d).map { x0Scale * $0 }
                        let epsilon = generator.normals(d)
                        let predicted = zip(epsilon, generator.normals(d)).map { $0 + distance * $1 }
                        rows.append(try DenoisedCase(schedule: schedule, timestep: t, sigma: sigma, x0: x0, epsilon: epsilon,
                                                     predicted: predicted, index: rows.count))
                    }
                }
            }
        }
        return try denoisedSweep(seed: seed, implementation: tested) { rows[$0] }
            .sweep(cases: rows.count)
            .including(fixedError: tables.worst.ratio, at: tables.worst.text) { _, rowsStatistic in
                "\(tables.values) entries of the r_t tables (linear T = 100, cosine T = 1000) and \(rowsStatistic)"
            }
    }

    /// S9/D1 on the one row `c` (the reference's `r_t` and `x̂_0` unless `implementation` is given):
    /// how a shrunk counterexample is replayed.
    public static func checkDenoised(on c: DenoisedCase, implementation: DenoisedImplementation? = nil) throws -> ClaimResult {
        try denoisedSweep(seed: 0, implementation: implementation) { _ in c }.single(c)
    }

    static func denoisedSweep(
        seed: UInt64, implementation: DenoisedImplementation?, draw: @escaping (Int) throws -> DenoisedCase
    ) -> CaseSweep<DenoisedCase, DenoisedTally, any Error> {
        CaseSweep(
            claimID: "S9/D1", call: "TauChecks.checkDenoised(on: c", argument: "implementation", tested: implementation,
            reference: .reference, emptyTally: DenoisedTally(), draw: draw,
            run: { c, implementation, tally in runDenoised(c, implementation, into: &tally) },
            result: { tally, _ in
                // (c): the binary32 direct form must stay within its bound (the analysis of Proofs/S9-tau.md).
                let direct = tally.binary32.direct
                let exceeds = direct > 1 || direct.isNaN
                return ClaimResult(
                    id: "S9/D1",
                    statistic: "\(tally.values) values (r_t and x̂_0 of \(tally.rows) rows, d ∈ {\(tally.dimensions.map(String.init).joined(separator: ", "))}); "
                        + "binary32: direct form max |Δ|/bound₃₂ = \(short(direct)), quotient form max |Δ|/bound₃₂ = \(short(tally.binary32.quotient))",
                    measure: .maxError(exceeds ? (direct.isNaN ? .nan : max(tally.worst.ratio, direct)) : tally.worst.ratio, bound: 1, unit: "rel"),
                    seed: seed, worstCase: exceeds ? "binary32 direct form exceeds its bound: \(short(direct))" : tally.worst.text)
            })
    }

    /// One row of S9/D1 (skipped when `r_t > 10`, outside the claim): its `r_t` entry, `x̂_0`
    /// against the binary80 quotient form, and the binary32 analysis (c).
    static func runDenoised(_ c: DenoisedCase, _ implementation: DenoisedImplementation, into tally: inout DenoisedTally) {
        let schedule = c.schedule, t = c.timestep
        guard Double(exactRatio(schedule, t)) <= 10 else { return }
        tally.rows += 1
        if !tally.dimensions.contains(c.dimension) { tally.dimensions.append(c.dimension) }
        let name = "\(schedule.kind.name), T = \(schedule.steps), t = \(t), σ = \(c.sigma) (row #\(c.index))"
        let table = implementation.ratios(schedule)
        guard table.count == schedule.steps + 1 else {
            tally.compare(.nan, 0, 1, "\(name): r table has \(table.count) entries for T = \(schedule.steps)")
            return
        }
        let r = table[t]
        tally.compare(r, exactRatio(schedule, t), ratioTolerance(schedule, t), "\(name): r_\(t)")
        let x = implementation.sample(c.x0[...], c.epsilon, c.predicted, r, c.sigma)
        let (expected, bounds) = quotientOracle(x0: c.x0, epsilon: c.epsilon, predicted: c.predicted,
                                                alphaBar: schedule.alphaBar[t], sigma: c.sigma)
        for k in 0..<c.dimension {
            tally.compare(x.indices.contains(k) ? x[k] : .nan, expected[k], bounds[k], "\(name), k = \(k)")
        }
        let measured = binary32Comparison(x0: c.x0, epsilon: c.epsilon, predicted: c.predicted,
                                          alphaBar: schedule.alphaBar[t], sigma: c.sigma)
        tally.binary32 = (max(tally.binary32.direct, measured.direct), max(tally.binary32.quotient, measured.quotient))
    }

    /// `r_t = √((1 − ᾱ_t)/ᾱ_t)` in binary80.
    static func exactRatio(_ schedule: NoiseSchedule, _ t: Int) -> Float80 {
        let a = Float80(schedule.alphaBar[t])
        return ((1 - a) / a).squareRoot()
    }

    /// S9/D1's tolerance for a binary64 `r_t`: `2.5u·r_t` plus the oracle's own error.
    static func ratioTolerance(_ schedule: NoiseSchedule, _ t: Int) -> Double {
        let exact = Double(exactRatio(schedule, t))
        return 2.5 * unitRoundoff * exact + 0x1p-62 * exact
    }

    /// The quotient form in binary80 on the binary64 inputs, and per component
    /// the tolerance for a binary64 direct-form `x̂_0` (Proofs/S9-tau.md, S9/D1).
    static func quotientOracle(
        x0: [Double], epsilon: [Double], predicted: [Double], alphaBar: Double, sigma: Double
    ) -> (value: [Float80], tolerance: [Double]) {
        let a = Float80(alphaBar), signal = a.squareRoot(), noise = (1 - a).squareRoot(), s = Float80(sigma)
        let r = Double(noise / signal)
        var values = [Float80](), tolerances = [Double]()
        for k in x0.indices {
            let xt = signal * Float80(x0[k]) + noise * s * Float80(epsilon[k])
            let value = (xt - noise * s * Float80(predicted[k])) / signal
            values.append(value)
            let correction = sigma * r * abs(epsilon[k] - predicted[k])
            let oracle = 8 * extendedRoundoff * (abs(x0[k]) + sigma * r * (abs(epsilon[k]) + abs(predicted[k])))
            tolerances.append(gamma(5) * correction + unitRoundoff * abs(Double(value)) + oracle)
        }
        return (values, tolerances)
    }

    /// Binary32 inputs (`x_0, ε, ε̂` rounded once, `r_t`, `√ᾱ_t`, `√(1 − ᾱ_t)`
    /// rounded once from binary64), both forms in binary32, against binary80 on
    /// the same binary32 inputs. Returns each form's `max |Δ|/bound₃₂` with
    /// `bound₃₂ = (γ₄⁽³²⁾ + u₃₂)·σ·r·|ε − ε̂| + u₃₂·|x̂|` (the direct form's bound).
    static func binary32Comparison(
        x0: [Double], epsilon: [Double], predicted: [Double], alphaBar: Double, sigma: Double
    ) -> (direct: Double, quotient: Double) {
        let u32 = 0x1p-24, gamma4 = 4 * u32 / (1 - 4 * u32)
        let r64 = ((1 - alphaBar) / alphaBar).squareRoot()
        let r32 = Float(r64), signal32 = Float(alphaBar.squareRoot()), noise32 = Float((1 - alphaBar).squareRoot())
        let sigma32 = Float(sigma)
        let a = Float80(alphaBar), rExact = ((1 - a) / a).squareRoot()
        var direct = 0.0, quotient = 0.0
        for k in x0.indices {
            let x = Float(x0[k]), e = Float(epsilon[k]), p = Float(predicted[k])
            let exact = Float80(x) + Float80(sigma32) * rExact * (Float80(e) - Float80(p))
            let directValue = x + sigma32 * r32 * (e - p)
            let xt = signal32 * x + noise32 * (sigma32 * e)
            let quotientValue = (xt - noise32 * (sigma32 * p)) / signal32
            let bound = (gamma4 + u32) * Double(Float80(sigma32) * rExact * abs(Float80(e) - Float80(p)))
                + u32 * abs(Double(exact)) + 1e-300
            direct = max(direct, abs(Double(Float80(directValue) - exact)) / bound)
            quotient = max(quotient, abs(Double(Float80(quotientValue) - exact)) / bound)
        }
        return (direct, quotient)
    }
}

/// The `denoised` form under test in S9/D1: its `r_t` table and its `x̂_0`.
public struct DenoisedImplementation {
    public var ratios: TauChecks.RatioTable
    public var sample: TauChecks.DenoisedSampleFunction

    public init(ratios: @escaping TauChecks.RatioTable, sample: @escaping TauChecks.DenoisedSampleFunction) {
        self.ratios = ratios
        self.sample = sample
    }

    public static var reference: DenoisedImplementation {
        DenoisedImplementation(ratios: ReferenceADAR.denoisingRatios, sample: TauChecks.referenceDenoised)
    }
}

/// What S9/D1 tallies: compared values and the largest `|Δ|/tol` (the tables, or the rows with
/// the binary32 analysis (c)).
struct DenoisedTally {
    var values = 0, rows = 0
    /// The dimensions of the rows, in the order first seen.
    var dimensions = [Int]()
    var worst = (ratio: -1.0, text: "")
    var binary32 = (direct: 0.0, quotient: 0.0)

    /// `value` against the binary80 `oracle`; the difference is taken in binary80 (rounding the
    /// oracle to binary64 first would add ½ ulp).
    mutating func compare(_ value: Double, _ oracle: Float80, _ tolerance: Double, _ what: @autoclosure () -> String) {
        values += 1
        let error = Double(abs(Float80(value) - oracle))
        let ratio = error.isNaN ? .infinity : error / tolerance
        if ratio > worst.ratio { worst = (ratio, "\(what()): tested \(value), binary80 \(oracle), tol \(short(tolerance))") }
    }
}
