import ADARCore

/// The score-aware timestep of one row: S4 and S5 together.
public struct TransitionPoint: Equatable, Sendable {
    public var status: RowStatus
    /// `t*`, `T`, or 0 on fallback rows.
    public var timestep: Int
    /// `a*`, NaN where undefined.
    public var aStar: Double
    /// `π` at `timestep` (NaN on fallback rows).
    public var retention: Double
    /// `π` at `timestep − 1` (NaN on fallback rows; `π_0 = 1`).
    public var previousRetention: Double

    public var alphaBarStar: Double { aStar * aStar }
}

extension ReferenceADAR {
    /// S5: the fallback status when the row is outside the valid domain,
    /// with the spec's precedence `degenerateUser`, `alreadyNegative`,
    /// `nonPositiveScore`; `nil` on the valid domain.
    public static func fallbackStatus(
        positiveScore s0: Double, referenceNegativeScore sNeg: Double, noiseScale n: Double
    ) -> RowStatus? {
        if n == 0 { return .degenerateUser }
        if s0 <= sNeg { return .alreadyNegative }
        if s0 <= 0 { return .nonPositiveScore }
        return nil
    }

    /// S4 + S5: status, timestep, `a*` and the retention around the chosen step.
    public static func transitionPoint(
        positiveScore s0: Double, referenceNegativeScore sNeg: Double, noiseScale n: Double,
        rho: Double, schedule: NoiseSchedule
    ) -> TransitionPoint {
        if let status = fallbackStatus(positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n) {
            return TransitionPoint(status: status, timestep: 0, aStar: .nan, retention: .nan, previousRetention: .nan)
        }
        let aStar = transitionAmplitude(positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n, rho: rho)
        let crossing = aStar.flatMap { discreteTimestep(alphaBarStar: $0 * $0, schedule: schedule) }
        let t = crossing ?? schedule.steps
        let pi = { (step: Int) in
            retention(timestep: step, positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n, schedule: schedule)
        }
        return TransitionPoint(
            status: crossing == nil ? .saturated : .transition, timestep: t,
            aStar: aStar ?? .nan, retention: pi(t), previousRetention: pi(t - 1)
        )
    }
}
