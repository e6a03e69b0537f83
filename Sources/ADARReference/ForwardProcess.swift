import ADARCore

extension ReferenceADAR {
    /// S2: `x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · σ·ε`.
    public static func forwardSample(
        x0: ArraySlice<Double>, epsilon: [Double], timestep t: Int,
        schedule: NoiseSchedule, sigma: Double
    ) -> [Double] {
        precondition(x0.count == epsilon.count && (0...schedule.steps).contains(t))
        let signal = schedule.sqrtAlphaBar[t], noise = schedule.sqrtOneMinusAlphaBar[t]
        var xt = [Double]()
        xt.reserveCapacity(x0.count)
        for (x, e) in zip(x0, epsilon) { xt.append(signal * x + noise * (sigma * e)) }
        return xt
    }

    /// S2: `n = σ·‖e_u‖₂`, the standard deviation scale of the score `⟨e_u, x_t⟩`.
    public static func scoreNoiseScale(user: ArraySlice<Double>, sigma: Double) -> Double {
        sigma * dot(user, user).squareRoot()
    }

    /// S2.a (Lemma 1): mean and standard deviation of `s_t = ⟨e_u, x_t⟩`.
    public static func scoreDistribution(
        positiveScore s0: Double, noiseScale n: Double, timestep t: Int, schedule: NoiseSchedule
    ) -> (mean: Double, standardDeviation: Double) {
        (schedule.sqrtAlphaBar[t] * s0, schedule.sqrtOneMinusAlphaBar[t] * n)
    }
}
