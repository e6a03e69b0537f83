/// The negative samplers: the trainer's (ADARTraining) and the evaluation
/// protocol's grids (ADAREvaluation) share this one list.
/// How each training pair `(u, i)` gets its negative.
public enum SamplerKind: String, CaseIterable, Sendable {
    /// One uniformly drawn item the user has not interacted with.
    case uniform
    /// Dynamic negative sampling: the highest-scoring of `M` uniform candidates.
    case dns
    /// Adaptive hardness negative sampling (Lai et al., AAAI 2024): the candidate
    /// minimising `|s_uj − β·(s_ui + α)^(p+1)|`.
    case ahns
    /// Uniform BPR negative `j = j_1` plus ADAR's synthetic negative from the
    /// pool `j_1 … j_M` (spec S3–S7).
    case adar
    /// MixGCF (Huang et al., KDD 2021): positive and hop mixing of the `M`
    /// candidates into one synthetic negative (`MixGCFRule`); for MF,
    /// positive mixing alone.
    case mixgcf
}
