import ADARCore

extension ReferenceADAR {
    /// S6: one synthetic negative per row of the batch.
    ///
    /// Non-finite inputs were refused when the batch was built; a value that
    /// overflows on the way (the noise scale `n`, a score) is refused here,
    /// before any row is returned.
    public static func synthesize(
        _ batch: ADARBatch, schedule: NoiseSchedule, configuration config: ADARConfiguration
    ) throws(ADARError) -> [RowOutcome] {
        var outcomes = [RowOutcome]()
        outcomes.reserveCapacity(batch.rows)
        for b in 0..<batch.rows {
            outcomes.append(try synthesizeRow(batch, row: b, schedule: schedule, configuration: config))
        }
        return outcomes
    }

    /// `ε` for row `b`: explicit, or the counter-based stream of S8.
    public static func epsilon(_ batch: ADARBatch, row b: Int) -> [Double] {
        switch batch.noise {
        case let .explicit(values):
            return Array(values[b * batch.dimension ..< (b + 1) * batch.dimension])
        case let .counter(seed, stream, rowOffset):
            return GaussianNoise(seed: seed, stream: stream)
                .row(rowOffset &+ UInt64(b), dimension: batch.dimension)
        }
    }

    private static func synthesizeRow(
        _ batch: ADARBatch, row b: Int, schedule: NoiseSchedule, configuration config: ADARConfiguration
    ) throws(ADARError) -> RowOutcome {
        let user = batch.user(b), x0 = batch.positive(b)
        let n = scoreNoiseScale(user: user, sigma: config.sigma)
        let s0 = dot(user, x0)
        let scores = poolScores(batch, row: b)
        let sNeg = referenceNegativeScore(poolScores: scores, policy: config.policy)
        for (field, value) in [("noiseScale", n), ("positiveScore", s0), ("referenceNegativeScore", sNeg)]
        where !value.isFinite {
            throw .overflow(row: b, field: field)
        }
        let hardest = hardestCandidate(poolScores: scores)
        let point = transitionPoint(
            positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n, rho: config.rho, schedule: schedule)
        if point.status.isFallback {
            return RowOutcome(
                status: point.status, timestep: 0, aStar: .nan, retention: .nan,
                positiveScore: s0, referenceNegativeScore: sNeg, syntheticScore: scores[hardest],
                hardestCandidate: hardest, syntheticNegative: Array(batch.candidate(b, hardest)))
        }
        let xNeg = forwardSample(
            x0: x0, epsilon: epsilon(batch, row: b), timestep: point.timestep,
            schedule: schedule, sigma: config.sigma)
        return RowOutcome(
            status: point.status, timestep: point.timestep, aStar: point.aStar, retention: point.retention,
            positiveScore: s0, referenceNegativeScore: sNeg, syntheticScore: dot(user, xNeg[...]),
            hardestCandidate: hardest, syntheticNegative: xNeg)
    }
}
