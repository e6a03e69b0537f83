import Foundation
import ADARCore
import ADAR
import ADARFixtures
import ADARProtocol
import GSLOracle

/// Checks of Proofs/conformance-tolerances.md: the fixture tolerances hold.
public enum ConformanceToleranceChecks {
    public static var claims: [Claim] {
        [
            Claim(id: "S6/F1", title: "binary32 tolerances cover a binary32 evaluation of the spec on every fixture") { _ in
                checkBinary32Tolerances()
            },
            Claim(id: "S6/F2", title: "every binary64 expected value agrees with an independent computation within 1/16 of its tolerance") { _ in
                checkBinary64Expectations()
            },
        ]
    }

    /// An implementation answering one request of the port protocol.
    public typealias Implementation = (FixtureOperation, JSONValue) throws -> JSONValue

    /// Worst `error / allowance` of `implementation` over the groups of `precision`, against
    /// the expected output or an alternative; `scale` shrinks every allowance (a margin).
    static func worstRatio(
        _ fixtures: [FixtureFile], precision: Precision, scale: Double, implementation: Implementation
    ) -> (ratio: Double, cases: Int, worst: String) {
        var worst = (ratio: 0.0, cases: 0, worst: "")
        for file in fixtures {
            for test in file.cases where test.precision == precision && test.result != .invalid {
                worst.cases += 1
                let tolerance = Tolerance(relative: test.tolerance.relative * scale, absolute: test.tolerance.absolute * scale)
                let ratio: Double, field: String
                do {
                    let got = try implementation(test.operation, test.input)
                    let outcome = OutputComparison(tolerance: tolerance, precision: precision).bestMatch(test.test, got: got)
                    (ratio, field) = (outcome.worstRatio, outcome.worstField)
                } catch {
                    (ratio, field) = (.infinity, "error: \(error)")
                }
                if ratio > worst.ratio || (ratio.isNaN && !worst.ratio.isNaN) {
                    worst.ratio = ratio
                    worst.worst = "\(file.name) tcId \(test.tcId) \(field)"
                }
            }
        }
        return worst
    }

    // MARK: - S6/F1

    public static func checkBinary32Tolerances(
        fixtures: [FixtureFile] = FixtureGenerator.generateAll(), implementation: Implementation = Binary32Evaluator.evaluate
    ) -> ClaimResult {
        let worst = worstRatio(fixtures, precision: .binary32, scale: 1, implementation: implementation)
        return ClaimResult(
            id: "S6/F1", statistic: "max error/allowance of a binary32 evaluation over \(worst.cases) binary32 cases",
            measure: .maxError(worst.ratio, bound: 1, unit: "rel"), seed: 0, worstCase: worst.worst)
    }

    // MARK: - S6/F2

    public static func checkBinary64Expectations(
        fixtures: [FixtureFile] = FixtureGenerator.generateAll(), oracle: Implementation = IndependentOracle.evaluate
    ) -> ClaimResult {
        let worst = worstRatio(fixtures, precision: .binary64, scale: 1.0 / 16, implementation: oracle)
        return ClaimResult(
            id: "S6/F2", statistic: "max |expected − independent|/(allowance/16) over \(worst.cases) binary64 cases",
            measure: .maxError(worst.ratio, bound: 1, unit: "rel"), seed: 0, worstCase: worst.worst)
    }
}

// MARK: - A binary32 evaluation of the spec

/// The spec evaluated the way a careful binary32 port does: schedule tables in
/// binary64 rounded to binary32 (S1), z = Φ⁻¹(ρ) in binary64 rounded, every
/// other operation in binary32; synthesis and noise by the optimised `ADAR` module.
public enum Binary32Evaluator {
    static func floats(_ json: JSONValue, _ name: String) throws -> [Float] { try OperationInput(json).reals(name).map(Float.init) }
    static func number(_ json: JSONValue, _ name: String) throws -> Double { try OperationInput(json).real(name) }
    static func reals(_ xs: [Float]) -> JSONValue { .reals(xs.map(Double.init)) }

