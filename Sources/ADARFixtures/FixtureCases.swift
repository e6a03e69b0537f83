import Foundation
import ADARCore
import ADARReference
import ADARProtocol

/// SplitMix64 with a fixed seed per file: the fixtures never change unless the code does.
struct FixtureRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform on [0, 1) with 53 bits.
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    /// A binary32 value, uniform on [lo, hi), widened.
    mutating func float(_ lo: Double, _ hi: Double) -> Double { FixtureGenerator.f32(lo + (hi - lo) * uniform()) }
    mutating func vector(_ d: Int, scale: Double = 1) -> [Double] { (0..<d).map { _ in float(-scale, scale) } }
}

extension FixtureGenerator {
    typealias Kind = ScheduleKind
    static let cosine1000 = (Kind.defaultCosine, 1000)
    static let linearDefault = Kind.linear(start: 1e-4, end: 0.02)

    static func schedule(_ kind: Kind, _ steps: Int) -> JSONValue { ReferenceEvaluator.encodeSchedule(kind, steps: steps) }

    // MARK: - schedules.json

    static func schedules() -> FixtureFile {
        var cases = [Case]()
        func add(_ kind: Kind, _ T: Int, _ flags: [String], _ comment: String) {
            let steps = T <= 12 ? Array(0...T) : [0, 1, 2, 3, T / 10, T / 2, T - 2, T - 1, T]
            cases.append(Case(comment: "\(kind.name), T = \(T): \(comment)", flags: ["ScheduleFamily"] + flags,
                              input: .object([("schedule", schedule(kind, T)), ("timesteps", .integers(steps))])))
        }
        for T in [1, 10, 1000] {
            add(linearDefault, T, (T == 1 ? ["SingleStep"] : []) + ["OneBasedTimesteps", "LinearNotRescaled"] + (T == 1000 ? ["Float32Accumulation"] : []),
                "β_1 = start, β_T = end")
        }
        add(linearDefault, 100, ["LinearNotRescaled"], "diffusers' linear at T = 100 is not rescaled by 1000/T")
        for T in [50, 100, 1000] {
            add(.ddpmLinear, T, ["DdpmLinearRescaled", "OneBasedTimesteps"] + (T == 1000 ? ["Float32Accumulation"] : []),
                "start 1e-4·1000/T, end 0.02·1000/T")
        }
        for T in [1, 10, 1000] {
            add(.scaledLinear(start: 0.00085, end: 0.012), T, (T == 1 ? ["SingleStep"] : []) + ["OneBasedTimesteps"],
                "linspace of square roots, squared")
        }
        for T in [1, 10, 100, 1000] {
            add(.defaultCosine, T, ["CosineClipped", "OneBasedTimesteps"] + (T == 1 ? ["SingleStep"] : []),
                "s = 0.008, maxBeta = 0.999; β_T is clipped")
        }
        add(.cosine(s: 0.008, maxBeta: 0.02), 50, ["CosineClipped"], "maxBeta = 0.02 clips every late step")
        add(.cosine(s: 0, maxBeta: 0.999), 20, ["CosineClipped"], "s = 0")
        for T in [1, 5, 50, 1000] {
            add(.linearVariance(scale: 0.1, min: 0.0001, max: 0.02, maxBeta: 0.999), T,
                (T == 1 ? ["SingleStep"] : []) + ["OneBasedTimesteps"], "DiffRec linear-var: 1 − ᾱ_t = v_t")
        }
        add(.linearVariance(scale: 1, min: 0.01, max: 0.9, maxBeta: 0.5), 10, [], "maxBeta = 0.5 clips the late steps")
        add(.custom(betas: [0.1, 0.2, 0.5]), 3, ["OneBasedTimesteps"], "β as given")
        return file("schedules.json", topic: "schedule", description: "S1 schedules: β_t, ᾱ_t, √ᾱ_t, √(1 − ᾱ_t) at the requested 1-based t.",
                    sections: [(.schedule, cases)])
    }

