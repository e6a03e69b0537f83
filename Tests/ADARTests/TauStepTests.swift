import Foundation
import Testing
import ADARCore
import ADAR
import ADARFixtures
import ADARProtocol
import ADARReference
import ADARConformance
import ADARVerification

/// S9's training step (2) in the conformance set: tau_step.json, the `tauStep`
/// cases of invalid_inputs.json, its tolerance model (Proofs/S9-binary32-tau.md,
/// S9/E5; Proofs/conformance-tolerances.md, S9/K1) and its Adam hints.
@Suite("Fixtures: S9 τ step (tauStep)")
struct TauStepFixturesTests {
    static var files: [FixtureFile] { FixtureGenerator.generateAll() }
    static var stepFile: FixtureFile { files.first { $0.name == "tau_step.json" }! }

    /// Every parameter of a `w1, b1, w2, b2` object, in that order.
    static func flat(_ value: JSONValue) -> [Double] {
        ["w1", "b1", "w2", "b2"].flatMap { name in value[name]!.arrayValue!.flatMap { $0.doubleArray ?? [$0.doubleValue!] } }
    }

    /// Both in-process ports refusing these invalid cases: `TauFixturesTests` ("both in-process ports refuse every invalid τ case").
    @Test("tau_step.json: both precisions, the at-target section's own tolerances, every Adam flag, invalid cases")
    func coverage() throws {
        let file = Self.stepFile
        #expect(Set(file.testGroups.map(\.precision)) == [.binary64, .binary32])
        #expect(file.testGroups.count == 4 && file.testGroups.allSatisfy { !$0.tests.isEmpty && $0.operation == .tauStep })
        let atTarget = file.testGroups.filter { $0.tests.allSatisfy { $0.flags.contains("AdamDirectionUndetermined") } }
        #expect(atTarget.count == 2)
        for group in atTarget {
            let lr = try #require(group.tests.first?.input["learningRate"]?.doubleValue)
            #expect(group.tolerance == .tauStepAtTarget(learningRate: lr, precision: group.precision))
        }
        for group in file.testGroups where !atTarget.contains(group) {
            #expect(group.tolerance == .of(.tauStep, precision: group.precision))
            #expect(group.tests.allSatisfy { !$0.flags.contains("AdamDirectionUndetermined") })
        }
        let flags = Set(file.testGroups.flatMap { $0.tests.flatMap(\.flags) })
        for flag in ["AdamFirstStep", "AdamBiasCorrection", "StepCount", "AdamEpsilon", "NoWeightDecay", "MomentOrder", "BatchMean",
                     "ZeroGradient", "AdamDirectionUndetermined", "NoiseScale", "OddDimension"] {
            #expect(flags.contains(flag), "no tauStep test flagged \(flag)")
        }
        let steps = Set(file.cases.compactMap { $0.test.input["step"]?.intValue })
        #expect(steps.contains(1) && steps.contains { $0 > 1 })
        let invalid = try #require(Self.files.first { $0.name == "invalid_inputs.json" })
        let refusals = invalid.cases.filter { $0.operation == .tauStep }.map { $0.test.expected["error"]!["field"]!.stringValue! }
        #expect(Set(refusals).isSuperset(of: ["learningRate", "step", "secondMoment.b2", "firstMoment.w1", "users", "timesteps", "targetNoise", "positives"]))
    }