    public static func evaluate(_ operation: FixtureOperation, input: JSONValue) throws -> JSONValue {
        switch operation {
        case .philox: return try ReferenceEvaluator.evaluate(.philox, input: input)
        case .normals:
            let seed = UInt64(input["seed"]!.stringValue!)!, row = UInt64(input["row"]!.stringValue!)!
            let noise = GaussianNoise32(seed: seed, stream: UInt32(input["stream"]!.intValue!))
            return .object([("epsilon", reals((0..<input["dimension"]!.intValue!).map { noise.normal(row: row, component: $0) }))])
        default: break
        }
        let table = try OperationInput(input).schedule()
        let sqrtA = table.sqrtAlphaBar.map(Float.init), sqrtB = table.sqrtOneMinusAlphaBar.map(Float.init)
        switch operation {
        case .schedule:
            let steps = input["timesteps"]!.arrayValue!.map { $0.intValue! }
            return .object([
                ("beta", reals(steps.map { Float(table.beta[$0]) })), ("alphaBar", reals(steps.map { Float(table.alphaBar[$0]) })),
                ("sqrtAlphaBar", reals(steps.map { sqrtA[$0] })), ("sqrtOneMinusAlphaBar", reals(steps.map { sqrtB[$0] })),
            ])
        case .forward:
            let t = input["timestep"]!.intValue!, sigma = Float(try number(input, "sigma"))
            let x0 = try floats(input, "x0"), epsilon = try floats(input, "epsilon")
            return .object([("xt", reals(zip(x0, epsilon).map { sqrtA[t] * $0 + sqrtB[t] * (sigma * $1) }))])
        case .transition:
            return try transition(input, table: table)
        case .synthesize:
            return try synthesize(input, table: table)
        case .loss:
            return try loss(input, sqrtA: sqrtA)
        case .philox, .normals:
            preconditionFailure("answered above")
        }
    }

    static func transition(_ input: JSONValue, table: NoiseSchedule) throws -> JSONValue {
        let s0 = Float(try number(input, "s0")), sNeg = Float(try number(input, "sNeg"))
        let n = Float(try number(input, "sigma")) * Float(try number(input, "userNorm")), rho = try number(input, "rho")
        let status: String, t: Int, aStar: Float
        if n == 0 { (status, t, aStar) = ("degenerateUser", 0, .nan) }
        else if s0 <= sNeg { (status, t, aStar) = ("alreadyNegative", 0, .nan) }
        else if s0 <= 0 { (status, t, aStar) = ("nonPositiveScore", 0, .nan) }
        else {
            let z = Float(StandardNormal.quantile(rho))
            let root = amplitude(s0: s0, sNeg: sNeg, n: n, z: z)
            let alphaBar = table.alphaBar.map(Float.init)
            var crossing: Int?
            if let root { crossing = (1...table.steps).first { alphaBar[$0] <= root * root } }
            (status, t, aStar) = (crossing == nil ? "saturated" : "transition", crossing ?? table.steps, root ?? .nan)
        }
        var retention = Float.nan
        if t > 0 {
            let x = (Float(table.sqrtAlphaBar[t]) * s0 - sNeg) / (Float(table.sqrtOneMinusAlphaBar[t]) * n)
            retention = Float(StandardNormal.cdf(Double(x)))
        }
        return .object([("status", .string(status)), ("timestep", .integer(t)), ("aStar", .real(Double(aStar))),
                        ("retention", .real(Double(retention)))])
    }

    /// S4.d/S4.e in binary32, the reference's branch structure.
    static func amplitude(s0: Float, sNeg: Float, n: Float, z: Float) -> Float? {
        if z == 0 { return sNeg >= 0 ? sNeg / s0 : nil }
        let zn = z * n, radicand = (s0 - sNeg) * (s0 + sNeg) + zn * zn
        guard radicand >= 0 else { return nil }
        let b = s0 * sNeg, c = zn * radicand.squareRoot()
        let a = (b >= 0) == (c >= 0) ? (b + c) / (s0 * s0 + zn * zn) : sNeg.addingProduct(-z, n) * sNeg.addingProduct(z, n) / (b - c)
        return a >= 0 ? a : nil
    }