    // MARK: - forward_process.json

    static func forwardProcess() -> FixtureFile {
        var random = FixtureRandom(seed: 2)
        var cases = [Case]()
        let plans: [(Kind, Int, Int, Double, Int, [String])] = [
            (.defaultCosine, 1000, 0, 1, 3, ["OneBasedTimesteps"]),
            (.defaultCosine, 1000, 1, 1, 3, ["OneBasedTimesteps", "BetaNotAlphaBar"]),
            (.defaultCosine, 1000, 500, 1, 5, ["BetaNotAlphaBar", "OddDimension"]),
            (.defaultCosine, 1000, 1000, 1, 8, ["CosineClipped"]),
            (linearDefault, 100, 37, 1, 13, ["BetaNotAlphaBar", "LinearNotRescaled", "OddDimension"]),
            (.ddpmLinear, 100, 60, 1, 4, ["DdpmLinearRescaled", "BetaNotAlphaBar"]),
            (.defaultCosine, 100, 50, 0.25, 7, ["NoiseScale", "OddDimension"]),
            (.defaultCosine, 100, 50, 3, 1, ["NoiseScale"]),
            (.linearVariance(scale: 0.1, min: 0.0001, max: 0.02, maxBeta: 0.999), 50, 25, 0.125, 16, ["NoiseScale"]),
            (.scaledLinear(start: 0.00085, end: 0.012), 1000, 999, 1, 9, ["OneBasedTimesteps", "OddDimension"]),
        ]
        for (kind, T, t, sigma, d, flags) in plans {
            let x0 = random.vector(d), epsilon = random.vector(d, scale: 2)
            cases.append(Case(comment: "\(kind.name) T = \(T), t = \(t), σ = \(sigma), d = \(d)", flags: flags,
                              input: forwardInput(kind, T, t, sigma, x0, epsilon)))
        }
        let x0 = random.vector(6)
        cases.append(Case(comment: "ε = 0: x_t = √ᾱ_t·x_0", flags: ["ZeroNoise", "BetaNotAlphaBar"],
                          input: forwardInput(.defaultCosine, 1000, 300, 1, x0, [Double](repeating: 0, count: 6))))
        return file("forward_process.json", topic: "forward", description: "S2 forward process: x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·σ·ε.",
                    sections: [(.forward, cases)])
    }

    static func forwardInput(_ kind: Kind, _ T: Int, _ t: Int, _ sigma: Double, _ x0: [Double], _ epsilon: [Double]) -> JSONValue {
        .object([("schedule", schedule(kind, T)), ("timestep", .integer(t)), ("sigma", .real(sigma)),
                 ("x0", .reals(x0)), ("epsilon", .reals(epsilon))])
    }

    // MARK: - transition.json

    static func transitionInput(_ kind: Kind, _ T: Int, s0: Double, sNeg: Double, norm: Double, sigma: Double = 1, rho: Double) -> JSONValue {
        .object([("schedule", schedule(kind, T)), ("s0", .real(s0)), ("sNeg", .real(sNeg)), ("userNorm", .real(norm)),
                 ("sigma", .real(sigma)), ("rho", .real(rho))])
    }

    static let rhoNearZero = 0x1p-10, rhoNearOne = 1 - 0x1p-10, rhoFarZero = 0x1p-20, rhoFarOne = 1 - 0x1p-20

