/// The schedule families of spec S1, with their parameters.
public enum ScheduleKind: Equatable, Sendable {
    /// `β_t = linspace(start, end, T)_t` (diffusers' `linear`; no rescaling by T).
    case linear(start: Double, end: Double)
    /// improved-diffusion's `linear`: `linear` with start `1e-4·1000/T`, end `0.02·1000/T`.
    case ddpmLinear
    /// `β_t = linspace(√start, √end, T)_t²`.
    case scaledLinear(start: Double, end: Double)
    /// `β_t = min(1 − f(t/T)/f((t−1)/T), maxBeta)`, `f(τ) = cos²(((τ + s)/(1 + s))·π/2)`.
    case cosine(s: Double, maxBeta: Double)
    /// DiffRec's `linear-var`: `v_t = linspace(scale·min, scale·max, T)_t`, `ᾱ'_t = 1 − v_t`.
    case linearVariance(scale: Double, min: Double, max: Double, maxBeta: Double)
    /// `β_1 … β_T` as given.
    case custom(betas: [Double])

    public static let defaultCosine = ScheduleKind.cosine(s: 0.008, maxBeta: 0.999)

    /// The spec's name of the family (S1 table).
    public var name: String {
        switch self {
        case .linear: "linear"
        case .ddpmLinear: "ddpm-linear"
        case .scaledLinear: "scaled-linear"
        case .cosine: "cosine"
        case .linearVariance: "linear-variance"
        case .custom: "custom"
        }
    }
}

/// `linspace(a, b, T)_t = a + (t − 1)(b − a)/(T − 1)` for `T > 1`, `a` for `T = 1` (S1).
/// `t` is 1-based.
@inlinable
public func linspace(_ a: Double, _ b: Double, steps: Int, at t: Int) -> Double {
    steps == 1 ? a : a + Double(t - 1) * (b - a) / Double(steps - 1)
}
