import ADARCore
import ADARReference
import ADARProtocol

/// The S4.d quadratic of one row on the valid domain, recomputed from the case's own numbers:
/// what the flags `OtherRoot`, `NoCrossing`, `Cancellation` and `ExactTie` claim about a case.
public struct TransitionQuadratic: Sendable {
    public let s0: Double, sNeg: Double, n: Double, z: Double
    /// `s_0·s⁻` and `z·n·R` of S4.d: a* = (b + c)/(s_0² + z²n²).
    public let b: Double, c: Double
    /// `R² = s_0² − s⁻² + z²n²`.
    public let radicand: Double

    /// Nil outside the valid domain of S4.b (`n > 0, s_0 > 0, s_0 > s⁻`).
    public init?(s0: Double, sNeg: Double, n: Double, rho: Double) {
        guard n > 0, s0 > 0, s0 > sNeg, n.isFinite else { return nil }
        self.s0 = s0
        self.sNeg = sNeg
        self.n = n
        z = StandardNormal.quantile(rho)
        radicand = (s0 - sNeg) * (s0 + sNeg) + z * n * z * n
        b = s0 * sNeg
        c = radicand >= 0 ? z * n * radicand.squareRoot() : .nan
    }

    var denominator: Double { s0 * s0 + z * n * z * n }
    /// The root S4.d keeps (the sign of `a·s_0 − s⁻` is the sign of z), or nil when R² < 0.
    public var keptRoot: Double? { radicand >= 0 ? (z == 0 ? sNeg / s0 : (b + c) / denominator) : nil }
    /// The quadratic's other root (the same as the kept one when z = 0, where the quadratic is a square).
    public var otherRoot: Double? { radicand >= 0 ? (z == 0 ? sNeg / s0 : (b - c) / denominator) : nil }
    /// Whether the continuous crossing exists in [0, 1) (S4.d: R² ≥ 0 and a* ≥ 0).
    public var crosses: Bool { (keptRoot ?? -1) >= 0 }
    /// Both roots in [0, 1) and distinct: a port keeping the wrong one still finds a crossing, at another a*.
    public var bothRootsInUnitInterval: Bool {
        guard z != 0, let kept = keptRoot, let other = otherRoot else { return false }
        return (0..<1).contains(kept) && (0..<1).contains(other)
    }
    /// `(|b| + |c|)/|b + c|`: how many times the S4.d numerator is smaller than its terms (∞ when it is 0).
    public var cancellation: Double { z == 0 || radicand < 0 ? 1 : (abs(b) + abs(c)) / abs(b + c) }
}

/// Lint's check of a case's flags against the case itself (PORTING.md §5): a flag that claims
/// something the numbers do not do, or a flag missing where the numbers do it, is a finding.
/// Flags that describe the purpose of a case rather than a property of its numbers
/// (`ScheduleFamily`, `OneBasedTimesteps`, `CounterLayout`, …) are not checked. A missing flag is
/// reported only for files flagged from `FlagCatalogue` alone (`complete`): a file with a
/// vocabulary of its own (the hand-made test fixtures) has its catalogue flags checked as claims.
public enum FlagChecks {
    /// The cancellation factor from which a case counts as `Cancellation` (the fixtures use 2⁹ and more).
    public static let cancellationThreshold = 0x1p8

