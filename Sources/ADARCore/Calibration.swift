/// The calibration statistics of S9 over a set of synthesised rows: on
/// `transition` and `saturated` rows (fallback rows excluded),
/// `Y_b = 1[⟨e_u, x⁻⟩ > s⁻]` against the row's forward `π_b`.
///
/// For `forward`, `Y_b ~ Bernoulli(π_b)` independently given the scores
/// (Proofs/S9-tau.md, S9/C1), so `Z` is approximately N(0, 1) and `χ²` is
/// approximately χ² with `degreesOfFreedom` degrees of freedom.
public struct CalibrationSummary: Equatable, Sendable {
    /// Rows counted (`transition` + `saturated`).
    public var rows: Int
    /// `Σ Y_b`.
    public var successes: Int
    /// `Σ π_b`.
    public var expectedSuccesses: Double
    /// `Σ π_b(1 − π_b)`.
    public var variance: Double
    /// `Z = Σ(Y_b − π_b)/√(Σ π_b(1 − π_b))` (NaN with no variance).
    public var z: Double
    /// Over `groups` groups of rows of consecutive π (sorted ascending, ties in
    /// recording order, sizes differing by at most one): `Σ_g (O_g − E_g)²/V_g`
    /// with `O_g = ΣY`, `E_g = Σπ`, `V_g = Σπ(1 − π)` of group g.
    public var chiSquare: Double
    /// The number of groups with `V_g > 0`.
    public var degreesOfFreedom: Int
    /// The share of `Y_b = 1` (not ρ: `transition` rows have `π ≤ ρ`, `saturated` rows `π > ρ`).
    public var share: Double
    /// The mean `π_b`, the share expected under calibration.
    public var meanRetention: Double
    /// Every recorded row's status, fallbacks included.
    public var statusCounts: [RowStatus: Int]
}

/// Collects rows (e.g. a training epoch's batches, in order) and summarises
/// their calibration (S9). `groups` defaults to 10: π-deciles.
public struct CalibrationAccumulator: Sendable {
    public let groups: Int
    private var retentions: [Double] = []
    private var outcomes: [Bool] = []
    private var statusCounts: [RowStatus: Int] = [:]

    public init(groups: Int = 10) {
        precondition(groups >= 1)
        self.groups = groups
    }

    /// Records one row: its status, its forward `π`, `⟨e_u, x⁻⟩` and `s⁻`.
    public mutating func record(status: RowStatus, retention: Double, syntheticScore: Double, referenceNegativeScore: Double) {
        statusCounts[status, default: 0] += 1
        guard !status.isFallback else { return }
        retentions.append(retention)
        outcomes.append(syntheticScore > referenceNegativeScore)
    }

    public mutating func record(_ outcome: RowOutcome) {
        record(status: outcome.status, retention: outcome.retention, syntheticScore: outcome.syntheticScore,
               referenceNegativeScore: outcome.referenceNegativeScore)
    }

    public mutating func record(_ outcomes: [RowOutcome]) {
        for outcome in outcomes { record(outcome) }
    }

    public var summary: CalibrationSummary {
        let n = retentions.count
        var successes = 0, expected = 0.0, variance = 0.0
        for (pi, y) in zip(retentions, outcomes) {
            if y { successes += 1 }
            expected += pi
            variance += pi * (1 - pi)
        }
        // Groups by π only (never by Y), so the χ² law holds given the scores.
        let order = retentions.indices.sorted { (retentions[$0], $0) < (retentions[$1], $1) }
        var chiSquare = 0.0, degreesOfFreedom = 0
        let groupCount = min(groups, n)
        for g in 0..<groupCount {
            var observed = 0.0, mean = 0.0, spread = 0.0
            for i in order[g * n / groupCount ..< (g + 1) * n / groupCount] {
                let pi = retentions[i]
                if outcomes[i] { observed += 1 }
                mean += pi
                spread += pi * (1 - pi)
            }
            if spread > 0 {
                chiSquare += (observed - mean) * (observed - mean) / spread
                degreesOfFreedom += 1
            } else if observed != mean {
                chiSquare = .infinity   // an outcome of probability 0
            }
        }
        return CalibrationSummary(
            rows: n, successes: successes, expectedSuccesses: expected, variance: variance,
            z: variance > 0 ? (Double(successes) - expected) / variance.squareRoot() : .nan,
            chiSquare: chiSquare, degreesOfFreedom: degreesOfFreedom,
            share: n > 0 ? Double(successes) / Double(n) : .nan,
            meanRetention: n > 0 ? expected / Double(n) : .nan,
            statusCounts: statusCounts)
    }
}