    /// S9's Adam written out on the fixture's own numbers: at s = 1 from zero moments an entry
    /// with g = 0 stays where it is; at s > 1 it moves by momentum alone,
    /// `θ′ = θ − lr·(0.9m/(1 − 0.9ˢ))/(√(0.999v/(1 − 0.999ˢ)) + 10⁻⁸)`, `m′ = 0.9m`, `v′ = 0.999v`.
    @Test("ZeroGradient cases: g = 0 entries stay put at s = 1 and move by momentum alone at s > 1")
    func zeroGradientClosedForm() throws {
        let cases = Self.stepFile.cases.filter { $0.precision == .binary64 && $0.test.flags.contains("ZeroGradient") }
        #expect(cases.count == 2)
        var checked = 0
        for test in cases {
            let input = test.test.input, expected = test.test.expected
            let d = input["users"]!.arrayValue![0].doubleArray!.count
            let positives = input["positives"]!.arrayValue!.map { $0.doubleArray! }, users = input["users"]!.arrayValue!.map { $0.doubleArray! }
            // W₁'s column i has gradient 0 when v_i = 0 in every row: x_t′,k = 0 (k < d) or e_u,k = 0 (i = 2d + k).
            let columns = (0..<d).filter { k in positives.allSatisfy { $0[k] == 0 } } + (0..<d).filter { k in users.allSatisfy { $0[k] == 0 } }.map { 2 * d + $0 }
            #expect(columns.count == 2)
            let theta = Self.flat(input), m = Self.flat(input["firstMoment"]!), v = Self.flat(input["secondMoment"]!)
            let newTheta = Self.flat(expected), newM = Self.flat(expected["firstMoment"]!), newV = Self.flat(expected["secondMoment"]!)
            let s = Double(input["step"]!.intValue!), lr = input["learningRate"]!.doubleValue!
            for row in 0 ..< 4 * d {
                for column in columns {
                    let k = row * 3 * d + column
                    #expect(newM[k] == 0.9 * m[k] && newV[k] == 0.999 * v[k], "\(test.id) entry \(k)")
                    let step = lr * (0.9 * m[k] / (1 - pow(0.9, s))) / ((0.999 * v[k] / (1 - pow(0.999, s))).squareRoot() + 1e-8)
                    #expect(abs(newTheta[k] - (theta[k] - step)) <= 1e-15, "\(test.id) entry \(k): \(newTheta[k]) vs \(theta[k] - step)")
                    checked += 1
                }
            }
        }
        #expect(checked == 4 * 3 * 2 + 4 * 2 * 2, "W₁'s zero-gradient entries: 4d rows × 2 columns, d = 3 and d = 2")
    }

    @Test("S6/F2 covers tauStep: an updated weight off by 1e-9 relative is rejected by the Float80 cross-check")
    func crossCheckRejectsCorruptedStep() {
        var fixtures = Self.files
        let f = fixtures.firstIndex { $0.name == "tau_step.json" }!
        var test = fixtures[f].testGroups[0].tests[1]
        var fields = test.expected.objectFields!
        let b1 = fields.firstIndex { $0.0 == "b1" }!
        var values = fields[b1].1.doubleArray!
        values[0] *= 1 + 1e-9
        fields[b1].1 = .reals(values)
        test.expected = .object(fields)
        fixtures[f].testGroups[0].tests[1] = test
        expectRejected(ConformanceToleranceChecks.checkBinary64Expectations(fixtures: fixtures))
    }

    @Test("S9/K1 rejects the binary32 tauStep tolerances tightened 16-fold, and the at-target allowance 4·lr halved twice")
    func derivedBoundsRejectTighterTolerance() {
        for atTarget in [false, true] {
            var fixtures = Self.files
            for f in fixtures.indices {
                for g in fixtures[f].testGroups.indices where fixtures[f].testGroups[g].operation == .tauStep
                    && fixtures[f].testGroups[g].precision == .binary32
                    && fixtures[f].testGroups[g].tests[0].flags.contains("AdamDirectionUndetermined") == atTarget {
                    fixtures[f].testGroups[g].tolerance.relative /= atTarget ? 1 : 16
                    fixtures[f].testGroups[g].tolerance.absolute /= atTarget ? 4 : 16
                }
            }
            expectRejected(TauToleranceChecks.checkDerivedBounds(fixtures: fixtures))
        }
    }

    @Test("S6/F1 rejects a binary32 tauStep without Adam's bias correction")
    func binary32WithoutBiasCorrectionRejected() {
        let broken: ConformanceToleranceChecks.Implementation = { operation, input in
            let output = try ConformanceToleranceChecks.optimisedModule(operation, input)
            guard operation == .tauStep, input["step"]?.intValue == 1 else { return output }
            // At s = 1 the corrections are 1/(1 − 0.9) and 1/(1 − 0.999): without them the step is ×0.1/√0.001.
            guard case let .object(fields) = output else { return output }
            let theta = Self.flat(input), stepped = Self.flat(output)
            let d = input["users"]!.arrayValue![0].doubleArray!.count
            let scale: Double = 0.1 / 0.001.squareRoot()
            let scaled: [Double] = zip(theta, stepped).map { (before: Double, after: Double) -> Double in before - (before - after) * scale }
            let uncorrected = ReferenceEvaluator.tauParameterFields(TauParameters(dimension: d, flattened: scaled))
            return .object(fields.map { key, value in uncorrected.first { $0.0 == key } ?? (key, value) })
        }
        expectRejected(ConformanceToleranceChecks.checkBinary32Tolerances(implementation: broken))
    }
}

