import Foundation

/// The standard normal CDF `Φ` and quantile `Φ⁻¹` for the implementations,
/// which may not call GSL (GSL is the oracle that checks these). Built on the
/// C library's `erf`/`erfc` only.
public enum StandardNormal {
    /// `Φ(x) = erfc(−x/√2)/2`: no cancellation in either tail.
    @inlinable
    public static func cdf(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// `Φ⁻¹(p)` for `p ∈ (0, 1)`; NaN outside.
    ///
    /// A starting value from Abramowitz & Stegun 26.2.23 (absolute error
    /// < 4.5e-4) refined by Halley steps on a residual that keeps relative
    /// accuracy: `erf(x/√2)/2 − (p − ½)` in the centre (where `x` is near 0
    /// and `p − ½` is exact), `erfc(−x/√2)/2 − p` in the lower tail, and the
    /// symmetry `Φ⁻¹(p) = −Φ⁻¹(1 − p)` (`1 − p` is exact for `p > ¾`) in the upper one.
    /// Proofs/S4-transition.md, claim S4.d/Q1, gives the error analysis.
    public static func quantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return .nan }
        // p − ½ is exact on [¼, ¾] (Sterbenz); a tail residual is not relatively accurate there.
        if p >= 0.25 && p <= 0.75 { return centralQuantile(p - 0.5) }
        if p > 0.5 { return -lowerQuantile(1 - p) }
        return lowerQuantile(p)
    }

    /// `x` with `Φ(x) − ½ = q`, `|q| ≤ ¼`.
    private static func centralQuantile(_ q: Double) -> Double {
        if q == 0 { return 0 }
        var x = q < 0 ? -tailStart(0.5 + q) : tailStart(0.5 - q)
        for _ in 0..<maxHalleySteps {
            let residual = 0.5 * erf(x / 2.0.squareRoot()) - q
            let step = halleyStep(x: x, residual: residual)
            x -= step
            if abs(step) <= 0x1p-60 * abs(x) { break }
        }
        return x
    }

    /// `x ≤ 0` with `Φ(x) = p`, `0 < p ≤ ½`.
    private static func lowerQuantile(_ p: Double) -> Double {
        var x = -tailStart(p)
        for _ in 0..<maxHalleySteps {
            let residual = 0.5 * erfc(-x / 2.0.squareRoot()) - p
            let step = halleyStep(x: x, residual: residual)
            x -= step
            if abs(step) <= 0x1p-60 * abs(x) { break }
        }
        return x
    }

    private static let maxHalleySteps = 8

    /// A&S 26.2.23: the upper-tail quantile of `p ≤ ½` (a positive value).
    private static func tailStart(_ p: Double) -> Double {
        let t = (-2 * log(p)).squareRoot()
        let numerator = 2.515517 + t * (0.802853 + t * 0.010328)
        let denominator = 1 + t * (1.432788 + t * (0.189269 + t * 0.001308))
        return max(t - numerator / denominator, 0)
    }

    /// Halley's correction for `Φ(x) − target`: `u/(1 + x·u/2)` with
    /// `u = residual/φ(x)`. `e^{x²/2}` is split in two halves so it does not
    /// overflow before `p` itself underflows.
    private static func halleyStep(x: Double, residual: Double) -> Double {
        let half = exp(x * x / 4)
        let u = residual * (2 * Double.pi).squareRoot() * half * half
        return u / (1 + x * u / 2)
    }
}
