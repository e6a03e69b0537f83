import Foundation
import Testing
import ADARCore
import ADARReference
@testable import ADARVerification

/// docs/Shrinking.md: the reference's own randomised claims (S1/R1, S1.a/M1, S1.b/C1, S1.c/V1, S1.d/L1, S2.a/P1,
/// S4.b/D1, M1, N1, S7/F1, S9/P1) shrink their first failing input when handed a deliberately broken
/// implementation, to a simpler input that still fails, that the reference passes, and that no
/// simpler candidate improves on.
@Suite("Shrinking the reference's randomised claims")
struct ShrinkingReferenceTests {
    static func seed(_ id: String) throws -> UInt64 { try #require(Claims.claim(id)).defaultSeed }

    /// `counterexample`'s minimal case fails with the broken implementation (`fails`), passes with
    /// the reference (`passes`), and no strictly smaller candidate still fails.
    func expectMinimal<Case: Shrinkable>(
        _ counterexample: Counterexample, as _: Case.Type, fails: (Case) throws -> Bool, passes: (Case) throws -> Bool,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Case {
        let minimal = try #require(counterexample.minimal as? Case, sourceLocation: sourceLocation)
        #expect(!counterexample.budgetExhausted, "\(counterexample)", sourceLocation: sourceLocation)
        #expect(try fails(minimal), "the minimal input no longer fails: \(counterexample)", sourceLocation: sourceLocation)
        #expect(try passes(minimal), "the reference fails too: \(counterexample)", sourceLocation: sourceLocation)
        for candidate in minimal.shrinkCandidates where candidate.shrinkSize.lexicographicallyPrecedes(minimal.shrinkSize) {
            // As for the shrinker, a candidate whose check throws is not a counterexample.
            #expect((try? fails(candidate)) != true, "a simpler input still fails: \(candidate.summary)", sourceLocation: sourceLocation)
        }
        return minimal
    }

    // MARK: S4.b

    /// Broken S4.b models, each caught by one claim (as in `RetentionTests`).
    static func broken(for claim: RetentionClaim) -> RetentionModel {
        var model = RetentionModel.reference
        switch claim {
        case .marginDerivative:
            // Exponent ½ instead of 3/2 in g'.
            model.marginDerivative = { a, s0, sNeg, n in (s0 - a * sNeg) / (n * (1 - a * a).squareRoot()) }
        case .monotonicity:
            // The wrong sign convention: g = (s⁻ − a·s_0)/(n·√(1 − a²)).
            model.margin = { a, s0, sNeg, n in (sNeg - a * s0) / (n * (1 - a * a).squareRoot()) }
        case .nonMonotonicity:
            // |s_0| keeps g monotone outside the valid domain.
            model.margin = { a, s0, sNeg, n in (a * abs(s0) - sNeg) / (n * (1 - a * a).squareRoot()) }
        }
        return model
    }

    @Test("S4.b/D1, M1, N1 shrink a broken model's first failing input to simpler values (M1: T ≤ 2) that still fail, and only those",
          arguments: RetentionClaim.allCases)
    func retentionClaimShrinks(_ claim: RetentionClaim) throws {
        let broken = Self.broken(for: claim)
        let seed = try Self.seed(claim.rawValue)
        let result = switch claim {
        case .marginDerivative: try RetentionChecks.checkMarginDerivative(seed: seed, model: broken, cases: 100)
        case .monotonicity: try RetentionChecks.checkMonotonicity(seed: seed, model: broken, inputs: 20)
        case .nonMonotonicity: try RetentionChecks.checkNonMonotonicity(seed: seed, model: broken, cases: 5)
        }
        #expect(!result.passed)
        let counterexample = try #require(result.counterexample, "\(result)")
        let minimal = try expectMinimal(
            counterexample, as: RetentionCase.self,
            fails: { try !RetentionChecks.check(claim, on: $0, model: broken).passed },
            passes: { try RetentionChecks.check(claim, on: $0).passed })
        // Every value is at most a short decimal: 0, ±1, ±2ᵏ, an integer, or one or two digits.
        #expect(minimal.values.allSatisfy { Simplicity.rank($0) <= 6 }, "\(counterexample)")
        if claim == .monotonicity { #expect((minimal.schedule?.steps ?? .max) <= 2, "\(counterexample)") }
        // The test's own model cannot be printed: the snippet leaves a placeholder for it.
        #expect(counterexample.swiftTest.contains("let c = \(minimal.swiftExpression)"))
        #expect(counterexample.swiftTest.contains("RetentionChecks.check(.\(claim), on: c, model: <#the test's model#>)"))
        #expect(result.description.contains("replay: adar verify --claim \(claim.rawValue) --seed \(seed)"))
    }

    @Test("S4.b's claims still pass with the reference, and carry no counterexample")
    func retentionClaimsPass() throws {
        for claim in RetentionClaim.allCases {
            let result = try #require(Claims.claim(claim.rawValue)).run()
            #expect(result.passed && result.counterexample == nil, "\(result)")
        }
    }

    @Test("S4.b/M1: a shrunk schedule is printed so that it rebuilds the same case")
    func retentionCasePrintsItsSchedule() throws {
        let c = RetentionCase(s0: 1, sNeg: 0.5, n: 2, schedule: try NoiseSchedule(.linear(start: 0.25, end: 0.5), steps: 2))
        #expect(c.swiftExpression == "try RetentionCase(s0: 1.0, sNeg: 0.5, n: 2.0, schedule: NoiseSchedule(.linear(start: 0.25, end: 0.5), steps: 2))")
        #expect(RetentionCase(s0: 1, sNeg: 0, n: 1, a: 0.5).swiftExpression == "RetentionCase(s0: 1.0, sNeg: 0.0, n: 1.0, a: 0.5)")
    }

    // MARK: S7/F1

    @Test("S7/F1 shrinks the naive log(1 + eˣ)'s first failing point to a simpler one that still fails, and only that")
    func softplusShrinks() throws {
        let naive = { (x: Double) in log(1 + exp(x)) }
        let result = try LossChecks.checkSoftplus(seed: Self.seed("S7/F1"), softplus: naive)
        #expect(!result.passed)
        let counterexample = try #require(result.counterexample, "\(result)")
        let minimal = try expectMinimal(
            counterexample, as: SoftplusCase.self,
            fails: { try !LossChecks.checkSoftplus(on: $0, softplus: naive).passed },
            passes: { try LossChecks.checkSoftplus(on: $0).passed })
        #expect(Simplicity.rank(minimal.x) <= 3, "an integer or simpler: \(counterexample)")
        #expect(counterexample.swiftTest.contains("let c = SoftplusCase(x: \(minimal.x))"))
        #expect(counterexample.swiftTest.contains("LossChecks.checkSoftplus(on: c, softplus: <#the test's softplus#>)"))
    }

    @Test("S7/F1 shrinks the naive −log(sigmoid(−x))'s first failure, in its lost far-negative tail, to −512")
    func softplusTailShrinks() throws {
        let naive = { (x: Double) in -log(1 / (1 + exp(x))) }
        let result = try LossChecks.checkSoftplus(seed: Self.seed("S7/F1"), softplus: naive)
        let counterexample = try #require(result.counterexample, "\(result)")
        let minimal = try expectMinimal(
            counterexample, as: SoftplusCase.self,
            fails: { try !LossChecks.checkSoftplus(on: $0, softplus: naive).passed },
            passes: { try LossChecks.checkSoftplus(on: $0).passed })
        // 1 + e⁻⁵¹² rounds to 1: the naive form returns 0 where softplus is e⁻⁵¹².
        #expect(minimal.x == -512 && naive(minimal.x) == 0, "\(counterexample)")
        #expect(counterexample.drawnSummary == "x = -742.5 (point #515)")
    }

    @Test("S7/F1: a point outside [−1000, 1000] is outside the claim and passes whatever softplus does")
    func softplusDomain() throws {
        #expect(try LossChecks.checkSoftplus(on: SoftplusCase(x: 1024), softplus: { _ in .nan }).passed)
        #expect(try !LossChecks.checkSoftplus(on: SoftplusCase(x: 512), softplus: { _ in .nan }).passed)
    }

    // MARK: S2.a/P1

    /// Broken S2 samplers that S2.a/P1 catches (as in `ForwardProcessTests`), and the `d` each needs.
    static let brokenSamplers: [(name: String, dimension: Int, sample: ForwardSampler)] = [
        ("reads ε one component off", 2, { x0, epsilon, t, schedule, sigma in
            ReferenceADAR.forwardSample(x0: x0, epsilon: Array(epsilon.dropFirst()) + [epsilon[0]], timestep: t, schedule: schedule, sigma: sigma)
        }),
        ("scales x_0 by ᾱ_t instead of √ᾱ_t", 1, { x0, epsilon, t, schedule, sigma in
            zip(x0, epsilon).map { schedule.alphaBar[t] * $0 + schedule.sqrtOneMinusAlphaBar[t] * (sigma * $1) }
        }),
    ]

    @Test("S2.a/P1 shrinks a broken sampler's first failing case to the fewest components it needs, T ≤ 2, simple values",
          arguments: brokenSamplers.indices)
    func orthogonalNoiseShrinks(_ which: Int) throws {
        let (name, dimension, sample) = Self.brokenSamplers[which]
        var broken = ForwardProcessModel.reference
        broken.sample = sample
        let result = try ForwardProcessChecks.checkOrthogonalNoise(seed: Self.seed("S2.a/P1"), model: broken, cases: 50)
        #expect(!result.passed, "\(name)")
        let counterexample = try #require(result.counterexample, "\(result)")
        let minimal = try expectMinimal(
            counterexample, as: OrthogonalNoiseCase.self,
            fails: { !ForwardProcessChecks.checkOrthogonalNoise(on: $0, model: broken).passed },
            passes: { ForwardProcessChecks.checkOrthogonalNoise(on: $0).passed })
        #expect(minimal.user.count == dimension && minimal.schedule.steps <= 2 && minimal.timestep <= 2, "\(name): \(counterexample)")
        #expect(counterexample.steps > 0 && counterexample.drawnSummary.hasPrefix("d = "), "\(counterexample)")
        #expect(counterexample.swiftTest.contains("let c = \(minimal.swiftExpression.replacingOccurrences(of: "\n", with: "\n    "))"))
        #expect(counterexample.swiftTest.contains("ForwardProcessChecks.checkOrthogonalNoise(on: c, model: <#the test's model#>)"))
    }

    @Test("S2.a/P1: a case given by values with the wrong shape or timestep is refused, naming the field")
    func orthogonalNoiseCaseShapes() throws {
        let schedule = try NoiseSchedule(.linear(start: 0.25, end: 0.5), steps: 2)
        #expect(throws: ADARError.shapeMismatch(field: "noise", expected: 2, actual: 1)) {
            try OrthogonalNoiseCase(schedule: schedule, timestep: 1, sigma: 1, user: [1, 0], x0: [1, 1], noise: [1])
        }
        #expect(throws: ADARError.indexOutOfRange(row: 0, field: "timestep", index: 3, count: 3)) {
            try OrthogonalNoiseCase(schedule: schedule, timestep: 3, sigma: 1, user: [1], x0: [1], noise: [1])
        }
    }

    // MARK: S9/P1

    @Test("S9/P1 shrinks a broken PE(t)'s first failing (t, d) to the smallest that still fails: t = 1 and the first d that shows the bug",
          arguments: [(true, 0, 1), (false, 1, 3), (false, 2, 2)])
    func encodingShrinks(swapped: Bool, exponentBug: Int, dimension: Int) throws {
        let exponents: [(Int, Int) -> Double] = [
            { k, d in -Double(k - k % 2) / Double(d) },    // S9's exponent (only sin and cos swapped)
            { k, d in -Double((k - k % 2) / d) },          // integer division: every frequency 1
            { k, d in -Double(k) / Double(d) },            // k in place of k − k mod 2
        ]
        let broken = TauClaimTests.encoding(exponent: exponents[exponentBug], swapped: swapped)
        let result = try TauChecks.checkPositionalEncoding(seed: Self.seed("S9/P1"), encoding: broken)
        #expect(!result.passed)
        let counterexample = try #require(result.counterexample, "\(result)")
        let minimal = try expectMinimal(
            counterexample, as: EncodingCase.self,
            fails: { !TauChecks.checkPositionalEncoding(on: $0, encoding: broken).passed },
            passes: { TauChecks.checkPositionalEncoding(on: $0).passed })
        #expect(minimal.timestep == 1 && minimal.dimension == dimension, "\(counterexample)")
        #expect(counterexample.swiftTest.contains("let c = EncodingCase(timestep: 1, dimension: \(dimension))"))
        #expect(counterexample.swiftTest.contains("TauChecks.checkPositionalEncoding(on: c, encoding: <#the test's encoding#>)"))
    }

    @Test("S9/P1 shrinks a PE(t) that is wrong only from t = 64 on to exactly t = 64, d = 1")
    func encodingShrinksLargeTimestep() throws {
        let broken: TauChecks.PositionalEncodingFunction = { t, d in
            ReferenceADAR.positionalEncoding(timestep: t >= 64 ? t - 1 : t, dimension: d)
        }
        let result = try TauChecks.checkPositionalEncoding(seed: Self.seed("S9/P1"), encoding: broken)
        let counterexample = try #require(result.counterexample, "\(result)")
        let minimal = try expectMinimal(
            counterexample, as: EncodingCase.self,
            fails: { !TauChecks.checkPositionalEncoding(on: $0, encoding: broken).passed },
            passes: { TauChecks.checkPositionalEncoding(on: $0).passed })
        #expect(counterexample.steps > 0 && minimal.dimension == 1 && minimal.timestep == 64, "\(counterexample)")
        #expect(counterexample.drawnSummary == "t = 100, d = 1 (case #4)")
    }

    // MARK: The printed test is ready to paste

    /// The S2.a/P1 counterexample of the shifted-noise sampler as the sweep prints it, pasted with
    /// its placeholder filled in (`Self.shiftedNoise`) and its `@Test` attribute dropped.
    func minimalCounterexampleS2aP1() throws {
        let c = try OrthogonalNoiseCase(
            schedule: NoiseSchedule(.custom(betas: [0.125]), steps: 1),
            timestep: 1, sigma: 1.0,
            user: [0.0, -1.0],
            x0: [0.0, 0.0],
            noise: [1.0, 0.0])
        let result = try ForwardProcessChecks.checkOrthogonalNoise(on: c, model: Self.shiftedNoise)
        #expect(result.passed, "\(result)")
    }

    static var shiftedNoise: ForwardProcessModel {
        var model = ForwardProcessModel.reference
        model.sample = brokenSamplers[0].sample
        return model
    }

    @Test("S2.a/P1: the printed counterexample, pasted, compiles, fails with its bug, and is what the sweep prints today")
    func pastedCounterexampleFails() throws {
        withKnownIssue("S2.a/P1 with the shifted-noise sampler") { try minimalCounterexampleS2aP1() }
        let printed = try #require(
            try ForwardProcessChecks.checkOrthogonalNoise(seed: Self.seed("S2.a/P1"), model: Self.shiftedNoise, cases: 50).counterexample
        ).swiftTest
        let lines = try String(contentsOfFile: #filePath, encoding: .utf8).components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "    func minimalCounterexampleS2aP1() throws {"))
        let end = try #require(lines[start...].firstIndex(of: "    }"))
        let pasted = lines[start...end].map { String($0.dropFirst(4)) }.joined(separator: "\n")
            .replacingOccurrences(of: "model: Self.shiftedNoise", with: "model: <#the test's model#>")
        #expect(printed == "@Test(\"S2.a/P1 minimal counterexample\")\n" + pasted)
    }

    // MARK: Coverage

    /// The claim IDs in one bold-headed list of docs/Shrinking.md's coverage section.
    static func documentedIDs(_ section: Substring) -> Set<String> {
        Set(section.matches(of: /S\d[0-9a-z.]*\/[A-Z]\d/).map { String($0.output) })
    }

    @Test("docs/Shrinking.md's coverage lists partition the claims of adar verify: shrunk, nothing to shrink, not shrunk yet (none left)")
    func coverageIsComplete() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/Shrinking.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let coverage = try #require(text.range(of: "### Coverage of every claim"))
        let end = try #require(text.range(of: "\nEach claim of the reference decides", range: coverage.upperBound..<text.endIndex))
        let body = text[coverage.upperBound..<end.lowerBound]
        let shrunkStart = try #require(body.range(of: "**Shrunk**")), noneStart = try #require(body.range(of: "**Nothing to shrink**"))
        let notYetStart = try #require(body.range(of: "**Randomised, not shrunk yet**"))
        let shrunk = Self.documentedIDs(body[shrunkStart.upperBound..<noneStart.lowerBound])
        let nothing = Self.documentedIDs(body[noneStart.upperBound..<notYetStart.lowerBound])
        let notYet = Self.documentedIDs(body[notYetStart.upperBound...])
        let all = Set(Claims.all.map(\.id))
        #expect(shrunk.isDisjoint(with: nothing) && shrunk.isDisjoint(with: notYet) && nothing.isDisjoint(with: notYet))
        #expect(shrunk.union(nothing).union(notYet) == all, "missing \(all.subtracting(shrunk.union(nothing).union(notYet)).sorted()), unknown \(shrunk.union(nothing).union(notYet).subtracting(all).sorted())")
        #expect(shrunk.count == 36 && notYet.isEmpty, "shrunk \(shrunk.sorted()), not yet \(notYet.sorted())")
    }

