/// Checks of Proofs/S2-forward-process.md (S2 forward process (and S4.a retention by Monte Carlo)).
public enum ForwardProcessChecks {
    public static var claims: [Claim] { [] }
}