/// `adar port-server` answers `tauStep` through the protocol, and a malformed request says which field and why.
@Suite("Port server: S9 τ step")
struct TauStepPortServerTests {
    @Test("adar conform passes tau_step.json against both port-servers: reference (binary64) and optimised (binary32)",
          arguments: ["reference", "optimised"])
    func portServerPasses(_ implementation: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("adar-tau-step-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(
            at: ADARExecutable.repositoryRoot.appendingPathComponent("fixtures/tau_step.json"), to: directory.appendingPathComponent("tau_step.json"))
        let run = try ADARExecutable.run(
            ["conform", "--json", "--subset", "--fixtures", directory.path, "--", try ADARExecutable.url().path, "port-server",
             "--implementation", implementation], in: directory)
        #expect(!run.endedBySignal)
        #expect(run.status == 0, "\(run.standardError.prefix(400))")
        let report = try ConformRun(status: run.status, standardOutput: run.standardOutput, standardError: run.standardError).report()
        #expect(report.precision == (implementation == "reference" ? "binary64" : "binary32"))
        #expect(report.failures == 0 && report.pass > 0 && report.skipped == 0, "\(report.firstFailures)")
    }

    @Test("a tauStep request with positives not a matrix, or a moment not an object, is malformed and names the field")
    func malformedRequestsNameTheField() throws {
        let input = try #require(FixtureGenerator.generateAll().first { $0.name == "tau_step.json" }?.testGroups[0].tests[0].input.objectFields)
        for (field, value) in [("positives", JSONValue.real(1)), ("firstMoment", .reals([0, 0]))] {
            let broken = JSONValue.object(input.map { $0.0 == field ? ($0.0, value) : $0 })
            for port in [ReferencePort(), OptimisedPort()] as [any ConformancePort] {
                do {
                    _ = try port.answer(operation: .tauStep, input: broken)
                    Issue.record("\(port.name) answered a tauStep request whose \(field) is \(value.rendered)")
                } catch {
                    #expect(error.kind == "invalidInput" && error.field == field && error.message.contains(field), "\(port.name): \(error)")
                }
            }
        }
    }
}

/// Proofs/S9-binary32-tau.md, S9/E5: one Adam step of the optimised τ against the reference's.
@Suite("S9 binary32 τ Adam step")
struct TauAdamStepTests {
    static let seed = Claims.claim("S9/E5")!.defaultSeed

    @Test("S9/E5 binary32 Adam step within the derived per-entry bound; undetermined directions within lr·(|u| + U)")
    func adamStep() throws {
        guard ProcessInfo.processInfo.environment["ADAR_SWEEP"] == "long" else {
            try expectClaim("S9/E5")
            return
        }
        let seed = seedFromEnvironment() ?? Self.seed
        let result = try TauEquivalenceChecks.checkAdamStep(seed: seed, cases: TauEquivalenceChecks.longCases)
        #expect(result.passed, "\(result)\n  replay: ADAR_SWEEP=long ADAR_SEED=\(seed) swift test --filter 'S9/E5'")
    }

    @Test("S9/E5 finds entries whose direction binary32 cannot determine (τ at its target) and bounds them")
    func undeterminedEntriesOccur() throws {
        let result = try TauEquivalenceChecks.checkAdamStep(seed: Self.seed)
        #expect(result.passed)
        #expect(result.statistic.contains("θ′ (direction undetermined)"), "\(result.statistic)")
    }

    static func mutant(_ adam: @escaping TauSubject.AdamStep) -> TauSubject {
        var subject = TauSubject.optimised
        subject.adamStep = adam
        return subject
    }