    // MARK: S1

    /// The broken builders of `ScheduleTests`, with a claim that catches each.
    static let brokenBuilders: [(claim: ScheduleClaim, name: String, builder: ScheduleBuilder)] = [
        (.independentRecomputation, "linspace over T", ScheduleTests.linspaceOverT),
        (.independentRecomputation, "ddpm-linear without the 1000/T rescale", ScheduleTests.ddpmWithoutRescale),
        (.independentRecomputation, "ᾱ in Float", ScheduleTests.alphaBarInFloat),
        (.monotoneAlphaBar, "cosine without clipping", ScheduleTests.cosineWithoutClipping),
        (.cosineClosedForm, "cosine off by one step", ScheduleTests.cosineShiftedByOne),
        (.linearVarianceClosedForm, "linspace over T", ScheduleTests.linspaceOverT),
        (.logSum, "ᾱ in Float", ScheduleTests.alphaBarInFloat),
    ]

    @Test("S1/R1, S1.a/M1, S1.b/C1, S1.c/V1, S1.d/L1 shrink a broken builder's first failing schedule to T ≤ 2 and simpler parameters that still fail, and only those",
          arguments: brokenBuilders.indices)
    func scheduleClaimShrinks(_ which: Int) throws {
        let (claim, name, broken) = Self.brokenBuilders[which]
        let seed = try Self.seed(claim.rawValue)
        let result = switch claim {
        case .independentRecomputation: try ScheduleChecks.checkIndependentRecomputation(builder: broken, seed: seed)
        case .monotoneAlphaBar: try ScheduleChecks.checkMonotoneAlphaBar(builder: broken, seed: seed)
        case .cosineClosedForm: try ScheduleChecks.checkCosineClosedForm(builder: broken, seed: seed)
        case .linearVarianceClosedForm: try ScheduleChecks.checkLinearVarianceClosedForm(builder: broken, seed: seed)
        case .logSum: try ScheduleChecks.checkLogSum(builder: broken, seed: seed)
        }
        #expect(!result.passed, "\(name)")
        let counterexample = try #require(result.counterexample, "\(name): \(result)")
        let minimal = try expectMinimal(
            counterexample, as: ScheduleCase.self,
            fails: { try !ScheduleChecks.check(claim, on: $0, builder: broken).passed },
            passes: { try ScheduleChecks.check(claim, on: $0).passed })
        // At most three significant digits (maxBeta = 0.999 is as simple as the domain allows).
        #expect(minimal.steps <= 2 && minimal.parameters.allSatisfy { Simplicity.rank($0) <= 7 }, "\(name): \(counterexample)")
        #expect(counterexample.swiftTest.contains("let c = \(minimal.swiftExpression)"))
        #expect(counterexample.swiftTest.contains("ScheduleChecks.check(.\(claim), on: c, builder: <#the test's builder#>)"))
    }

    @Test("S1's shrinking claims still pass with NoiseSchedule, and carry no counterexample")
    func scheduleClaimsPass() throws {
        for claim in ScheduleClaim.allCases {
            let result = try #require(Claims.claim(claim.rawValue)).run()
            #expect(result.passed && result.counterexample == nil, "\(result)")
        }
    }
}
