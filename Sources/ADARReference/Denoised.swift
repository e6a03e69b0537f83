import ADARCore

/// How the synthetic negative is formed once a row's S5 timestep is known (S9).
public enum NegativeGenerator: Equatable, Sendable {
    /// S6: `x⁻ = x_t`, the corrupted positive itself (the default).
    case forward
    /// `x⁻ = x̂_0 = x_0 + σ·r_t·(ε − ε̂)`, `ε̂ = τ_θ(x_t, PE(t), e_u)`; rows with
    /// `r_t > maxRatio` (S9's `r_max`, default 10) use `forward`.
    case denoised(TauParameters, maxRatio: Double = 10)
}

/// S6/S9 synthesis of a batch: one outcome per row, and the rows that the
/// `r_max` guard sent to `forward` under `denoised` (ascending; empty under `forward`).
public struct GeneratedNegatives: Equatable, Sendable {
    public var outcomes: [RowOutcome]
    public var forwardByRatioGuard: [Int]
}

extension ReferenceADAR {
    /// S9: `r_t = √((1 − ᾱ_t)/ᾱ_t)` for `t = 0…T` in binary64 (`r_0 = 0`), the
    /// table beside S1's.
    public static func denoisingRatios(_ schedule: NoiseSchedule) -> [Double] {
        schedule.alphaBar.map { ((1 - $0) / $0).squareRoot() }
    }

    /// S9: `x̂_0 = x_0 + σ·r_t·(ε − ε̂)`, formed as written, never as the
    /// quotient `(x_t − √(1 − ᾱ_t)·σ·ε̂)/√ᾱ_t` (Proofs/S9-tau.md, S9/D1).
    public static func denoisedSample(
        x0: ArraySlice<Double>, epsilon: [Double], predictedNoise: [Double], ratio r: Double, sigma: Double
    ) -> [Double] {
        precondition(x0.count == epsilon.count && epsilon.count == predictedNoise.count)
        let x0 = Array(x0), scale = sigma * r
        var x = [Double]()
        x.reserveCapacity(x0.count)
        for k in x0.indices { x.append(x0[k] + scale * (epsilon[k] - predictedNoise[k])) }
        return x
    }
}
