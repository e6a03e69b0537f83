import ADARCore

extension ReferenceADAR {
    /// S4.a (Lemma 2): `π_t = Φ((√ᾱ_t·s_0 − s⁻)/(√(1 − ᾱ_t)·n))`, `π_0 = 1`.
    public static func retention(
        timestep t: Int, positiveScore s0: Double, referenceNegativeScore sNeg: Double,
        noiseScale n: Double, schedule: NoiseSchedule
    ) -> Double {
        if t == 0 { return 1 }
        let a = schedule.sqrtAlphaBar[t]
        return StandardNormal.cdf((a * s0 - sNeg) / (schedule.sqrtOneMinusAlphaBar[t] * n))
    }

    /// S4.b: `g(a) = (a·s_0 − s⁻)/(n·√(1 − a²))`, so that `π = Φ(g(√ᾱ))`.
    public static func standardizedMargin(
        amplitude a: Double, positiveScore s0: Double, referenceNegativeScore sNeg: Double, noiseScale n: Double
    ) -> Double {
        (a * s0 - sNeg) / (n * (1 - a * a).squareRoot())
    }

    /// S4.b: `g'(a) = (s_0 − a·s⁻)/(n·(1 − a²)^{3/2})`.
    public static func standardizedMarginDerivative(
        amplitude a: Double, positiveScore s0: Double, referenceNegativeScore sNeg: Double, noiseScale n: Double
    ) -> Double {
        let oneMinusASquared = 1 - a * a
        return (s0 - a * sNeg) / (n * oneMinusASquared * oneMinusASquared.squareRoot())
    }

    /// S4.d/S4.e (Theorem 1, the score-aware function): the amplitude
    /// `a* = √ᾱ*` where `π` crosses `ρ`, or `nil` when there is no crossing in
    /// `[0, 1)`. Requires the valid domain `n > 0, s_0 > 0, s_0 > s⁻`.
    ///
    /// The root of S4.d, `(s_0·s⁻ + z·n·R)/(s_0² + z²n²)` with
    /// `R = √(s_0² − s⁻² + z²n²)`, is summed directly when `s_0·s⁻` and `z·n·R`
    /// share a sign; otherwise the two terms cancel and S4.e's product of
    /// roots gives the same root without cancellation:
    /// `a* = (s⁻ − z·n)(s⁻ + z·n)/(s_0·s⁻ − z·n·R)`, each factor formed with one
    /// rounding (a fused multiply-add) so that `z·n` is not rounded first.
    public static func transitionAmplitude(
        positiveScore s0: Double, referenceNegativeScore sNeg: Double, noiseScale n: Double, rho: Double
    ) -> Double? {
        precondition(n > 0 && s0 > 0 && s0 > sNeg, "outside the valid domain of S4.b")
        let z = StandardNormal.quantile(rho)
        // At ρ = ½ the crossing is exactly a* = s⁻/s_0 (S4.d).
        if z == 0 { return sNeg >= 0 ? sNeg / s0 : nil }
        let zn = z * n
        // R² = s_0² − s⁻² + z²n², with s_0² − s⁻² factored to avoid cancellation.
        let radicand = (s0 - sNeg) * (s0 + sNeg) + zn * zn
        guard radicand >= 0 else { return nil }
        let b = s0 * sNeg, c = zn * radicand.squareRoot()
        let aStar: Double
        if (b >= 0) == (c >= 0) {
            aStar = (b + c) / (s0 * s0 + zn * zn)
        } else {
            // s⁻ ± z·n fused (one rounding each): the factor s⁻ + z·n is the whole cancellation.
            aStar = sNeg.addingProduct(-z, n) * sNeg.addingProduct(z, n) / (b - c)
        }
        return aStar >= 0 ? aStar : nil
    }

    /// S4.f: `t* = min{ t ≥ 1 : ᾱ_t ≤ ᾱ* }` by binary search on the strictly
    /// decreasing table, or `nil` when `ᾱ_T > ᾱ*`.
    public static func discreteTimestep(alphaBarStar: Double, schedule: NoiseSchedule) -> Int? {
        guard schedule.alphaBar[schedule.steps] <= alphaBarStar else { return nil }
        var low = 1, high = schedule.steps   // invariant: ᾱ_high ≤ ᾱ*
        while low < high {
            let mid = (low + high) / 2
            if schedule.alphaBar[mid] <= alphaBarStar { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