    static func transition() -> FixtureFile {
        var cases = [Case]()
        var random = FixtureRandom(seed: 3)
        func add(_ kind: Kind, _ T: Int, s0: Double, sNeg: Double, norm: Double, sigma: Double = 1, rho: Double,
                 _ flags: [String], _ comment: String) {
            let input = transitionInput(kind, T, s0: s0, sNeg: sNeg, norm: norm, sigma: sigma, rho: rho)
            var flags = flags
            let status = (try? ReferenceEvaluator.evaluate(.transition, input: input))?["status"]?.stringValue ?? ""
            let statusFlag = ["transition": "StatusTransition", "saturated": "StatusSaturated", "alreadyNegative": "StatusAlreadyNegative",
                              "nonPositiveScore": "StatusNonPositiveScore", "degenerateUser": "StatusDegenerateUser"][status]!
            if !flags.contains(statusFlag) { flags.insert(statusFlag, at: 0) }
            // OtherRoot and NoCrossing follow from the quadratic itself (lint checks both against the case).
            if status == "transition" || status == "saturated", let quadratic = TransitionQuadratic(s0: s0, sNeg: sNeg, n: sigma * norm, rho: rho) {
                if quadratic.bothRootsInUnitInterval, !flags.contains("OtherRoot") { flags.append("OtherRoot") }
                if !quadratic.crosses, !flags.contains("NoCrossing") { flags.append("NoCrossing") }
            }
            cases.append(Case(comment: "\(kind.name) T = \(T): " + comment, flags: flags, input: input))
        }
        let (cos, T) = cosine1000
        add(cos, T, s0: 1, sNeg: 0.5, norm: 1, rho: 0.5, ["HalfRetention"], "a* = s⁻/s_0 = ½")
        add(cos, T, s0: 2, sNeg: -0.5, norm: 1, rho: 0.5, ["HalfRetention", "NoCrossing"], "ρ = ½, s⁻ < 0: no crossing")
        add(linearDefault, 1000, s0: 1.5, sNeg: 1.25, norm: 0.75, rho: 0.5, ["HalfRetention", "LinearNotRescaled"], "a* = 5/6")
        add(.ddpmLinear, 100, s0: 1.5, sNeg: 1.25, norm: 0.75, rho: 0.5, ["HalfRetention", "DdpmLinearRescaled"], "a* = 5/6")
        add(.linearVariance(scale: 0.1, min: 0.0001, max: 0.02, maxBeta: 0.999), 50, s0: 3, sNeg: 2.5, norm: 1, rho: 0.5,
            ["HalfRetention"], "a* = 5/6")
        // A grid over ρ, including both tails.
        for rho in [0.25, 0.75, rhoNearZero, rhoNearOne, rhoFarZero, rhoFarOne] {
            for _ in 0..<2 {
                let s0 = random.float(0.5, 3), ratio = random.float(-0.5, 0.95), norm = random.float(0.25, 2)
                var flags = [String]()
                if rho < 0.01 { flags.append("RetentionNearZero") }
                if rho > 0.99 { flags.append("RetentionNearOne") }
                add(cos, T, s0: s0, sNeg: f32(s0 * ratio), norm: norm, rho: rho, flags, "ρ = \(rho)")
            }
        }
        // The lower tail with a crossing: s⁻/n beyond −z, so a* and t* exist and a* is checked there.
        for (rho, s0, sNeg, norm) in [(rhoNearZero, 2.0, 1.5, 0.25), (rhoNearZero, 1.0, 0.875, 0.125), (rhoFarZero, 2.0, 1.75, 0.25),
                                      (rhoFarZero, 3.0, 2.0, 0.375)] {
            add(cos, T, s0: s0, sNeg: sNeg, norm: norm, rho: rho, ["RetentionNearZero"], "ρ = \(rho), s⁻/n = \(sNeg / norm) > −z: a crossing")
        }
        add(cos, T, s0: 1, sNeg: 0.5, norm: 1, sigma: 0.25, rho: 0.25, ["NoiseScale"], "σ = ¼ shrinks n")
        add(cos, T, s0: 1, sNeg: 0.5, norm: 0.5, sigma: 4, rho: 0.75, ["NoiseScale"], "σ = 4 grows n")
        add(linearDefault, 1000, s0: 2, sNeg: 1, norm: 0.5, sigma: 0.125, rho: 0.1, ["NoiseScale"], "σ = ⅛")
        // Saturated: ᾱ* below ᾱ_T, and no crossing at all.
        add(cos, T, s0: 1, sNeg: f32(1e-6), norm: 1, rho: 0.5, ["StatusSaturated", "HalfRetention"], "ᾱ* = 1e-12 < ᾱ_T")
        add(cos, T, s0: 1, sNeg: -1, norm: 1, rho: 0.25, ["StatusSaturated", "NoCrossing"], "Φ(−s⁻/n) = Φ(1) > ρ")
        add(.defaultCosine, 10, s0: 1, sNeg: f32(0.01), norm: 0.125, rho: 0.25, ["StatusSaturated"],
            "T = 10, s⁻/n = 0.08 < −z ≈ 0.67: no crossing at all (Φ(−s⁻/n) > ρ)")
        // S4.f ties: ᾱ* = (s⁻/s_0)² equals a table entry exactly, in binary64 and in binary32 (exactTieCases proves it):
        // t* is that step, and a port deciding ᾱ_t < ᾱ* (strict) lands one step late.
        for (betas, s0, sNeg, t) in exactTieCases {
            add(.custom(betas: betas), betas.count, s0: s0, sNeg: sNeg, norm: 1, rho: 0.5, ["HalfRetention", "ExactTie"],
                "ᾱ* = (s⁻/s_0)² = ᾱ_\(t) exactly")
        }
        // Fallback statuses and precedence.
        add(cos, T, s0: 0.5, sNeg: 0.5, norm: 1, rho: 0.5, ["StatusAlreadyNegative"], "s_0 = s⁻ (tie) is already negative")
        add(cos, T, s0: 0.25, sNeg: 0.75, norm: 1, rho: 0.5, ["StatusAlreadyNegative"], "s_0 < s⁻")
        add(cos, T, s0: 0, sNeg: -1, norm: 1, rho: 0.5, ["StatusNonPositiveScore"], "s_0 = 0 > s⁻")
        add(cos, T, s0: -0.5, sNeg: -1, norm: 1, rho: 0.5, ["StatusNonPositiveScore"], "s_0 < 0, s_0 > s⁻")
        add(cos, T, s0: 1, sNeg: 0.5, norm: 0, rho: 0.5, ["StatusDegenerateUser"], "n = 0")
        add(cos, T, s0: 0, sNeg: 0, norm: 0, rho: 0.5, ["StatusDegenerateUser", "Precedence"], "n = 0 and s_0 = s⁻: degenerateUser first")
        add(cos, T, s0: -1, sNeg: 0.5, norm: 1, rho: 0.5, ["StatusAlreadyNegative", "Precedence"], "s_0 ≤ s⁻ and s_0 ≤ 0: alreadyNegative first")
        // S4.e cancellation: s⁻ ≈ ∓z·n, a* small against its terms. The direct S4.d sum passes these as well as
        // the product of roots: a* is that ill-conditioned in z itself (Proofs/S4-transition.md, S4.e/C2).
        for rho in [0.25, 0.75, 0.1] {
            let z = StandardNormal.quantile(rho)
            add(cos, T, s0: 2, sNeg: f32(-z * (1 + 0x1p-10)), norm: 1, rho: rho, ["Cancellation"], "s⁻ = −z·n·(1 + 2⁻¹⁰)")
        }
        // S4.f boundary: s⁻/s_0 is the binary32 neighbour of √ᾱ_t, on both sides.
        for (kind, steps, t) in [(cos, T, 400), (linearDefault, 1000, 1000), (.ddpmLinear, 100, 3)] as [(Kind, Int, Int)] {
            let table = try! NoiseSchedule(kind, steps: steps)
            let s0 = 1.5, target = Float(table.sqrtAlphaBar[t] * s0)
            for sNeg in [target.nextDown, target, target.nextUp] {
                add(kind, steps, s0: s0, sNeg: Double(sNeg), norm: 1, rho: 0.5, ["HalfRetention"], "s⁻/s_0 next to √ᾱ_\(t)")
            }
        }
        return file("transition.json", topic: "transition",
                    description: "S4 + S5 for one row: status, t*, a*, π at t* from (s_0, s⁻, ‖e_u‖, σ, ρ).",
                    sections: [(.transition, cases)])
    }

