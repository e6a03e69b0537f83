import ADARCore

extension ReferenceADAR {
    /// S6: one synthetic negative per row of the batch (the `forward` generator).
    public static func synthesize(
        _ batch: ADARBatch, schedule: NoiseSchedule, configuration config: ADARConfiguration
    ) throws(ADARError) -> [RowOutcome] {
        try synthesize(batch, schedule: schedule, configuration: config, generator: .forward).outcomes
    }

    /// S6/S9: one synthetic negative per row of the batch by `generator`. The
    /// status, timestep, `a*` and `π` are S4/S5's under every generator; only
    /// `x⁻` and its score differ on `transition`/`saturated` rows.
    ///
    /// Non-finite inputs were refused when the batch was built; a value that
    /// overflows on the way (the noise scale `n`, a score, `x⁻` under
    /// `denoised`) is refused here, before any row is returned.
    public static func synthesize(
        _ batch: ADARBatch, schedule: NoiseSchedule, configuration config: ADARConfiguration,
        generator: NegativeGenerator
    ) throws(ADARError) -> GeneratedNegatives {
        var ratios = [Double]()
        if case let .denoised(tau, maxRatio) = generator {
            guard tau.dimension == batch.dimension else {
                throw .shapeMismatch(field: "tau.dimension", expected: batch.dimension, actual: tau.dimension)
            }
            guard maxRatio >= 0 else {
                throw .invalidConfiguration(field: "maxRatio", reason: "r_max = \(maxRatio) must be ≥ 0 (S9)")
            }
            ratios = denoisingRatios(schedule)
        }
        var result = GeneratedNegatives(outcomes: [], forwardByRatioGuard: [])
        result.outcomes.reserveCapacity(batch.rows)
        for b in 0..<batch.rows {
            var outcome = try synthesizeRow(batch, row: b, schedule: schedule, configuration: config)
            if case let .denoised(tau, maxRatio) = generator, !outcome.status.isFallback {
                let t = outcome.timestep
                if ratios[t] > maxRatio {
                    result.forwardByRatioGuard.append(b)
                } else {
                    let user = Array(batch.user(b)), epsilon = epsilon(batch, row: b)
                    let predicted = predictNoise(tau, noisy: outcome.syntheticNegative, timestep: t, user: user)
                    let x = denoisedSample(
                        x0: batch.positive(b), epsilon: epsilon, predictedNoise: predicted, ratio: ratios[t], sigma: config.sigma)
                    if let k = x.firstIndex(where: { !$0.isFinite }) { throw .overflow(row: b, field: "denoised[\(k)]") }
                    outcome.syntheticNegative = x
                    outcome.syntheticScore = dot(user, x)
                    guard outcome.syntheticScore.isFinite else { throw .overflow(row: b, field: "syntheticScore") }
                }
            }
            result.outcomes.append(outcome)
        }
        return result
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
