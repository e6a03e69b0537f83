import Foundation
import ADARCore

/// The binary32 error model of Proofs/S6-binary32-equivalence.md ("Model").
public enum Binary32Model {
    /// Unit roundoff of binary32, `2⁻²⁴`, padded by `2⁻²⁷` of itself so that
    /// every bound also covers the binary64 reference's own rounding (`2⁻⁵³`
    /// per operation, which is `2⁻²⁹` of the binary32 one).
    public static let unitRoundoff = 0x1p-24 * (1 + 0x1p-27)
    /// Half the smallest binary32 subnormal: the absolute error of a product,
    /// quotient or square root whose result underflows (S6 analysis, "Range").
    public static let underflowError = 0x1p-150
    /// The largest finite binary32.
    public static let largest = Double(Float.greatestFiniteMagnitude)
    /// ULP error of one binary32 libm call (`expf`, `log1pf`, `erfcf`):
    /// ASSUMED from glibc's table of known maximum errors (≤ 3 ulps), plus one.
    public static let libmULPs = 4.0
    /// Relative error of the binary64 `StandardNormal.cdf` (one `erfc` call).
    public static let referenceCDFError = 1e-15

    /// `γ_k = k·u/(1 − k·u)`.
    public static func gamma(_ k: Int) -> Double {
        let ku = Double(k) * unitRoundoff
        return ku / (1 - ku)
    }

    /// Bound `E` on `|ε32 − ε64|` for S8's counter noise drawn by the binary32
    /// Box–Muller: `S8/B3` of Proofs/S8-binary32-noise.md, `E = 12·2⁻²⁴·(|ε64| + 2⁻²⁴)`.
    public static func counterNoiseError(_ epsilon: Double) -> Double {
        Binary32NoiseChecks.normalBound * (abs(epsilon) + Binary32NoiseChecks.unit)
    }
}

/// A binary32 quantity enclosed by the reference (binary64) value and a bound
/// on the distance of the binary32 result from it: `|x̂ − value| ≤ radius`.
/// Each operation models one binary32 rounding `fl(x ∘ y) = (x ∘ y)(1 + δ) + η`,
/// `|δ| ≤ u`, `|η| ≤ underflowError` (Higham, ASNA 2nd ed., §2.2). A radius of
/// `+∞` means the result may leave the binary32 range ("Range" in the proof).
public struct Enclosure: Sendable, CustomStringConvertible {
    public var value: Double
    public var radius: Double

    public init(_ value: Double, radius: Double) {
        self.value = value
        self.radius = Enclosure.checked(value, radius)
    }

    /// A value the binary32 code holds exactly.
    public static func exact(_ value: Double) -> Enclosure { Enclosure(value, radius: 0) }

    /// A binary64 constant rounded once to binary32.
    public static func rounded(_ value: Double) -> Enclosure {
        Enclosure(value, radius: Binary32Model.unitRoundoff * abs(value) + Binary32Model.underflowError)
    }

    public var lower: Double { value - radius }
    public var upper: Double { value + radius }
    public var isBounded: Bool { radius.isFinite }
    /// Zero held exactly: products and quotients with it are exact zeros.
    public var isExactZero: Bool { value == 0 && radius == 0 }
    public var description: String { "\(value) ± \(radius)" }

    /// An enclosure that may reach the binary32 overflow threshold is unbounded.
    static func checked(_ value: Double, _ radius: Double) -> Double {
        guard !radius.isNaN, abs(value) + radius < Binary32Model.largest else { return .infinity }
        return radius
    }

    /// The computed result `fl(exact)` given that the exact operation on the
    /// binary32 operands is within `propagated` of `value`.
    static func rounding(_ value: Double, propagated: Double, underflows: Bool) -> Enclosure {
        let u = Binary32Model.unitRoundoff
        return Enclosure(value, radius: propagated + u * (abs(value) + propagated)
                         + (underflows ? Binary32Model.underflowError : 0))
    }

    public static prefix func - (a: Enclosure) -> Enclosure { Enclosure(-a.value, radius: a.radius) }

    public static func + (a: Enclosure, b: Enclosure) -> Enclosure {
        // Sums are exact when they are subnormal, so no underflow term.
        rounding(a.value + b.value, propagated: a.radius + b.radius, underflows: false)
    }

    public static func - (a: Enclosure, b: Enclosure) -> Enclosure { a + (-b) }

