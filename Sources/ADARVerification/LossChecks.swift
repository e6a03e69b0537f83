/// Checks of Proofs/S7-loss.md (S7 loss and gradients).
public enum LossChecks {
    public static var claims: [Claim] { [] }
}
