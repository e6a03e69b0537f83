/// Checks of Proofs/S8-noise.md (S8 noise).
public enum NoiseChecks {
    public static var claims: [Claim] { [] }
}
