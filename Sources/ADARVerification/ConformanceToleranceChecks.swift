import Foundation
import ADARCore
import ADAR
import ADARFixtures
import ADARProtocol
import ADARConformance
import GSLOracle

/// Checks of Proofs/conformance-tolerances.md: the fixture tolerances hold.
public enum ConformanceToleranceChecks {
    public static var claims: [Claim] {
        [
            Claim(id: "S6/F1", title: "binary32 tolerances cover the optimised binary32 module (adar port-server) on every fixture") { _ in
                checkBinary32Tolerances()
            },
            Claim(id: "S6/F2", title: "every binary64 expected value agrees with an independent computation within 1/16 of its tolerance") { _ in
                checkBinary64Expectations()
            },
        ]
    }

    /// An implementation answering one request of the port protocol.
    public typealias Implementation = (FixtureOperation, JSONValue) throws -> JSONValue

    /// Worst `error / allowance` of `implementation` over the groups of `precision`, against
    /// the expected output or an alternative; `scale` shrinks every allowance (a margin).
    static func worstRatio(
        _ fixtures: [FixtureFile], precision: Precision, scale: Double, implementation: Implementation
    ) -> (ratio: Double, cases: Int, worst: String) {
        var worst = (ratio: 0.0, cases: 0, worst: "")
        for file in fixtures {
            for test in file.cases where test.precision == precision && test.result != .invalid {
                worst.cases += 1
                let tolerance = test.tolerance.scaled(by: scale)
                let ratio: Double, field: String
                do {
                    let got = try implementation(test.operation, test.input)
                    let outcome = OutputComparison(tolerance: tolerance, precision: precision).bestMatch(test.test, got: got)
                    (ratio, field) = (outcome.worstRatio, outcome.worstField)
                } catch {
                    (ratio, field) = (.infinity, "error: \(error)")
                }
                if ratio > worst.ratio || (ratio.isNaN && !worst.ratio.isNaN) {
                    worst.ratio = ratio
                    worst.worst = "\(file.name) tcId \(test.tcId) \(field)"
                }
            }
        }
        return worst
    }

    // MARK: - S6/F1

    /// The product: the optimised binary32 `ADAR` module as `adar port-server` serves it.
    public static func optimisedModule(_ operation: FixtureOperation, _ input: JSONValue) throws -> JSONValue {
        try OptimisedPort().answer(operation: operation, input: input)
    }

    public static func checkBinary32Tolerances(
        fixtures: [FixtureFile] = FixtureGenerator.generateAll(), implementation: Implementation = optimisedModule
    ) -> ClaimResult {
        let worst = worstRatio(fixtures, precision: .binary32, scale: 1, implementation: implementation)
        return ClaimResult(
            id: "S6/F1", statistic: "max error/allowance of the optimised binary32 module over \(worst.cases) binary32 cases",
            measure: .maxError(worst.ratio, bound: 1, unit: "rel"), seed: 0, worstCase: worst.worst)
    }

    // MARK: - S6/F2

    public static func checkBinary64Expectations(
        fixtures: [FixtureFile] = FixtureGenerator.generateAll(), oracle: Implementation = IndependentOracle.evaluate
    ) -> ClaimResult {
        let worst = worstRatio(fixtures, precision: .binary64, scale: 1.0 / 16, implementation: oracle)
        return ClaimResult(
            id: "S6/F2", statistic: "max |expected − independent|/(allowance/16) over \(worst.cases) binary64 cases",
            measure: .maxError(worst.ratio, bound: 1, unit: "rel"), seed: 0, worstCase: worst.worst)
    }
}