    /// What is wrong with `flags` for this case; empty when they fit.
    public static func problems(
        flags: [String], operation: FixtureOperation, input: JSONValue, expected: JSONValue, result: ExpectedResult,
        complete: Bool = true
    ) -> [String] {
        var problems = [String]()
        let has = Set(flags)
        func claim(_ flag: String, _ holds: Bool, _ what: String) {
            if has.contains(flag), !holds { problems.append("flag \(flag) claims \(what), which this case does not do") }
        }
        func require(_ flag: String, _ holds: Bool, _ what: String) {
            claim(flag, holds, what)
            if complete, holds, !has.contains(flag) { problems.append("the case \(what) but lacks the flag \(flag)") }
        }
        let fields = OperationInput(input)
        if result == .invalid {
            if has.contains("Overflow") {
                claim("Overflow", (try? noiseScaleOverflows(fields)) ?? false,
                      "that σ‖e_u‖ overflows binary64 (computed without overflow of the squares)")
            }
            return problems
        }
        switch operation {
        case .transition, .synthesize:
            guard let row = try? rowNumbers(operation, fields) else { return problems }
            let status = expected["status"]?.stringValue ?? ""
            for (name, flag) in statusFlags { require(flag, status == name, "has status \(name)") }
            claim("HalfRetention", row.rho == 0.5, "ρ = ½")
            claim("RetentionNearZero", row.rho < 0.01, "ρ < 0.01")
            claim("RetentionNearOne", row.rho > 0.99, "ρ > 0.99")
            claim("NoiseScale", row.sigma != 1, "σ ≠ 1")
            let quadratic = TransitionQuadratic(s0: row.s0, sNeg: row.sNeg, n: row.n, rho: row.rho)
            let valid = status == "transition" || status == "saturated"
            require("NoCrossing", valid && quadratic.map { !$0.crosses } ?? false, "has no crossing in [0, 1) (S4.d)")
            require("OtherRoot", valid && (quadratic?.bothRootsInUnitInterval ?? false),
                    "has both roots of the S4.d quadratic in [0, 1)")
            claim("Cancellation", (quadratic?.cancellation ?? 1) >= cancellationThreshold,
                  "an S4.d numerator at least 2⁸ times smaller than its terms")
            if let tie = try? exactTie(operation, input: input, expected: expected) {
                require("ExactTie", tie, "has ᾱ* equal to ᾱ_{t*} exactly (S4.f tie)")
            } else {
                claim("ExactTie", false, "an exact S4.f tie")
            }
            require("Boundary", !FixtureGenerator.binary32Alternatives(operation, input: input, expected: expected).isEmpty,
                    "has a decision within binary32 rounding of ᾱ* (S4.f alternatives)")
            if operation == .synthesize {
                let policy = (try? fields.object("configuration").policy())?.rawValue ?? ""
                for (name, flag) in [("max", "PolicyMax"), ("mean", "PolicyMean"), ("first", "PolicyFirst")] {
                    require(flag, policy == name, "uses policy \(name)")
                }
                claim("HardestTie", row.poolScores.filter { $0 == row.poolScores.max() }.count > 1, "two candidates sharing the largest score")
                claim("ZeroNoise", (try? fields.reals("epsilon"))?.allSatisfy { $0 == 0 } ?? false, "ε = 0")
                claim("OddDimension", row.dimension % 4 != 0, "d not a multiple of 4")
            }
        case .loss:
            guard let configuration = try? fields.object("configuration") else { return problems }
            let fallback = try? configuration.fallback(), flow = try? configuration.gradientFlow()
            require("FallbackSkip", fallback == .skip, "uses fallback skip")
            require("FallbackHardest", fallback == .hardest, "uses fallback hardest")
            require("GradientDetach", flow == .detach, "uses gradient flow detach")
            require("GradientThrough", flow == .through, "uses gradient flow through")
            require("L2", ((try? configuration.real("l2")) ?? 0) > 0, "has λ > 0")
            if let user = try? fields.reals("user"), let positive = try? fields.reals("positive"),
               let pool = try? fields.matrix("pool", columns: user.count), pool.rows > 0 {
                let margin = ReferenceADAR.dot(user, positive) - ReferenceADAR.dot(user[...], pool.values[0 ..< user.count])
                claim("SoftplusOverflow", abs(margin) > 88.8, "a margin beyond ±88.7, where exp overflows binary32")
            }
        default: break
        }
        return problems
    }

    static let statusFlags = [
        ("transition", "StatusTransition"), ("saturated", "StatusSaturated"), ("alreadyNegative", "StatusAlreadyNegative"),
        ("nonPositiveScore", "StatusNonPositiveScore"), ("degenerateUser", "StatusDegenerateUser"),
    ]

    struct RowNumbers {
        var s0: Double, sNeg: Double, n: Double, rho: Double, sigma: Double, dimension: Int, poolScores: [Double]
    }

    /// s_0, s⁻, n = σ‖e_u‖, ρ, σ of a transition or synthesis case.
    static func rowNumbers(_ operation: FixtureOperation, _ fields: OperationInput) throws(EvaluationError) -> RowNumbers {
        if operation == .transition {
            let sigma = try fields.real("sigma")
            return RowNumbers(s0: try fields.real("s0"), sNeg: try fields.real("sNeg"), n: sigma * (try fields.real("userNorm")),
                              rho: try fields.real("rho"), sigma: sigma, dimension: 1, poolScores: [])
        }
        let configuration = try fields.object("configuration")
        let user = try fields.reals("user"), sigma = try configuration.real("sigma")
        let (rows, pool) = try fields.matrix("pool", columns: user.count)
        let d = user.count
        let scores = (0..<rows).map { ReferenceADAR.dot(user[...], pool[$0 * d ..< ($0 + 1) * d]) }
        return RowNumbers(
            s0: ReferenceADAR.dot(user, try fields.reals("positive")),
            sNeg: ReferenceADAR.referenceNegativeScore(poolScores: scores, policy: try configuration.policy()),
            n: sigma * ReferenceADAR.dot(user, user).squareRoot(), rho: try configuration.real("rho"), sigma: sigma,
            dimension: d, poolScores: scores)
    }

    /// Whether the reference's ᾱ* = a*² equals the table entry ᾱ_{t*} exactly (binary64).
    static func exactTie(_ operation: FixtureOperation, input: JSONValue, expected: JSONValue) throws(EvaluationError) -> Bool {
        guard expected["status"]?.stringValue == "transition", let aStar = expected["aStar"]?.doubleValue,
              let t = expected["timestep"]?.intValue else { return false }
        let table = try OperationInput(input).schedule()
        return table.alphaBar[t] == aStar * aStar
    }

    /// σ·‖e_u‖ beyond binary64 however the norm is formed (scaled by the largest component, as hypot does).
    static func noiseScaleOverflows(_ fields: OperationInput) throws(EvaluationError) -> Bool {
        let sigma: Double, norm: Double
        if let configuration = try? fields.object("configuration") {
            sigma = try configuration.real("sigma")
            let user = try fields.reals("user")
            let scale = user.map(abs).max() ?? 0
            norm = scale == 0 ? 0 : scale * user.map { ($0 / scale) * ($0 / scale) }.reduce(0, +).squareRoot()
        } else {
            sigma = try fields.real("sigma")
            norm = try fields.real("userNorm")
        }
        return !(sigma * norm).isFinite
    }
}
