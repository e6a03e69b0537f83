import Foundation
import ADARCore
import ADARReference
import GSLOracle

/// The check of S9's calibration theorem for the `forward` generator
/// (Proofs/S9-tau.md, S9/C1), on `CalibrationAccumulator`'s statistics.
public enum CalibrationChecks {
    /// S6 synthesis under test: `(batch, schedule, configuration) → outcomes`.
    public typealias SynthesisFunction = (ADARBatch, NoiseSchedule, ADARConfiguration) throws -> [RowOutcome]

    public static var referenceSynthesis: SynthesisFunction {
        { try ReferenceADAR.synthesize($0, schedule: $1, configuration: $2) }
    }

    public static var claims: [Claim] {
        [
            Claim(id: "S9/C1", title: "forward: Y_b ~ Bernoulli(π_b); Z ≈ N(0, 1) and χ² over π-deciles do not reject",
                  defaultSeed: 20_260_908) { try checkForwardCalibration(seed: $0) },
        ]
    }

    /// One synthesis setting of S9/C1: ρ, schedule, σ.
    struct Setting {
        let rho: Double, sigma: Double, schedule: NoiseSchedule, name: String
    }

    static func settings() throws -> [Setting] {
        [
            Setting(rho: 0.2, sigma: 0.5, schedule: try NoiseSchedule(.linear(start: 1e-4, end: 0.05), steps: 50),
                    name: "ρ = 0.2, linear T = 50, σ = 0.5"),
            Setting(rho: 0.5, sigma: 1, schedule: try NoiseSchedule(.defaultCosine, steps: 20), name: "ρ = 0.5, cosine T = 20, σ = 1"),
            Setting(rho: 0.8, sigma: 0.3, schedule: try NoiseSchedule(.ddpmLinear, steps: 100), name: "ρ = 0.8, ddpm-linear T = 100, σ = 0.3"),
        ]
    }

    /// Rows per setting, dimension, pool size.
    public static let rowsPerSetting = 4000, dimension = 8, poolSize = 5

    /// S9/C1: 3 settings × 4000 rows (d = 8, M = 5, policy `max`; `e_i`
    /// correlated with `e_u` so most rows are on the valid domain), embeddings
    /// from `SeededGenerator(seed)`, ε from S8 `(seed, stream 1…3, row b)`.
    /// Over the `transition` and `saturated` rows: `Z` two-sided against N(0, 1)
    /// and `χ²` over the 10 π-deciles against χ²₁₀ (GSL's upper tail);
    /// Bonferroni × 2, α = 10⁻³ in total.
    public static func checkForwardCalibration(
        seed: UInt64, synthesize: SynthesisFunction = referenceSynthesis
    ) throws -> ClaimResult {
        var generator = SeededGenerator(seed: seed)
        var accumulator = CalibrationAccumulator()
        let d = dimension, rows = rowsPerSetting
        for (index, setting) in try settings().enumerated() {
            let users = generator.normals(rows * d).map { 0.5 * $0 }
            let positives = users.map { 0.6 * $0 + 0.5 * generator.normal() }
            let pool = generator.normals(rows * poolSize * d).map { 0.5 * $0 }
            let batch = try ADARBatch(rows: rows, dimension: d, poolSize: poolSize, users: users, positives: positives,
                                      pool: pool, noise: .counter(seed: seed, stream: UInt32(index + 1), rowOffset: 0))
            let config = try ADARConfiguration(rho: setting.rho, sigma: setting.sigma)
            accumulator.record(try synthesize(batch, setting.schedule, config))
        }
        let s = accumulator.summary
        let pZ = s.z.isNaN ? 0 : min(1, 2 * GSL.normalUpperTail(abs(s.z)))
        let pChiSquare = s.degreesOfFreedom > 0 && !s.chiSquare.isNaN
            ? GSL.chiSquareUpperTail(s.chiSquare, degreesOfFreedom: Double(s.degreesOfFreedom)) : 0
        let mix = RowStatus.allCases.map { "\($0.rawValue) \(s.statusCounts[$0, default: 0])" }.joined(separator: ", ")
        return ClaimResult(
            id: "S9/C1",
            statistic: "\(s.rows) rows (\(mix)); share Y = 1 \(short(s.share)) vs mean π \(short(s.meanRetention)); "
                + "Z = \(short(s.z)) (p = \(short(pZ))), χ² = \(short(s.chiSquare)) on \(s.degreesOfFreedom) dof (p = \(short(pChiSquare))); "
                + "Bonferroni × 2",
            measure: .pValue(min(1, 2 * min(pZ, pChiSquare)), alpha: 1e-3), seed: seed,
            worstCase: pZ < pChiSquare ? "Z = \(short(s.z))" : "χ² = \(short(s.chiSquare))")
    }
}