    /// S4.f exact ties at ρ = ½ (a* = s⁻/s_0): custom schedules whose ᾱ_t are squares of short dyadic
    /// numbers (α = ¼ gives ᾱ_t = 4⁻ᵗ, α = 9/16 gives (3/4)²ᵗ), and s⁻ = s_0·√ᾱ_t. Each is proved here with
    /// exact arithmetic: Float80 holds every product of two binary32 values exactly, so ᾱ* = a*² is the table
    /// entry in binary64, and in binary32 (a* and a*² binary32 values, the table entry a binary32 value).
    static let exactTieCases: [(betas: [Double], s0: Double, sNeg: Double, timestep: Int)] = {
        let quarter = [Double](repeating: 0.75, count: 12), nineSixteenths = [Double](repeating: 0.4375, count: 8)
        let cases: [([Double], Double, Double, Int)] = [
            (quarter, 1, 0x1p-1, 1), (quarter, 1, 0x1p-5, 5), (quarter, 2, 0x1p-11, 12),
            (nineSixteenths, 1, 0.421875, 3), (nineSixteenths, 2, 1.125, 2), (nineSixteenths, 1, 0.177978515625, 6),
        ]
        for (betas, s0, sNeg, t) in cases {
            let table = try! NoiseSchedule(.custom(betas: betas), steps: betas.count)
            let a = sNeg / s0
            precondition(Float80(a) * Float80(s0) == Float80(sNeg) && Double(Float(a)) == a, "a* = s⁻/s_0 must be exact")
            precondition(Float80(a) * Float80(a) == Float80(table.alphaBar[t]), "ᾱ* must equal ᾱ_\(t) exactly")
            precondition(Float80(Float(a) * Float(a)) == Float80(table.alphaBar[t]), "a*² must be exact in binary32")
            precondition(ReferenceADAR.discreteTimestep(alphaBarStar: a * a, schedule: table) == t, "the tie decides t* = \(t)")
        }
        return cases
    }()

