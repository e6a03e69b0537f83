import ADARCore

/// Deliberate bugs in the prepared state of `ADARSynthesizer`, for the
/// equivalence suites (Proofs/S6-binary32-equivalence.md) to show that they
/// catch a wrong optimised path. Only the tables and constants prepared by
/// `init(schedule:configuration:)` are corrupted: the per-row loop is the
/// production one, with no branch added.
package enum SynthesizerMutation: CaseIterable, Sendable {
    /// `ᾱ_{t−1}` instead of `ᾱ_t`: every table shifted by one step (S4.f, S6).
    case previousAlphaBar
    /// The other root of S4.d's quadratic: `z` negated.
    case wrongRoot
    /// `n = ‖e_u‖` and `x⁻ = √ᾱ·x_0 + √(1 − ᾱ)·ε`, forgetting `σ` (S2).
    case missingSigma
    /// `√ᾱ_t` and `√(1 − ᾱ_t)` swapped (S2, S6).
    case swappedSignalAndNoise
    /// `denoised` only (S9): `x̂_0 = x_0 + r_t·(ε − ε̂)`, forgetting `σ`.
    case missingSigmaInReconstruction
}

extension ADARSynthesizer {
    /// `base` with its prepared state corrupted by `mutation`.
    package init(mutating base: ADARSynthesizer, _ mutation: SynthesizerMutation) {
        schedule = base.schedule
        configuration = base.configuration
        switch mutation {
        case .previousAlphaBar:
            // Index 0 keeps the clean sample; t ≥ 1 reads step t − 1.
            alphaBar = [base.alphaBar[0]] + base.alphaBar.dropLast()
            sqrtAlphaBar = [base.sqrtAlphaBar[0]] + base.sqrtAlphaBar.dropLast()
            sqrtOneMinusAlphaBar = [base.sqrtOneMinusAlphaBar[0]] + base.sqrtOneMinusAlphaBar.dropLast()
        case .swappedSignalAndNoise:
            alphaBar = base.alphaBar
            sqrtAlphaBar = base.sqrtOneMinusAlphaBar
            sqrtOneMinusAlphaBar = base.sqrtAlphaBar
        case .wrongRoot, .missingSigma, .missingSigmaInReconstruction:
            alphaBar = base.alphaBar
            sqrtAlphaBar = base.sqrtAlphaBar
            sqrtOneMinusAlphaBar = base.sqrtOneMinusAlphaBar
        }
        z = mutation == .wrongRoot ? -base.z : base.z
        sigma = mutation == .missingSigma ? 1 : base.sigma
        // The reconstruction scale is formed as σ·r_t: r_t/σ leaves r_t.
        noiseRatio = mutation == .missingSigmaInReconstruction ? base.noiseRatio.map { $0 / base.sigma } : base.noiseRatio
    }
}
