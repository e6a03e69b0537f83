/// Checks of Proofs/S4-transition.md (S4.d–S4.e Theorem 1, its numerical form, and Φ⁻¹).
public enum TransitionChecks {
    public static var claims: [Claim] { [] }
}