    // MARK: - synthesis.json

    static func synthesisInput(
        _ kind: Kind, _ T: Int, rho: Double, policy: ReferencePolicy, sigma: Double,
        user: [Double], positive: [Double], pool: [[Double]], epsilon: [Double]
    ) -> JSONValue {
        .object([
            ("schedule", schedule(kind, T)),
            ("configuration", .object([("rho", .real(rho)), ("policy", .string(policy.rawValue)), ("sigma", .real(sigma))])),
            ("user", .reals(user)), ("positive", .reals(positive)), ("pool", .array(pool.map(JSONValue.reals))),
            ("epsilon", .reals(epsilon)),
        ])
    }

    static let policyFlag: [ReferencePolicy: String] = [.max: "PolicyMax", .mean: "PolicyMean", .first: "PolicyFirst"]

    static func synthesisCases() -> [Case] {
        var random = FixtureRandom(seed: 4)
        var cases = [Case]()
        func add(_ kind: Kind, _ T: Int, rho: Double, policy: ReferencePolicy, sigma: Double, user: [Double], positive: [Double],
                 pool: [[Double]], epsilon: [Double], _ flags: [String], _ comment: String) {
            let input = synthesisInput(kind, T, rho: rho, policy: policy, sigma: sigma, user: user, positive: positive, pool: pool, epsilon: epsilon)
            let status = (try? ReferenceEvaluator.evaluate(.synthesize, input: input))?["status"]?.stringValue ?? ""
            var flags = [policyFlag[policy]!] + flags
            let statusFlag = ["transition": "StatusTransition", "saturated": "StatusSaturated", "alreadyNegative": "StatusAlreadyNegative",
                              "nonPositiveScore": "StatusNonPositiveScore", "degenerateUser": "StatusDegenerateUser"][status]!
            flags.insert(statusFlag, at: 0)
            if user.count % 4 != 0 { flags.append("OddDimension") }
            if sigma != 1 { flags.append("NoiseScale") }
            if rho == 0.5 { flags.append("HalfRetention") }
            if epsilon.allSatisfy({ $0 == 0 }) { flags.append("ZeroNoise") }
            if status == "transition" || status == "saturated", let row = try? FlagChecks.rowNumbers(.synthesize, OperationInput(input)),
               let quadratic = TransitionQuadratic(s0: row.s0, sNeg: row.sNeg, n: row.n, rho: row.rho) {
                if quadratic.bothRootsInUnitInterval, !flags.contains("OtherRoot") { flags.append("OtherRoot") }
                if !quadratic.crosses, !flags.contains("NoCrossing") { flags.append("NoCrossing") }
            }
            cases.append(Case(comment: "\(kind.name) T = \(T), d = \(user.count), M = \(pool.count): " + comment, flags: flags, input: input))
        }
        let (cos, T) = cosine1000
        // Random rows whose positive leans towards the user, so most land on the valid domain.
        let plans: [(Int, Int, ReferencePolicy, Double, Double)] = [
            (1, 1, .max, 0.5, 1), (3, 3, .max, 0.5, 1), (5, 2, .mean, 0.25, 1), (7, 4, .first, 0.75, 1),
            (8, 3, .max, 0.5, 0.25), (12, 5, .mean, 0.5, 2), (13, 3, .first, 0.1, 1), (16, 2, .max, 0.9, 0.5),
            (9, 4, .max, 0.5, 1), (4, 3, .mean, 0.75, 0.125),
        ]
        for (d, m, policy, rho, sigma) in plans {
            let user = random.vector(d)
            let positive = user.map { f32($0 * 0.8) }.enumerated().map { f32($0.element + random.float(-0.2, 0.2)) }
            let pool = (0..<m).map { _ in random.vector(d, scale: 0.5) }
            add(cos, T, rho: rho, policy: policy, sigma: sigma, user: user, positive: positive, pool: pool,
                epsilon: random.vector(d, scale: 2), [], "random row")
        }
        let user = [0.5, -0.25, 1, 0.75, 0.5]
        let positive = [0.75, 0, 0.5, 0.5, 0.25], weak = [0.25, 0, 0, 0.25, 0], eps = random.vector(5, scale: 2)
        add(linearDefault, 1000, rho: 0.5, policy: .max, sigma: 1, user: user, positive: positive, pool: [weak, [0, 0, 0.25, 0, 0]],
            epsilon: eps, ["LinearNotRescaled"], "linear schedule")
        add(cos, T, rho: 0.5, policy: .max, sigma: 1, user: user, positive: positive, pool: [weak], epsilon: [0, 0, 0, 0, 0], [], "ε = 0")
        add(cos, T, rho: 0.5, policy: .max, sigma: 1, user: user, positive: positive, pool: [weak, positive, positive], epsilon: eps,
            ["HardestTie"], "the positive itself is in the pool twice: s_0 = s⁻, fallback to the first")
        add(cos, T, rho: 0.5, policy: .max, sigma: 1, user: user, positive: [-0.5, 0, 0, 0, 0], pool: [[-1, 0, 0, 0, 0]], epsilon: eps,
            [], "s_0 < 0 but above s⁻")
        add(cos, T, rho: 0.5, policy: .mean, sigma: 1, user: [0, 0, 0, 0, 0], positive: positive, pool: [weak, positive], epsilon: eps,
            ["HardestTie"], "e_u = 0: every score is 0")
        add(cos, T, rho: 0.5, policy: .max, sigma: 1, user: user, positive: positive, pool: [[0, 0, f32(1e-6), 0, 0]], epsilon: eps,
            [], "ᾱ* below ᾱ_T")
        add(cos, T, rho: 0.25, policy: .max, sigma: 1, user: user, positive: positive, pool: [[-1, 0, -1, 0, 0]], epsilon: eps,
            ["NoCrossing"], "s⁻ < 0 and ρ < ½: no crossing")
        add(cos, T, rho: 0.5, policy: .first, sigma: 1, user: user, positive: positive, pool: [weak, [1, 0, 1, 1, 1]], epsilon: eps,
            [], "policy first ignores a harder second candidate")
        // S4.f exact ties through synthesis (d = 1, every product exact in binary32).
        for (betas, s0, sNeg, t) in exactTieCases where s0 == 1 && t < betas.count {
            add(.custom(betas: betas), betas.count, rho: 0.5, policy: .max, sigma: 1, user: [1], positive: [s0], pool: [[sNeg]],
                epsilon: [0.5], ["ExactTie"], "ᾱ* = ᾱ_\(t) exactly")
        }
        // A boundary row: s⁻/s_0 the binary32 neighbour of √ᾱ_400 (d = 1).
        let table = try! NoiseSchedule(cos, steps: T)
        let target = Float(table.sqrtAlphaBar[400] * 1.5)
        for sNeg in [target.nextDown, target.nextUp] {
            add(cos, T, rho: 0.5, policy: .max, sigma: 1, user: [1], positive: [1.5], pool: [[Double(sNeg)]], epsilon: [0.75],
                [], "s⁻/s_0 next to √ᾱ_400")
        }
        return cases
    }