    static func synthesize(_ input: JSONValue, table: NoiseSchedule) throws -> JSONValue {
        let configuration = input["configuration"]!
        let config = try ADARConfiguration(
            rho: try number(configuration, "rho"), policy: ReferencePolicy(rawValue: configuration["policy"]!.stringValue!)!,
            sigma: try number(configuration, "sigma"))
        let user = try floats(input, "user"), positive = try floats(input, "positive"), epsilon = try floats(input, "epsilon")
        let pool = input["pool"]!.arrayValue!.map { $0.doubleArray!.map(Float.init) }
        let rows = try DenseRows32(rows: 1, dimension: user.count, poolSize: pool.count, users: user, positives: positive, pool: pool.flatMap { $0 })
        let buffers = SynthesisBuffers()
        try ADARSynthesizer(schedule: table, configuration: config).synthesize(rows, noise: .explicit(epsilon), into: buffers, threads: 1)
        let status = buffers.statuses[0]
        return .object([
            ("status", .string(status.rawValue)), ("timestep", .integer(Int(buffers.timesteps[0]))),
            ("aStar", .real(Double(buffers.aStars[0]))), ("retention", .real(Double(buffers.retentions[0]))),
            ("positiveScore", .real(Double(buffers.positiveScores[0]))),
            ("referenceNegativeScore", .real(Double(buffers.referenceNegativeScores[0]))),
            ("syntheticScore", .real(Double(buffers.syntheticScores[0]))), ("hardestCandidate", .integer(Int(buffers.hardestCandidates[0]))),
            ("syntheticNegative", reals(Array(buffers.syntheticNegative(0)))),
        ])
    }

    static func softplus(_ x: Float) -> Float { max(x, 0) + log1p(exp(-abs(x))) }
    static func logistic(_ x: Float) -> Float { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
    static func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    static func loss(_ input: JSONValue, sqrtA: [Float]) throws -> JSONValue {
        let configuration = input["configuration"]!
        let w = Float(try number(configuration, "augmentationWeight")), lambda = Float(try number(configuration, "l2"))
        let hardestFallback = configuration["fallback"]!.stringValue! == "hardest"
        let through = configuration["gradientFlow"]!.stringValue! == "through"
        let user = try floats(input, "user"), positive = try floats(input, "positive"), xNeg = try floats(input, "syntheticNegative")
        let pool = input["pool"]!.arrayValue!.map { $0.doubleArray!.map(Float.init) }
        let isFallback = !["transition", "saturated"].contains(input["status"]!.stringValue!)
        let t = input["timestep"]!.intValue!, hardest = input["hardestCandidate"]!.intValue!
        let d = user.count, negative = pool[0]
        let margin = dot(user, positive) - dot(user, negative)
        var loss = softplus(-margin)
        let realWeight = logistic(-margin)
        var gUser = (0..<d).map { -realWeight * (positive[$0] - negative[$0]) }
        var gPositive = user.map { -realWeight * $0 }
        var gPool = pool.map { _ in [Float](repeating: 0, count: d) }
        for k in 0..<d { gPool[0][k] = realWeight * user[k] }
        if (!isFallback || hardestFallback) && w > 0 {
            let m = dot(user, positive) - dot(user, xNeg)
            loss += w * softplus(-m)
            let weight = w * logistic(-m)
            for k in 0..<d {
                gUser[k] -= weight * (positive[k] - xNeg[k])
                gPositive[k] -= weight * user[k]
            }
            if through {
                if isFallback { for k in 0..<d { gPool[hardest][k] += weight * user[k] } }
                else { for k in 0..<d { gPositive[k] += weight * sqrtA[t] * user[k] } }
            }
        }
        loss += lambda / 2 * (dot(user, user) + dot(positive, positive) + dot(negative, negative))
        for k in 0..<d {
            gUser[k] += lambda * user[k]
            gPositive[k] += lambda * positive[k]
            gPool[0][k] += lambda * negative[k]
        }
        return .object([("loss", .real(Double(loss))), ("userGradient", reals(gUser)), ("positiveGradient", reals(gPositive)),
                        ("poolGradient", .array(gPool.map(reals)))])
    }
}
