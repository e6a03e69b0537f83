import Foundation
import ADARCore
import ADARReference
import ADARFixtures
import ADARProtocol

/// S9/K1 of Proofs/conformance-tolerances.md: on every binary32 `tauForward`
/// and `denoise` fixture case, the running error bound of
/// Proofs/S9-binary32-tau.md (S9/E1 for `ε̂`, S9/E3 for `x̂_0`) is within a
/// quarter of the group's allowance — the tolerance is derived from the
/// analysis, not from what one implementation achieves.
public enum TauToleranceChecks {
    public static var claims: [Claim] {
        [
            Claim(id: "S9/K1", title: "binary32 tauForward/denoise tolerances ≥ 4× the S9/E1, S9/E3 bound on every fixture case") { _ in
                checkDerivedBounds()
            },
        ]
    }

    /// The share of the allowance the derived bound may use (a margin for ports whose
    /// operation order differs from the module's, e.g. `x·σ(x)` for SiLU).
    public static let margin = 0.25

    /// Worst `bound / (margin·allowance)` over the binary32 τ cases of `fixtures`.
    public static func checkDerivedBounds(fixtures: [FixtureFile] = FixtureGenerator.generateAll()) -> ClaimResult {
        var worst = (ratio: 0.0, cases: 0, place: "")
        for file in fixtures {
            for test in file.cases where test.precision == .binary32 && test.result == .valid
                && [.tauForward, .denoise, .synthesizeDenoised].contains(test.operation) {
                worst.cases += 1
                for (field, bounds) in derivedBounds(test.operation, test.input, expected: test.expected) {
                    let expected = test.expected[field]?.doubleArray ?? []
                    for (k, bound) in bounds.enumerated() {
                        let ratio = bound.radius / (margin * test.tolerance.allowance(expected[k]))
                        if !(ratio <= worst.ratio) { worst = (ratio, worst.cases, "\(file.name) tcId \(test.tcId) \(field)[\(k)]") }
                    }
                }
            }
        }
        return ClaimResult(
            id: "S9/K1", statistic: "max derived bound/(¼ allowance) over \(worst.cases) binary32 tauForward/denoise/synthesizeDenoised cases",
            measure: .maxError(worst.ratio, bound: 1, unit: "rel"), seed: 0, worstCase: worst.place)
    }

    /// The enclosures of the outputs: `epsilonHat` (and `reconstruction` for `denoise`).
    static func derivedBounds(_ operation: FixtureOperation, _ input: JSONValue, expected: JSONValue) -> [(String, [Enclosure])] {
        if operation == .synthesizeDenoised {
            // A denoised row is `denoise` at the row's timestep, x_0 the positive, σ the configuration's.
            guard expected["negativeGenerator"]?.stringValue == "denoised", case let .object(fields) = input else { return [] }
            let row = JSONValue.object(fields.map { $0.0 == "positive" ? ("x0", $0.1) : $0 }
                + [("timestep", expected["timestep"]!), ("sigma", input["configuration"]!["sigma"]!)])
            return derivedBounds(.denoise, row, expected: expected).filter { $0.0 == "reconstruction" }.map { ("syntheticNegative", $0.1) }
        }
        let d = input[operation == .tauForward ? "xt" : "x0"]!.doubleArray!.count
        let user = input["user"]!.doubleArray!, t = input["timestep"]!.intValue!
        let parameters = ["w1", "b1", "w2", "b2"].flatMap { name -> [Float] in
            let value = input[name]!
            return (value.arrayValue?.first?.arrayValue != nil ? value.arrayValue!.flatMap { $0.doubleArray! } : value.doubleArray!).map(Float.init)
        }
        let encoding = ReferenceADAR.positionalEncoding(timestep: t, dimension: d).map { Enclosure.rounded($0) }
        let users = user.map { Enclosure.exact($0) }
        if operation == .tauForward {
            let xt = input["xt"]!.doubleArray!.map { Enclosure.exact($0) }
            return [("epsilonHat", TauEquivalenceAnalysis.forward(parameters, dimension: d, input: xt + encoding + users).output)]
        }
        let table = try! OperationInput(input).schedule(), sigma = input["sigma"]!.doubleValue!
        let x0 = input["x0"]!.doubleArray!.map(Float.init), epsilon = input["epsilon"]!.doubleArray!
        let xt = x0.withUnsafeBufferPointer {
            EquivalenceAnalysis.syntheticNegative(positive: $0, epsilon: epsilon, noiseError: { _ in 0 }, timestep: t, schedule: table, sigma: sigma)
        }
        let predicted = TauEquivalenceAnalysis.forward(parameters, dimension: d, input: xt + encoding + users).output
        let scale = Enclosure.rounded(sigma) * Enclosure.rounded(ReferenceADAR.denoisingRatios(table)[t])
        let reconstruction = (0..<d).map { k in Enclosure.exact(Double(x0[k])) + scale * (Enclosure.exact(epsilon[k]) - predicted[k]) }
        return [("epsilonHat", predicted), ("reconstruction", reconstruction)]
    }
}
