import Foundation
import Testing
import ADARCore
import ADAR
@testable import ADARVerification

/// docs/Shrinking.md: a failing randomised claim shrinks its first failing
/// case to a minimal one and prints it as a Swift Testing case.
@Suite("Shrinking counterexamples")
struct ShrinkingTests {
    static let seed = Claims.claim("S6/E1")!.defaultSeed

    /// The sweep of the claim that catches `bug`, run against the implementation with `bug` planted.
    static func catchingSweep(_ bug: InjectedBug) throws -> ClaimResult {
        switch bug {
        case .previousAlphaBar, .wrongRoot, .missingSigma:
            try EquivalenceChecks.checkStatuses(seed: seed, subject: .injecting(bug))
        case .swappedSignalAndNoise:
            try EquivalenceChecks.checkOutputs(seed: seed, subject: .injecting(bug))
        case .missingSigmaInReconstruction:
            try TauEquivalenceChecks.checkDenoised(seed: seed, subject: .injecting(bug))
        case .swappedSinCos, .swappedConcatenation:
            try TauEquivalenceChecks.checkForward(seed: seed, subject: .injecting(bug))
        }
    }

    /// The same claim on the one case `c`, against the implementation with `bug` planted, or the production one.
    static func replay(_ bug: InjectedBug, on c: any Shrinkable, planted: Bool) throws -> ClaimResult {
        switch (bug, c) {
        case (.previousAlphaBar, let c as EquivalenceCase), (.wrongRoot, let c as EquivalenceCase), (.missingSigma, let c as EquivalenceCase):
            try EquivalenceChecks.check(.statuses, on: c, subject: planted ? .injecting(bug) : .optimised)
        case (.swappedSignalAndNoise, let c as EquivalenceCase):
            try EquivalenceChecks.check(.outputs, on: c, subject: planted ? .injecting(bug) : .optimised)
        case (.missingSigmaInReconstruction, let c as EquivalenceCase):
            try TauEquivalenceChecks.checkDenoised(on: c, subject: planted ? .injecting(bug) : .optimised)
        case (.swappedSinCos, let c as TauCase), (.swappedConcatenation, let c as TauCase):
            try TauEquivalenceChecks.check(.forward, on: c, subject: planted ? .injecting(bug) : .optimised)
        default:
            throw ShrinkingTestError("\(bug) shrank to a \(type(of: c))")
        }
    }

    // MARK: Every planted bug shrinks to a small case that still fails

    @Test("each planted bug's counterexample shrinks to B = 1, d ≤ 2, M = 1, T ≤ 2, still fails, no smaller candidate does, and prints as a complete Swift test",
          arguments: InjectedBug.allCases)
    func plantedBugShrinksSmall(_ bug: InjectedBug) throws {
        let result = try Self.catchingSweep(bug)
        #expect(!result.passed, "the claim accepted \(bug): \(result)")
        let counterexample = try #require(result.counterexample, "a failing sweep carries its shrunk counterexample")
        #expect(!counterexample.budgetExhausted)
        switch counterexample.minimal {
        case let c as EquivalenceCase:
            #expect(c.rows == 1 && c.dimension <= 2 && c.poolSize == 1 && c.schedule.steps <= 2, "\(c.summary)")
        case let c as TauCase:
            #expect(c.rows == 1 && c.dimension <= 2 && c.steps <= 2, "\(c.summary)")
        default:
            Issue.record("unexpected case type \(type(of: counterexample.minimal))")
        }
        let minimal = counterexample.minimal
        #expect(try !Self.replay(bug, on: minimal, planted: true).passed, "the minimal case no longer fails: \(counterexample)")
        // A counterexample to the bug, not to the production implementation.
        #expect(try Self.replay(bug, on: minimal, planted: false).passed, "the production implementation fails too: \(counterexample)")
        // A local minimum: no smaller candidate still fails.
        for candidate in minimal.shrinkCandidates where candidate.shrinkSize.lexicographicallyPrecedes(minimal.shrinkSize) {
            let stillFails = (try? Self.replay(bug, on: candidate, planted: true).passed) == false
            #expect(!stillFails, "a smaller case still fails: \(candidate.summary)")
        }
        expectCompleteSwiftTest(counterexample, bug: bug)
        if let pasted = Self.pastedFunctions[bug] { try expectPrinted(counterexample.swiftTest, isPasted: pasted) }
    }

