/// Checks of Proofs/S1-schedules.md (S1 schedules).
public enum ScheduleChecks {
    public static var claims: [Claim] { [] }
}