    public static func * (a: Enclosure, b: Enclosure) -> Enclosure {
        if a.isExactZero || b.isExactZero { return .exact(0) }
        let propagated = abs(a.value) * b.radius + abs(b.value) * a.radius + a.radius * b.radius
        return rounding(a.value * b.value, propagated: propagated.isNaN ? .infinity : propagated, underflows: true)
    }

    public static func / (a: Enclosure, b: Enclosure) -> Enclosure {
        let y = abs(b.value)
        guard y > b.radius else { return Enclosure(a.value / b.value, radius: .infinity) }
        if a.isExactZero { return .exact(0) }
        let q = a.value / b.value
        let propagated = (a.radius * y + abs(a.value) * b.radius) / (y * (y - b.radius))
        return rounding(q, propagated: propagated, underflows: true)
    }

    /// `√x`; `|√x̂ − √x| ≤ min(√|x̂ − x|, |x̂ − x|/√x)`. A square root never
    /// underflows (`√(2⁻¹⁴⁹)` is normal) and `√0 = 0` exactly.
    public func squareRoot() -> Enclosure {
        let root = Swift.max(value, 0).squareRoot()
        let propagated = root > 0 ? Swift.min(radius.squareRoot(), radius / root) : radius.squareRoot()
        return Enclosure.rounding(root, propagated: propagated, underflows: false)
    }

    /// `f(x)` for an `f` with Lipschitz constant `lipschitz` on the enclosure,
    /// evaluated by binary32 code with relative error `relativeError`.
    public func mapped(_ f: (Double) -> Double, lipschitz: Double, relativeError: Double) -> Enclosure {
        let y = f(value), propagated = lipschitz * radius
        return Enclosure(y, radius: propagated + relativeError * (abs(y) + propagated) + Binary32Model.underflowError)
    }

    /// `max` of enclosures: `|max x̂ − max x| ≤ max |x̂_m − x_m|`.
    public static func maximum(_ values: [Enclosure]) -> Enclosure {
        Enclosure(values.map(\.value).max()!, radius: values.map(\.radius).max()!)
    }

    /// `⟨a, b⟩` by binary32 code, summed in any order, with or without FMA:
    /// `|ŝ − s| ≤ γ_d·Σ|a_k b_k| + (number of underflowing products)·η`.
    public static func dot(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Enclosure {
        var sum = 0.0, magnitude = 0.0, underflowing = 0
        let tiny = Double(Float.leastNormalMagnitude)
        for k in 0..<a.count {
            let p = Double(a[k]) * Double(b[k])    // exact: 24 + 24 bits fit in 53
            sum += p
            magnitude += abs(p)
            if p != 0 && abs(p) < tiny { underflowing += 1 }
        }
        let d = a.count
        guard magnitude * (1 + Binary32Model.gamma(d)) < Binary32Model.largest else {
            return Enclosure(sum, radius: .infinity)
        }
        return Enclosure(sum, radius: Binary32Model.gamma(d) * magnitude + Double(underflowing) * Binary32Model.underflowError)
    }

    /// `Σ_k x_k` by binary32 code in any order: `γ_{count−1}·Σ|x̂_k|` plus the
    /// summands' own radii.
    public static func sum(_ values: [Enclosure]) -> Enclosure {
        let value = values.reduce(0) { $0 + $1.value }
        let propagated = values.reduce(0) { $0 + $1.radius }
        let magnitude = values.reduce(0) { $0 + abs($1.value) + $1.radius }
        let gamma = Binary32Model.gamma(Swift.max(values.count - 1, 0))
        // Partial sums are bounded by (1 + γ)·Σ|x̂_k|: below the threshold none overflows.
        guard magnitude * (1 + gamma) < Binary32Model.largest else { return Enclosure(value, radius: .infinity) }
        return Enclosure(value, radius: propagated + gamma * magnitude)
    }
}

/// Φ on an enclosure of its argument: `|Φ(m̂) − Φ(m)| ≤ max φ·|m̂ − m|`.
func normalCDFEnclosure(_ margin: Enclosure, libmRelativeError: Double) -> Enclosure {
    let closestToZero = margin.lower > 0 ? margin.lower : margin.upper < 0 ? margin.upper : 0
    let density = exp(-closestToZero * closestToZero / 2) / (2 * Double.pi).squareRoot()
    let value = StandardNormal.cdf(margin.value)
    guard margin.isBounded else { return Enclosure(value, radius: .infinity) }
    let upper = StandardNormal.cdf(margin.upper)
    return Enclosure(value, radius: density * margin.radius + (libmRelativeError + Binary32Model.referenceCDFError) * upper
                     + Binary32Model.underflowError)
}
