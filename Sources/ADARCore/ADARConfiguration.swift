/// How the reference negative score `s⁻` is taken from the pool (spec S3).
public enum ReferencePolicy: String, CaseIterable, Sendable {
    /// `max_m ⟨e_u, e_{j_m}⟩`: as hard as the hardest real candidate (default).
    case max
    /// `(1/M) Σ_m ⟨e_u, e_{j_m}⟩`.
    case mean
    /// `⟨e_u, e_{j_1}⟩`: one uniformly sampled negative, as in plain BPR.
    case first
}

/// What the augmentation term of S7 uses on fallback rows (S5 statuses with timestep 0).
public enum FallbackMode: String, CaseIterable, Sendable {
    /// No augmentation term on fallback rows (default).
    case skip
    /// Use the S5 fallback embedding (the hardest pool candidate) as `x⁻`.
    case hardest
}

/// Whether the gradient flows through the synthetic negative `x⁻` (S7).
public enum GradientFlow: String, CaseIterable, Sendable {
    /// `x⁻` is a constant (default).
    case detach
    /// `∂x⁻/∂x_0 = √ᾱ_t·I` on S6 rows; on `hardest` fallback rows `x⁻` is the
    /// candidate's own embedding, so the gradient flows into that candidate.
    case through
}

/// The ADAR options of spec S3–S7, validated on construction.
public struct ADARConfiguration: Equatable, Sendable {
    /// Retention level `ρ ∈ (0, 1)` (S4.c).
    public var rho: Double
    public var policy: ReferencePolicy
    /// Noise scale `σ > 0` (S2).
    public var sigma: Double
    public var fallback: FallbackMode
    /// Augmentation weight `w ≥ 0` (S7).
    public var augmentationWeight: Double
    /// The weight of S7's augmentation term on rows whose `x⁻` is synthesised (`transition`,
    /// `saturated`); nil: `w`. With `fallback = hardest` and 0 here, only the fallback rows keep
    /// the term (weight `w`, the real hardest candidate): the ablation of the synthetic part.
    /// (`w = 0` instead removes the term from every row, fallback rows included: plain BPR.)
    public var syntheticWeight: Double?
    public var gradientFlow: GradientFlow
    /// L2 coefficient `λ ≥ 0` (S7).
    public var l2: Double

    public init(
        rho: Double = 0.5, policy: ReferencePolicy = .max, sigma: Double = 1,
        fallback: FallbackMode = .skip, augmentationWeight: Double = 1, syntheticWeight: Double? = nil,
        gradientFlow: GradientFlow = .detach, l2: Double = 0
    ) throws(ADARError) {
        guard rho.isFinite, rho > 0, rho < 1 else {
            throw .invalidConfiguration(field: "rho", reason: "ρ = \(rho) must lie in (0, 1)")
        }
        guard sigma.isFinite, sigma > 0 else {
            throw .invalidConfiguration(field: "sigma", reason: "σ = \(sigma) must be finite and > 0")
        }
        guard augmentationWeight.isFinite, augmentationWeight >= 0 else {
            throw .invalidConfiguration(field: "augmentationWeight", reason: "w = \(augmentationWeight) must be finite and ≥ 0")
        }
        if let syntheticWeight, !(syntheticWeight.isFinite && syntheticWeight >= 0) {
            throw .invalidConfiguration(field: "syntheticWeight", reason: "\(syntheticWeight) must be finite and ≥ 0")
        }
        guard l2.isFinite, l2 >= 0 else {
            throw .invalidConfiguration(field: "l2", reason: "λ = \(l2) must be finite and ≥ 0")
        }
        self.rho = rho
        self.policy = policy
        self.sigma = sigma
        self.fallback = fallback
        self.augmentationWeight = augmentationWeight
        self.syntheticWeight = syntheticWeight
        self.gradientFlow = gradientFlow
        self.l2 = l2
    }

    /// The weight of S7's augmentation term on a row: `syntheticWeight` (default `w`) where `x⁻`
    /// is synthesised; on fallback rows (S5) `w` under `fallback = hardest` and 0 under `skip`.
    public func augmentationWeight(fallbackRow: Bool) -> Double {
        guard fallbackRow else { return syntheticWeight ?? augmentationWeight }
        return fallback == .hardest ? augmentationWeight : 0
    }
}