    static func synthesis() -> FixtureFile {
        file("synthesis.json", topic: "synthesize",
             description: "S3–S6 end to end for one row with explicit ε: status, t*, a*, π, scores, x⁻.",
             sections: [(.synthesize, synthesisCases())])
    }

    // MARK: - noise.json

    static func noise() -> FixtureFile {
        func philox(_ c: [UInt32], _ k: [UInt32], _ flags: [String], _ comment: String) -> Case {
            Case(comment: comment, flags: flags, input: .object([
                ("counter", .integers(c.map { Int($0) })), ("key", .integers(k.map { Int($0) }))]))
        }
        let philoxCases = [
            philox([0, 0, 0, 0], [0, 0], ["KnownAnswer"], "S8 known answer: zeros"),
            philox([.max, .max, .max, .max], [.max, .max], ["KnownAnswer"], "S8 known answer: all ones"),
            philox([0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344], [0xA409_3822, 0x299F_31D0], ["KnownAnswer"], "S8 known answer: π digits"),
            philox([1, 0, 0, 0], [0, 0], ["CounterLayout"], "block 1 of row 0"),
            philox([0, 1, 0, 0], [0, 0], ["CounterLayout"], "row 1"),
            philox([0, 0, 1, 0], [0, 0], ["CounterLayout"], "row 2³²"),
            philox([0, 0, 0, 1], [0, 0], ["CounterLayout"], "stream 1"),
            philox([0, 0, 0, 0], [20_260_101, 0], ["CounterLayout"], "key = seed 20260101"),
        ]
        func normals(_ seed: UInt64, _ stream: UInt32, _ row: UInt64, _ d: Int, _ flags: [String]) -> Case {
            Case(comment: "seed \(seed), stream \(stream), row \(row), d = \(d)", flags: flags + (d % 4 != 0 ? ["OddDimension"] : []),
                 input: .object([("seed", .string("\(seed)")), ("stream", .integer(Int(stream))), ("row", .string("\(row)")),
                                 ("dimension", .integer(d))]))
        }
        let normalCases = [
            normals(0, 0, 0, 4, ["BoxMullerLanes"]), normals(20_260_101, 0, 0, 8, ["BoxMullerLanes"]),
            normals(20_260_101, 0, 1, 5, ["CounterLayout"]), normals(20_260_101, 1, 0, 3, ["CounterLayout"]),
            normals(20_260_101, 0, 1 << 32, 9, ["CounterLayout"]), normals(.max, .max, .max, 13, ["CounterLayout"]),
            normals(1 << 40, 7, 123_456_789, 1, ["CounterLayout"]), normals(42, 3, 99, 33, ["BoxMullerLanes"]),
        ]
        return file("noise.json", topic: "noise",
                    description: "S8 noise: Philox4x32-10 blocks (exact) and the Box–Muller normals of (seed, stream, row).",
                    sections: [(.philox, philoxCases), (.normals, normalCases)])
    }

