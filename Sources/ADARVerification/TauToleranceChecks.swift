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
            Claim(id: "S9/K1", title: "binary32 τ tolerances ≥ 4× the S9/E1, E3, E5 bound on every fixture case (4/3× where the Adam direction is undetermined)") { _ in
                checkDerivedBounds()
            },
        ]
    }

    /// The share of the allowance the derived bound may use (a margin for ports whose
    /// operation order differs from the module's, e.g. `x·σ(x)` for SiLU).
    public static let margin = 0.25

    /// The share of the allowance an entry whose Adam direction binary32 cannot determine may use:
    /// its bound `lr·(|u| + U)` holds for any evaluation order, so no margin for other ports is needed.
    public static let undeterminedMargin = 0.75

    /// Worst `bound / (margin·allowance)` over the binary32 τ cases of `fixtures`.
    public static func checkDerivedBounds(fixtures: [FixtureFile] = FixtureGenerator.generateAll()) -> ClaimResult {
        var worst = (ratio: 0.0, cases: 0, place: "")
        for file in fixtures {
            for test in file.cases where test.precision == .binary32 && test.result == .valid
                && [.tauForward, .denoise, .synthesizeDenoised, .tauStep].contains(test.operation) {
                worst.cases += 1
                let outputs = test.operation == .tauStep
                    ? tauStepBounds(test.input, expected: test.expected)
                    : derivedBounds(test.operation, test.input, expected: test.expected).map { field, bounds in
                        (field, zip(test.expected[field]?.doubleArray ?? [], bounds).map { ($0, $1, false) })
                    }
                for (field, values) in outputs {
                    for (k, (expected, bound, undetermined)) in values.enumerated() {
                        let ratio = bound.radius / ((undetermined ? undeterminedMargin : margin) * test.tolerance.allowance(expected))
                        if !(ratio <= worst.ratio) { worst = (ratio, worst.cases, "\(file.name) tcId \(test.tcId) \(field)[\(k)]") }
                    }
                }
            }
        }
        return ClaimResult(
            id: "S9/K1", statistic: "max derived bound/(¼ allowance; ¾ where the Adam direction is undetermined) over \(worst.cases) "
                + "binary32 tauForward/denoise/synthesizeDenoised/tauStep cases",
            measure: .maxError(worst.ratio, bound: 1, unit: "rel"), seed: 0, worstCase: worst.place)
    }

    /// `tauStep`'s outputs (`loss`, then `θ′`, `m′`, `v′` flattened as `W₁ | b₁ | W₂ | b₂`) as
    /// (expected, enclosure, direction undetermined): `x_t′` by S6/E2's enclosure, the loss and
    /// gradient by S9/E2's analysis, each entry's Adam step by S9/E5's.
    static func tauStepBounds(_ input: JSONValue, expected: JSONValue) -> [(String, [(Double, Enclosure, Bool)])] {
        func flat(_ value: JSONValue) -> [Double] {
            ["w1", "b1", "w2", "b2"].flatMap { name in value[name]!.arrayValue!.flatMap { $0.doubleArray ?? [$0.doubleValue!] } }
        }
        func matrix(_ name: String) -> [[Double]] { input[name]!.arrayValue!.map { $0.doubleArray! } }
        let table = try! OperationInput(input).schedule(), sigma = input["sigma"]!.doubleValue!
        let positives = matrix("positives"), users = matrix("users"), targets = matrix("targetNoise")
        let timesteps = input["timesteps"]!.arrayValue!.map { $0.intValue! }, d = positives[0].count
        let inputs = timesteps.indices.map { b -> [Enclosure] in
            let x0 = positives[b].map(Float.init)
            let xt = x0.withUnsafeBufferPointer {
                EquivalenceAnalysis.syntheticNegative(
                    positive: $0, epsilon: targets[b], noiseError: { _ in 0 }, timestep: timesteps[b], schedule: table, sigma: sigma)
            }
            return xt + ReferenceADAR.positionalEncoding(timestep: timesteps[b], dimension: d).map { Enclosure.rounded($0) }
                + users[b].map { .exact($0) }
        }
        let parameters = flat(input).map(Float.init), m = flat(input["firstMoment"]!).map(Float.init), v = flat(input["secondMoment"]!).map(Float.init)
        let (loss, gradient) = TauEquivalenceAnalysis.lossAndGradient(
            parameters, dimension: d, inputs: inputs, targets: targets.map { $0.map { .exact($0) } })
        let step = input["step"]!.intValue!, learningRate = Float(input["learningRate"]!.doubleValue!)
        let steps = parameters.indices.map {
            AdamStepEnclosure(parameter: parameters[$0], firstMoment: m[$0], secondMoment: v[$0], gradient: gradient[$0], step: step, learningRate: learningRate)
        }
        let (theta, first, second) = (flat(expected), flat(expected["firstMoment"]!), flat(expected["secondMoment"]!))
        return [
            ("loss", [(expected["loss"]!.doubleValue!, loss, false)]),
            ("θ′", steps.indices.map { (theta[$0], steps[$0].parameter, steps[$0].directionUndetermined) }),
            ("m′", steps.indices.map { (first[$0], steps[$0].firstMoment, false) }),
            ("v′", steps.indices.map { (second[$0], steps[$0].secondMoment, false) }),
        ]
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