    @Test("S9/E5 rejects Adam without bias correction, with ε inside the root, and with AdamW's decay")
    func rejectsMutants() throws {
        let withoutCorrection = Self.mutant { theta, m, v, g, _, lr in
            for i in theta.indices {
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                theta[i] -= lr * m[i] / (v[i].squareRoot() + 1e-8)
            }
        }
        expectRejected(try TauEquivalenceChecks.checkAdamStep(seed: Self.seed, subject: withoutCorrection))
        let epsilonInside = Self.mutant { theta, m, v, g, s, lr in
            let c1 = Float(1 / (1 - pow(0.9, Double(s)))), c2 = Float(1 / (1 - pow(0.999, Double(s))))
            for i in theta.indices {
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                theta[i] -= lr * m[i] * c1 / (v[i] * c2 + 1e-8).squareRoot()
            }
        }
        expectRejected(try TauEquivalenceChecks.checkAdamStep(seed: Self.seed, subject: epsilonInside))
        let decayed = Self.mutant { theta, m, v, g, s, lr in
            for i in theta.indices { theta[i] -= lr * 0.01 * theta[i] }
            TauTrainer32.adamStep(parameters: &theta, firstMoment: &m, secondMoment: &v, gradient: g, step: s, learningRate: lr)
        }
        expectRejected(try TauEquivalenceChecks.checkAdamStep(seed: Self.seed, subject: decayed))
    }
}

/// The numpy example port's Adam variants (docs/PORTING.md §6): each fails tau_step.json with its own
/// hint and no other Adam hint, in both precisions; a bug elsewhere in τ draws no Adam hint.
@Suite(
    "Ports: the numpy example's Adam bugs under adar conform",
    .enabled(if: NumpyPort.isAvailable, "python3 with numpy and scipy is not installed")
)
struct TauStepPortTests {
    static let files = ["tau_step.json"]
    static let adamMisconceptions: Set<String> = ["adamBiasCorrectionMissing", "adamEpsilonInsideRoot", "adamWeightDecay", "adamMomentsAfterStep"]
    @Test("an Adam bug fails tau_step.json with its hint and no other Adam hint", arguments: KnownBug.adam, ["binary64", "binary32"])
    func adamBugIsCaught(_ bug: KnownBug, _ precision: String) throws {
        let run = try NumpyPort.conform(environment: ["ADAR_PORT_BUG": bug.name, "ADAR_PORT_PRECISION": precision], onlyFiles: Self.files)
        #expect(run.status == 1, "adar conform exited \(run.status) for \(bug.name); it must fail (1)")
        let report = try run.report()
        #expect(report.failures > 0, "\(bug.name): no case failed")
        let named = report.misconceptions.intersection(Self.adamMisconceptions)
        #expect(named == [bug.misconception], "\(bug.name) (\(precision)): Adam diagnoses \(named.sorted()), expected only \(bug.misconception)")
    }

    /// The negative case: τ's forward pass wrong (v's blocks swapped) or σ dropped from x_t′ fails every
    /// or some tauStep case, and none of them is blamed on Adam.
    @Test("a τ bug outside Adam fails tau_step.json with no Adam hint", arguments: ["concatenation-swapped", "missing-sigma"])
    func otherBugDrawsNoAdamHint(_ name: String) throws {
        let run = try NumpyPort.conform(environment: ["ADAR_PORT_BUG": name], onlyFiles: Self.files)
        let report = try run.report()
        #expect(report.failures > 0, "\(name): no tauStep case failed")
        #expect(report.misconceptions.isDisjoint(with: Self.adamMisconceptions), "\(name): diagnosed as \(report.misconceptions.sorted())")
    }

    @Test("the correct numpy port passes tau_step.json in both precisions with no hint", arguments: ["binary64", "binary32"])
    func correctPortPasses(_ precision: String) throws {
        let run = try NumpyPort.conform(environment: ["ADAR_PORT_PRECISION": precision], onlyFiles: Self.files)
        let report = try run.report()
        #expect(report.failures == 0 && report.pass > 0, "\(report.firstFailures)")
        #expect(report.misconceptions.isEmpty)
    }
}
