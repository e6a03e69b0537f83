import ADARCore

extension ReferenceADAR {
    /// `⟨e_u, e_{j_m}⟩` for every candidate of row `b`.
    public static func poolScores(_ batch: ADARBatch, row b: Int) -> [Double] {
        (0..<batch.poolSize).map { dot(batch.user(b), batch.candidate(b, $0)) }
    }

    /// S3: the reference negative score `s⁻` by policy.
    public static func referenceNegativeScore(poolScores scores: [Double], policy: ReferencePolicy) -> Double {
        precondition(!scores.isEmpty)
        switch policy {
        case .max:
            var best = scores[0]
            for s in scores where s > best { best = s }
            return best
        case .mean:
            var sum = 0.0
            for s in scores { sum += s }
            return sum / Double(scores.count)
        case .first:
            return scores[0]
        }
    }

    /// S5: the fallback candidate, the largest score, first on ties.
    public static func hardestCandidate(poolScores scores: [Double]) -> Int {
        var best = 0
        for m in scores.indices where scores[m] > scores[best] { best = m }
        return best
    }
}
