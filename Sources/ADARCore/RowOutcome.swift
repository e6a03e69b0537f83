/// The one status each row gets (spec S5).
public enum RowStatus: String, CaseIterable, Sendable {
    /// Valid domain, crossing reached within the schedule: timestep `t*`.
    case transition
    /// Valid domain, but no crossing in [0, 1) or `ᾱ_T > ᾱ*`: timestep `T`.
    case saturated
    /// `s_0 ≤ s⁻`: timestep 0, fallback to the hardest candidate.
    case alreadyNegative
    /// `s_0 ≤ 0` (and `s_0 > s⁻`): timestep 0, fallback.
    case nonPositiveScore
    /// `n = σ‖e_u‖ = 0`: timestep 0, fallback.
    case degenerateUser

    /// Fallback statuses have timestep 0 and use the hardest pool candidate.
    public var isFallback: Bool {
        switch self {
        case .transition, .saturated: false
        case .alreadyNegative, .nonPositiveScore, .degenerateUser: true
        }
    }
}

/// The output for one row (spec S6).
public struct RowOutcome: Equatable, Sendable {
    public var status: RowStatus
    /// `t*`, `T`, or 0 for fallback rows.
    public var timestep: Int
    /// `a* = √ᾱ*`; NaN where undefined (fallback rows, or no crossing).
    public var aStar: Double
    /// `π_t` at the chosen step; NaN on fallback rows; `π_T` on saturated rows.
    public var retention: Double
    /// `s_0 = ⟨e_u, x_0⟩`.
    public var positiveScore: Double
    /// `s⁻` by the configured policy (S3).
    public var referenceNegativeScore: Double
    /// `⟨e_u, x⁻⟩`.
    public var syntheticScore: Double
    /// Index `m` of the hardest pool candidate (largest score, first on ties).
    public var hardestCandidate: Int
    /// `x⁻`, `d` values.
    public var syntheticNegative: [Double]

    public init(
        status: RowStatus, timestep: Int, aStar: Double, retention: Double,
        positiveScore: Double, referenceNegativeScore: Double, syntheticScore: Double,
        hardestCandidate: Int, syntheticNegative: [Double]
    ) {
        self.status = status
        self.timestep = timestep
        self.aStar = aStar
        self.retention = retention
        self.positiveScore = positiveScore
        self.referenceNegativeScore = referenceNegativeScore
        self.syntheticScore = syntheticScore
        self.hardestCandidate = hardestCandidate
        self.syntheticNegative = syntheticNegative
    }
}
