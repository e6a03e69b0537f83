import Foundation
import Testing
import ADARCore
import ADARReference
@testable import ADARVerification

/// docs/Shrinking.md: S7/G1, S7/L1, S9/F1 and S9/G1 shrink their first failing row, when handed a
/// deliberately broken implementation (the bugs `LossTests` and `TauClaimTests` reject), to a smaller
/// row that still fails, that the reference passes, and that no simpler candidate improves on.
@Suite("Shrinking S7/G1, S7/L1, S9/F1 and S9/G1")
struct ShrinkingRemainingTests {
    /// `result` fails; its counterexample is minimal (`ShrinkingReferenceTests.expectMinimal`), printed as a
    /// test that rebuilds it and runs `call` (with the placeholder for the test's own implementation),
    /// followed by the replay line.
    func expectShrunk<Case: Shrinkable>(
        _ result: ClaimResult, seed: UInt64, as type: Case.Type, call: String,
        fails: (Case) throws -> Bool, passes: (Case) throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (minimal: Case, counterexample: Counterexample) {
        #expect(!result.passed, sourceLocation: sourceLocation)
        let counterexample = try #require(result.counterexample, "\(result)", sourceLocation: sourceLocation)
        let minimal = try ShrinkingReferenceTests().expectMinimal(
            counterexample, as: type, fails: fails, passes: passes, sourceLocation: sourceLocation)
        let expression = minimal.swiftExpression.replacingOccurrences(of: "\n", with: "\n    ")
        #expect(counterexample.swiftTest.contains("let c = " + expression), sourceLocation: sourceLocation)
        #expect(counterexample.swiftTest.contains("let result = try " + call), sourceLocation: sourceLocation)
        #expect(result.description.contains("replay: adar verify --claim \(result.id) --seed \(seed)"), sourceLocation: sourceLocation)
        return (minimal, counterexample)
    }

    @Test("S7/G1, S7/L1, S9/F1 and S9/G1 still pass with the reference, and carry no counterexample",
          arguments: ["S7/G1", "S7/L1", "S9/F1", "S9/G1"])
    func claimsPass(_ id: String) throws {
        let result = try #require(Claims.claim(id)).run()
        #expect(result.passed && result.counterexample == nil, "\(result)")
    }

    /// Broken S7 losses, each caught by one claim.
    enum BrokenLoss: String, CaseIterable, CustomTestStringConvertible {
        case missingL2OnNegative = "G1: the λ term missing on e_j"
        case ignoringThrough = "G1: through treated as detach"
        case ignoringWeight = "L1: the weight w ignored"

        var testDescription: String { rawValue }

        var claim: LossClaim { self == .ignoringWeight ? .lossValue : .gradients }

        var loss: LossChecks.RowLossFunction {
            switch self {
            case .missingL2OnNegative:
                { batch, b, outcome, schedule, config in
                    var result = ReferenceADAR.loss(batch, row: b, outcome: outcome, schedule: schedule, configuration: config)
                    for (k, x) in batch.candidate(b, 0).enumerated() { result.poolGradient[k] -= config.l2 * x }
                    return result
                }
            case .ignoringThrough:
                { batch, b, outcome, schedule, config in
                    var detached = config
                    detached.gradientFlow = .detach
                    return ReferenceADAR.loss(batch, row: b, outcome: outcome, schedule: schedule, configuration: detached)
                }
            case .ignoringWeight: LossTests.ignoringWeight
            }
        }
    }

    @Test("S7/G1 and S7/L1 shrink a broken loss's first failing row to d = 1, M = 1, T ≤ 2 that still fails, and only that",
          arguments: BrokenLoss.allCases)
    func lossClaimShrinks(_ bug: BrokenLoss) throws {
        let seed = try ShrinkingReferenceTests.seed(bug.claim.rawValue)
        let result = switch bug.claim {
        case .gradients: try LossChecks.checkGradients(seed: seed, loss: bug.loss)
        case .lossValue: try LossChecks.checkLossValue(seed: seed, loss: bug.loss)
        }
        let (minimal, counterexample) = try expectShrunk(
            result, seed: seed, as: LossCase.self,
            call: "LossChecks.check(.\(bug.claim), on: c, loss: <#the test's loss#>)",
            fails: { try !LossChecks.check(bug.claim, on: $0, loss: bug.loss).passed },
            passes: { try LossChecks.check(bug.claim, on: $0).passed })
        #expect(minimal.dimension == 1 && minimal.poolSize == 1 && minimal.schedule.steps <= 2, "\(counterexample)")
        #expect(minimal.values.allSatisfy { Simplicity.rank($0) <= 6 }, "\(counterexample)")
    }

    @Test("A LossCase is checked: shapes and σ > 0, with the field named")
    func lossCaseShapes() throws {
        let schedule = try NoiseSchedule(.linear(start: 0.25, end: 0.5), steps: 2)
        func make(sigma: Double = 1, pool: [Double] = [1], epsilon: [Double] = [0]) throws -> LossCase {
            try LossCase(schedule: schedule, sigma: sigma, dimension: 1, poolSize: 1, user: [1], positive: [1], pool: pool, epsilon: epsilon)
        }
        _ = try make()
        #expect { try make(pool: [1, 2]) } throws: { "\($0)".contains("pool") }
        #expect { try make(epsilon: []) } throws: { "\($0)".contains("epsilon") }
        #expect { try make(sigma: 0) } throws: { "\($0)".contains("sigma") }
    }

    /// The S7/L1 counterexample of `lossClaimShrinks` (the weight `w` ignored) as printed, with the
    /// placeholder filled in: it compiles, fails with the bug and passes with the reference.
    @Test("The printed S7/L1 counterexample, pasted verbatim, fails with its bug only")
    func pastedLossCounterexample() throws {
        let c = try LossCase(
            schedule: try NoiseSchedule(.custom(betas: [0.0001220703125]), steps: 1),
            sigma: 1.0, dimension: 1, poolSize: 1,
            user: [0.0],
            positive: [0.0],
            pool: [0.0],
            epsilon: [0.0])
        let result = try LossChecks.check(.lossValue, on: c, loss: LossTests.ignoringWeight)
        #expect(!result.passed, "\(result)")
        #expect(try LossChecks.check(.lossValue, on: c).passed)
    }

    // MARK: S9/F1 and S9/G1

    /// Broken τ implementations, each caught by one claim, with the largest `d` the minimal row may need.
    enum BrokenTau: String, CaseIterable, CustomTestStringConvertible {
        case inputOrder = "F1: τ's input in the order [PE(t) ; x_t ; e_u]"
        case lossNotMean = "F1: L_τ without the division by d"
        case gradientMissingTwo = "G1: ∂L_τ/∂θ missing the factor 2 of the square"

        var testDescription: String { rawValue }

        var claim: TauRowClaim { self == .gradientMissingTwo ? .gradient : .forward }

        /// `L_τ·d` equals `L_τ` at `d = 1`: that bug needs two components.
        var largestDimension: Int { self == .lossNotMean ? 2 : 1 }

        var implementation: TauRowImplementation {
            var tau = TauRowImplementation.reference
            switch self {
            case .inputOrder:
                tau.predict = { p, xt, t, user in
                    ReferenceADAR.tauForward(p, input: ReferenceADAR.positionalEncoding(timestep: t, dimension: xt.count) + xt + user).output
                }
            case .lossNotMean:
                tau.loss = { p, xt, t, user, target in
                    var result = ReferenceADAR.tauLoss(p, noisy: xt, timestep: t, user: user, target: target)
                    result.loss *= Double(p.dimension)
                    return result
                }
            case .gradientMissingTwo:
                tau.loss = { p, xt, t, user, target in
                    var result = ReferenceADAR.tauLoss(p, noisy: xt, timestep: t, user: user, target: target)
                    result.gradient = TauParameters(dimension: p.dimension, flattened: result.gradient.flattened.map { $0 / 2 })
                    return result
                }
            }
            return tau
        }
    }

    @Test("S9/F1 and S9/G1 shrink a broken τ's first failing row to d ≤ 2, t = 1 that still fails, and only that",
          arguments: BrokenTau.allCases)
    func tauRowClaimShrinks(_ bug: BrokenTau) throws {
        let seed = try ShrinkingReferenceTests.seed(bug.claim.rawValue)
        let tau = bug.implementation
        let result = switch bug.claim {
        case .forward: try TauChecks.checkForward(seed: seed, predict: tau.predict, loss: tau.loss)
        case .gradient: try TauChecks.checkGradient(seed: seed, loss: tau.loss)
        }
        let (minimal, counterexample) = try expectShrunk(
            result, seed: seed, as: TauRowCase.self,
            call: "TauChecks.check(.\(bug.claim), on: c, implementation: <#the test's implementation#>)",
            fails: { try !TauChecks.check(bug.claim, on: $0, implementation: tau).passed },
            passes: { try TauChecks.check(bug.claim, on: $0).passed })
        #expect(minimal.dimension <= bug.largestDimension && minimal.timestep == 1, "\(counterexample)")
    }

    @Test("A TauRowCase is checked: d ≥ 1, the parameters' and vectors' shapes, t ≥ 1, with the field named")
    func tauRowCaseShapes() throws {
        func make(dimension: Int = 1, parameters: Int = 21, user: [Double] = [0], timestep: Int = 1) throws -> TauRowCase {
            try TauRowCase(dimension: dimension, parameters: Array(repeating: 0, count: parameters), noisy: [0],
                           timestep: timestep, user: user, target: [0])
        }
        _ = try make()
        #expect { try make(dimension: 0) } throws: { "\($0)".contains("dimension") }
        #expect { try make(parameters: 20) } throws: { "\($0)".contains("parameters") }
        #expect { try make(user: [0, 0]) } throws: { "\($0)".contains("user") }
        #expect { try make(timestep: 0) } throws: { "\($0)".contains("timestep") }
    }
}
