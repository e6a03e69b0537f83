/// Every numerically checked claim of Proofs/, in spec order. `adar verify`
/// runs these; the test suites run them too and add the checks that show
/// each checker rejects a deliberately broken implementation.
public enum Claims {
    public static var all: [Claim] {
        ScheduleChecks.claims
            + ForwardProcessChecks.claims
            + RetentionChecks.claims
            + TransitionChecks.claims
            + DiscretisationChecks.claims
            + LossChecks.claims
            + NoiseChecks.claims
            + Binary32NoiseChecks.claims
            + TauChecks.claims
            + CalibrationChecks.claims
            + EquivalenceChecks.claims
            + TauEquivalenceChecks.claims
            + ConformanceToleranceChecks.claims
            + TauToleranceChecks.claims
    }

    public static func claim(_ id: String) -> Claim? { all.first { $0.id == id } }

    /// The claims that compare the optimised implementation with the reference
    /// (S6/E*, S7/E1, S9/E*), checking it with `bug` planted: a demonstration
    /// that they catch the bug and shrink its counterexample.
    public static func injecting(_ bug: InjectedBug) -> [Claim] {
        EquivalenceChecks.claims(subject: .injecting(bug)) + TauEquivalenceChecks.claims(subject: .injecting(bug))
    }
}