    /// The printed test names every field, the claim call and the planted bug, and its brackets balance.
    func expectCompleteSwiftTest(_ counterexample: Counterexample, bug: InjectedBug) {
        let test = counterexample.swiftTest
        #expect(test.hasPrefix("@Test(\""))
        #expect(test.contains("subject: .injecting(.\(bug)))"))
        #expect(test.contains("#expect(result.passed, \"\\(result)\")"))
        let fields = counterexample.minimal is TauCase
            ? ["let c = try TauCase(", "dimension: ", "steps: ", "parameters: [", "xt: [", "timesteps: [", "users: [", "targets: [", "caseSeed: "]
            : ["let c = try EquivalenceCase(", "schedule: try NoiseSchedule(", "configuration: try ADARConfiguration(", "rows: 1,",
               "users: [", "positives: [", "pool: [", "noise: .", "rowKinds: [", "caseSeed: "]
        for field in fields { #expect(test.contains(field), "missing \(field) in\n\(test)") }
        #expect(test.filter { $0 == "(" }.count == test.filter { $0 == ")" }.count, "unbalanced parentheses:\n\(test)")
        #expect(test.filter { $0 == "[" }.count == test.filter { $0 == "]" }.count, "unbalanced brackets:\n\(test)")
    }

    @Test("shrinking is deterministic: the same sweep prints the same counterexample")
    func deterministic() throws {
        // Case #1 is the first that fails: two cases shrink the same case as the full sweep.
        let first = try #require(try EquivalenceChecks.checkStatuses(seed: Self.seed, cases: 2, subject: .injecting(.wrongRoot)).counterexample)
        let second = try #require(try EquivalenceChecks.checkStatuses(seed: Self.seed, cases: 2, subject: .injecting(.wrongRoot)).counterexample)
        #expect(first.swiftTest == second.swiftTest)
        #expect(first.summary == second.summary)
        #expect(first.steps == second.steps && first.evaluations == second.evaluations)
    }

    @Test("a passing sweep carries no counterexample; only failures shrink")
    func passingSweepDoesNotShrink() throws {
        let passing = try EquivalenceChecks.checkStatuses(seed: Self.seed, cases: 4)
        #expect(passing.passed && passing.counterexample == nil)
        let failing = try EquivalenceChecks.checkStatuses(seed: Self.seed, cases: 4, subject: .injecting(.wrongRoot))
        #expect(!failing.passed && failing.counterexample != nil)
        #expect(failing.description.contains("minimal counterexample") && failing.description.contains("@Test("))
    }

    // MARK: The printed Swift test is the pasted one

    /// The S6/E1 and S9/E1 counterexamples exactly as `adar verify --inject-bug` printed them
    /// (only the `@Test` attribute dropped: with the bug planted they fail, as they must).
    /// `expectPrinted` checks that the printer still writes exactly this code.
    func minimalCounterexampleS6E1() throws {
        let c = try EquivalenceCase(
            schedule: try NoiseSchedule(.custom(betas: [0.0001220703125]), steps: 1),
            configuration: try ADARConfiguration(rho: 0.7),
            rows: 1, dimension: 1, poolSize: 1,
            users: [-1.0],
            positives: [-0.21],
            pool: [-0.206],
            noise: .explicit([0.0]),
            rowKinds: [.timestepBoundary], caseSeed: 11372699324343104627)
        let result = try EquivalenceChecks.check(.statuses, on: c, subject: .injecting(.wrongRoot))
        #expect(result.passed, "\(result)")
    }

    func minimalCounterexampleS9E1() throws {
        let c = try TauCase(
            dimension: 1, steps: 1,
            parameters: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            xt: [0.0],
            timesteps: [0],
            users: [0.0],
            targets: [0.0],
            caseSeed: 17486582413981831226)
        let result = try TauEquivalenceChecks.check(.forward, on: c, subject: .injecting(.swappedSinCos))
        #expect(result.passed, "\(result)")
    }

    @Test("the pasted counterexamples compile and still fail with their bug planted")
    func pastedCounterexamplesFail() {
        withKnownIssue("S6/E1 with wrong-root") { try minimalCounterexampleS6E1() }
        withKnownIssue("S9/E1 with swapped-sin-cos") { try minimalCounterexampleS9E1() }
    }

    /// The pasted functions above, by the bug whose counterexample they are.
    static let pastedFunctions: [InjectedBug: String] = [.wrongRoot: "minimalCounterexampleS6E1", .swappedSinCos: "minimalCounterexampleS9E1"]

    /// `printed` is exactly the pasted, compiling `function` above, with its `@Test` attribute.
    func expectPrinted(_ printed: String, isPasted function: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let lines = try String(contentsOfFile: #filePath, encoding: .utf8).components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "    func \(function)() throws {"))
        let end = try #require(lines[start...].firstIndex(of: "    }"))
        // Dedented by the four spaces of this suite.
        let pasted = lines[start...end].map { String($0.dropFirst(4)) }.joined(separator: "\n")
        let claimID = function.hasSuffix("S6E1") ? "S6/E1" : "S9/E1"
        #expect(printed == "@Test(\"\(claimID) minimal counterexample\")\n" + pasted, sourceLocation: sourceLocation)
    }

    @Test("a case given by values with the wrong shape is refused, naming the field")
    func caseShapesAreChecked() throws {
        let schedule = try NoiseSchedule(.custom(betas: [0.5]), steps: 1), configuration = try ADARConfiguration()
        #expect(throws: ADARError.shapeMismatch(field: "noise", expected: 2, actual: 1)) {
            try EquivalenceCase(schedule: schedule, configuration: configuration, rows: 1, dimension: 2, poolSize: 1,
                                users: [1, 1], positives: [1, 1], pool: [1, 1], noise: .explicit([0]),
                                rowKinds: [.random], caseSeed: 0)
        }
        #expect(throws: ADARError.indexOutOfRange(row: 0, field: "timesteps", index: 3, count: 2)) {
            try TauCase(dimension: 1, steps: 1, parameters: [Float](repeating: 0, count: 21),
                        xt: [0], timesteps: [3], users: [0], targets: [0], caseSeed: 0)
        }
    }

