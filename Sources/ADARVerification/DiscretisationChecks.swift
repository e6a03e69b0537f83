/// Checks of Proofs/S4f-S5-discretisation.md (S4.f discretisation, S5 statuses, S6 outputs).
public enum DiscretisationChecks {
    public static var claims: [Claim] { [] }
}
