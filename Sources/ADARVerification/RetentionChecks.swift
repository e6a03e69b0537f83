/// Checks of Proofs/S4-retention.md (S4.a–S4.b retention and monotonicity).
public enum RetentionChecks {
    public static var claims: [Claim] { [] }
}