    // MARK: S4.d's scalar claims

    @Test("S4.d/T1, E1, H1 shrink a broken amplitude's first failing input to simpler values that still fail, and only those",
          arguments: TransitionClaim.allCases)
    func transitionClaimShrinks(_ claim: TransitionClaim) throws {
        let broken: TransitionChecks.Amplitude, result: ClaimResult
        switch claim {
        case .closedForm:
            broken = TransitionTests.flippedZ
            result = try TransitionChecks.closedFormMatchesBrent(seed: TransitionTests.seed, amplitude: broken, cases: 500)
        case .existence:
            broken = TransitionTests.ignoresNonNegativity
            result = TransitionChecks.existenceAgrees(seed: TransitionTests.seed, amplitude: broken, cases: 2_000)
        case .halfRetention:
            broken = TransitionTests.reciprocalAtHalf
            result = TransitionChecks.halfRetentionIsScoreRatio(seed: TransitionTests.seed, amplitude: broken)
        }
        #expect(!result.passed)
        let counterexample = try #require(result.counterexample, "\(result)")
        let minimal = try #require(counterexample.minimal as? TransitionCase)
        #expect(counterexample.steps > 0 && !counterexample.budgetExhausted, "\(counterexample)")
        #expect(try !TransitionChecks.check(claim, on: minimal, amplitude: broken).passed, "the minimal input no longer fails: \(counterexample)")
        #expect(try TransitionChecks.check(claim, on: minimal).passed, "the reference fails too: \(counterexample)")
        // As for the shrinker, an input the oracle cannot decide (Brent not converging) is not a counterexample.
        for candidate in minimal.shrinkCandidates where candidate.shrinkSize.lexicographicallyPrecedes(minimal.shrinkSize) {
            let stillFails = (try? TransitionChecks.check(claim, on: candidate, amplitude: broken).passed) == false
            #expect(!stillFails, "a simpler input still fails: \(candidate.summary)")
        }
        // The test's own amplitude cannot be printed: the snippet leaves a placeholder for it.
        #expect(counterexample.swiftTest.contains(
            "let c = TransitionCase(s0: \(minimal.s0), sNeg: \(minimal.sNeg), n: \(minimal.n), rho: \(minimal.rho))"))
        #expect(counterexample.swiftTest.contains("TransitionChecks.check(.\(claim), on: c, amplitude: <#the test's amplitude#>)"))
    }

    // MARK: adar verify --inject-bug

    @Test("adar verify --inject-bug prints the demonstration, the minimal counterexample as a Swift test and the replay; exit 1")
    func verifyInjectBug() throws {
        let result = try ADARExecutable.run(["verify", "--inject-bug", "wrong-root", "--claim", "S6/E1"])
        #expect(result.status == 1 && !result.endedBySignal, "\(result.standardError)")
        let out = result.standardOutput
        #expect(out.hasPrefix("DEMONSTRATION: the optimised implementation runs with a deliberately injected bug, wrong-root"))
        #expect(out.contains("S6/E1        FAIL"))
        #expect(out.contains("minimal counterexample (") && out.contains(": B = 1, d = 1, M = 1; "))
        // The pasted S6/E1 test above, line by line.
        let lines = try String(contentsOfFile: #filePath, encoding: .utf8).components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "    func minimalCounterexampleS6E1() throws {"))
        for line in lines[start...].prefix(while: { $0 != "    }" }) {
            #expect(out.contains(String(line.dropFirst(4))), "the printed test lacks \(line)")
        }
        #expect(out.contains("replay: adar verify --inject-bug wrong-root --claim S6/E1 --seed \(Self.seed)"))
        #expect(out.hasSuffix("0 passed, 1 failed\n"))
    }

    @Test("adar verify --json --inject-bug carries the counterexample and the Swift test as fields")
    func verifyInjectBugJSON() throws {
        let result = try ADARExecutable.run(["verify", "--json", "--inject-bug", "swapped-sin-cos", "--claim", "S9/E1"])
        #expect(result.status == 1 && !result.endedBySignal, "\(result.standardError)")
        let row = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("{") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any])
        #expect(object["passed"] as? Bool == false)
        #expect((object["counterexample"] as? String)?.hasPrefix("B = 1, d = 1, T = 1") == true)
        #expect((object["swiftTest"] as? String)?.contains("TauEquivalenceChecks.check(.forward, on: c, subject: .injecting(.swappedSinCos))") == true)
    }

    @Test("adar verify --inject-bug refuses an unknown bug and a claim that does not check the optimised implementation (64)")
    func verifyInjectBugUsage() throws {
        let unknown = try ADARExecutable.run(["verify", "--inject-bug", "off-by-one"])
        #expect(unknown.status == 64 && !unknown.endedBySignal)
        #expect(unknown.standardError.contains("--inject-bug") && unknown.standardError.contains("wrong-root"), "\(unknown.standardError)")
        let unrelated = try ADARExecutable.run(["verify", "--inject-bug", "wrong-root", "--claim", "S1/K1"])
        #expect(unrelated.status == 64 && !unrelated.endedBySignal)
        #expect(unrelated.standardError.contains(
            "adar verify: error: unknown claim ID(s) with --inject-bug (only S6/E1, S6/E2, S6/E3, S6/E4, S7/E1, S9/E1, S9/E2, S9/E3, S9/E4, S9/E5 check the optimised implementation): S1/K1"),
            "\(unrelated.standardError)")
    }

    @Test("adar verify --help lists every bug --inject-bug plants, as a demonstration")
    func verifyHelpListsBugs() throws {
        let help = try ADARExecutable.run(["verify", "--help"])
        #expect(help.status == 0 && !help.endedBySignal)
        #expect(help.standardOutput.contains("demonstration that the claims catch bugs"))
        for bug in InjectedBug.allCases {
            #expect(help.standardOutput.contains("\(bug.rawValue)") && help.standardOutput.contains(bug.summary), "--help lacks \(bug.rawValue)")
        }
    }

    // MARK: The shrinker itself

    /// A list of numbers: candidates drop one, or lower one by 1, or repeat the list (not smaller: ignored).
    struct Numbers: Shrinkable {
        var values: [Int]
        var shrinkSize: [Int] { [values.count, values.reduce(0, +)] }
        var shrinkCandidateGroups: [() -> [Numbers]] {
            [
                { [self] },
                { values.indices.map { i in Numbers(values: values.enumerated().filter { $0.offset != i }.map(\.element)) } },
                {
                    values.indices.filter { values[$0] > 0 }.map { i in
                        var lowered = values
                        lowered[i] -= 1
                        return Numbers(values: lowered)
                    }
                },
            ]
        }
        var summary: String { "\(values)" }
        var swiftExpression: String { "Numbers(values: \(values))" }
    }

    @Test("greedy shrinking stops at a local minimum and ignores candidates that are not smaller")
    func greedyLocalMinimum() {
        let failsAtTen = { (n: Numbers) in n.values.reduce(0, +) >= 10 }
        let shrunk = Shrinker.shrink(Numbers(values: [7, 3, 5, 9]), stillFails: failsAtTen)
        #expect(shrunk.minimal.values.reduce(0, +) == 10)
        #expect(!shrunk.budgetExhausted)
        for candidate in shrunk.minimal.shrinkCandidates where candidate.shrinkSize.lexicographicallyPrecedes(shrunk.minimal.shrinkSize) {
            #expect(!failsAtTen(candidate), "\(candidate.values) is smaller and still fails")
        }
        let again = Shrinker.shrink(Numbers(values: [7, 3, 5, 9]), stillFails: failsAtTen)
        #expect(again.minimal.values == shrunk.minimal.values && again.evaluations == shrunk.evaluations)
    }

    @Test("shrinking stops after its budget of candidate runs")
    func budget() {
        let shrunk = Shrinker.shrink(Numbers(values: [50, 50]), budget: 3) { $0.values.reduce(0, +) >= 10 }
        #expect(shrunk.budgetExhausted && shrunk.evaluations == 3)
        #expect(shrunk.minimal.values.reduce(0, +) >= 10)
    }

    @Test("simpler numbers: 0, ±1, a power of two, an integer, then fewer decimal digits")
    func simplerNumbers() {
        let x: Float = -0.20678493
        let simpler = Simplicity.simpler(x)
        #expect(simpler.prefix(4) == [0, -1, -0.25, -0.2])
        #expect(simpler.contains(-0.21) && simpler.contains(-0.207))
        #expect(Simplicity.simpler(Float(0)).isEmpty)
        #expect(Simplicity.simpler(Float(4)) == [0, 1])
    }
}

struct ShrinkingTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