    // MARK: - loss.json

    static func lossInput(
        _ synthesis: JSONValue, _ outcome: JSONValue, w: Double, l2: Double, fallback: FallbackMode, flow: GradientFlow
    ) -> JSONValue {
        .object([
            ("schedule", synthesis["schedule"]!),
            ("configuration", .object([("augmentationWeight", .real(w)), ("l2", .real(l2)), ("fallback", .string(fallback.rawValue)),
                                       ("gradientFlow", .string(flow.rawValue))])),
            ("user", synthesis["user"]!), ("positive", synthesis["positive"]!), ("pool", synthesis["pool"]!),
            ("status", outcome["status"]!), ("timestep", outcome["timestep"]!), ("hardestCandidate", outcome["hardestCandidate"]!),
            // x⁻ is an input here: rounded to binary32 so both precisions read the same value.
            ("syntheticNegative", .reals(outcome["syntheticNegative"]!.doubleArray!.map(f32))),
        ])
    }

    static func loss() -> FixtureFile {
        var cases = [Case]()
        let rows = synthesisCases()
        let chosen = [0, 1, 4, 6, 11, 12, 13, 14]
        for (i, index) in chosen.enumerated() {
            let row = rows[index]
            let outcome = try! ReferenceEvaluator.evaluate(.synthesize, input: row.input)
            let fallback: FallbackMode = i % 2 == 0 ? .skip : .hardest
            for flow in GradientFlow.allCases {
                let l2 = i % 3 == 0 ? 0.0 : 0.0625, w = i % 4 == 3 ? 0.5 : 1
                var flags = [fallback == .skip ? "FallbackSkip" : "FallbackHardest", flow == .detach ? "GradientDetach" : "GradientThrough"]
                if l2 > 0 { flags.append("L2") }
                let status = outcome["status"]!.stringValue!
                cases.append(Case(comment: "row of synthesis (\(status)), w = \(w), λ = \(l2)", flags: flags,
                                  input: lossInput(row.input, outcome, w: w, l2: l2, fallback: fallback, flow: flow)))
            }
        }
        // Margins of ±800 (binary64 naive softplus overflows beyond 709.78) and ±100 (binary32 beyond 88.7).
        for (scale, comment) in [(20.0, "margins ±800"), (5.0, "margins ±50")] {
            let user = [scale, scale], big = [scale, scale], small = [-scale, -scale]
            for (positive, negative) in [(big, small), (small, big)] {
                let input = JSONValue.object([
                    ("schedule", schedule(.defaultCosine, 1000)),
                    ("configuration", .object([("augmentationWeight", .real(1)), ("l2", .real(0)), ("fallback", .string("skip")),
                                               ("gradientFlow", .string("detach"))])),
                    ("user", .reals(user)), ("positive", .reals(positive)), ("pool", .array([.reals(negative)])),
                    ("status", .string("transition")), ("timestep", .integer(500)), ("hardestCandidate", .integer(0)),
                    ("syntheticNegative", .reals(negative)),
                ])
                cases.append(Case(comment: "\(comment): s_0 − s_uj = \(ReferenceADAR.dot(user, positive) - ReferenceADAR.dot(user, negative))",
                                  flags: ["SoftplusOverflow", "FallbackSkip", "GradientDetach"], input: input))
            }
        }
        return file("loss.json", topic: "loss",
                    description: "S7 BPR loss with augmentation and its gradients for one row, given the S6 outcome.",
                    sections: [(.loss, cases)])
    }
}
