import Foundation
import Testing
import ADARConformance
import ADARProtocol

/// `adar conform` (docs/PORTING.md §3, §4): misbehaving ports are failed for
/// the right reason within the runner's time bound, the in-tree ports pass,
/// and every misconception's hint is produced for an answer computed under it.
/// Test data: ConformanceFixtures/ (hand-made; the real fixtures are fixtures/).
@Suite("Conformance runner")
struct ConformanceRunnerTests {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = try! FixtureFile.load(directory: testsDirectory.appendingPathComponent("ConformanceFixtures"))
    static let misbehavingPort = testsDirectory.appendingPathComponent("ConformancePorts/misbehaving_port.py").path
    /// The `adar` built beside the tests (`swift build --build-tests` builds both).
    static let adar = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/adar").path

    static var caseCount: Int { fixtures.reduce(0) { $0 + $1.cases.count { $0.precision == .binary64 } } }

    /// Runs a misbehaving port with a 1 s per-case timeout (the default 60 s to
    /// start, so a slow python3 start on a loaded machine is not a failure) and
    /// checks that no case passed and the run stayed within `bound` seconds.
    func runMisbehaving(_ mode: String, totalTimeout: Double = 60, bound: Double = 30) throws -> (ConformanceReport, [String]) {
        let runner = ConformanceRunner(
            files: Self.fixtures, caseTimeout: 1, totalTimeout: totalTimeout, discardPortStandardError: true)
        let start = Date()
        let report = try runner.run(command: ["python3", Self.misbehavingPort, mode])
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed < bound, "the runner took \(elapsed) s against a \(mode) port")
        let t = report.total
        #expect(t.pass == 0 && t.acceptable == 0, "a \(mode) port was counted as passing: \(report.text)")
        #expect(t.fail == Self.caseCount, "\(mode): \(t.fail) of \(Self.caseCount) cases failed")
        #expect(!report.succeeded(allowSkipped: true))
        return (report, report.files.flatMap(\.verdicts).map { $0.reason ?? "" })
    }

    @Test("a port that crashes fails the rest of the cases with its exit status")
    func crashingPort() throws {
        let (_, reasons) = try runMisbehaving("crash")
        #expect(reasons.dropFirst().allSatisfy { $0 == "port exited with status 3" }, "\(reasons)")
    }

    @Test("a port that hangs is stopped after the per-case timeout; later cases fail as no answer")
    func hangingPort() throws {
        // Waiting 1 s for each of the cases would take minutes.
        let (_, reasons) = try runMisbehaving("hang", bound: 30)
        #expect(reasons.first == "no answer (timeout after 1 s per case)")
        #expect(reasons.dropFirst().allSatisfy { $0.hasPrefix("no answer (timeout: the port was stopped") }, "\(reasons)")
    }

    /// Runs a port that must fail before any case is checked; returns the one failure.
    func expectPortFailure(_ command: [String], startupTimeout: Double = 60, bound: Double = 30) -> String {
        let runner = ConformanceRunner(files: Self.fixtures, caseTimeout: 1, startupTimeout: startupTimeout, totalTimeout: 120,
                                       discardPortStandardError: true)
        let start = Date()
        var failure = ""
        do {
            let report = try runner.run(command: command)
            Issue.record("\(command) was run as a port: \(report.text)")
        } catch {
            failure = error.description
        }
        #expect(Date().timeIntervalSince(start) < bound)
        return failure
    }

    @Test("a port that never answers the handshake is reported once, within the startup timeout")
    func silentPort() {
        let failure = expectPortFailure(["python3", Self.misbehavingPort, "silent"], startupTimeout: 1, bound: 10)
        #expect(failure.contains("did not answer the handshake {\"op\":\"hello\"} within 1 s (--startup-timeout); no case was checked"), "\(failure)")
    }

    @Test("a port that answers the handshake with garbage is reported once")
    func garbageHandshake() {
        let failure = expectPortFailure(["python3", Self.misbehavingPort, "garbage-handshake"])
        #expect(failure.contains("answered the handshake {\"op\":\"hello\"} with \"hello there\", not {\"name\", \"precision\", \"operations\"}"), "\(failure)")
    }

    @Test("a port that exits before the handshake is reported with the end of its stderr")
    func portExitsBeforeHandshake() {
        let failure = expectPortFailure(["python3", Self.misbehavingPort, "stderr-exit"])
        #expect(failure.hasSuffix(
            "exited with status 2 before answering the handshake {\"op\":\"hello\"}; no case was checked. "
                + "Its stderr ended with: loading the model | fatal: no weights in ./weights.bin"), "\(failure)")
    }

    @Test("the whole run is bounded by --total-timeout even when each case may wait longer")
    func totalTimeLimit() throws {
        // 10 s: room for python3 to start on a loaded machine, far below 100 s per case.
        let runner = ConformanceRunner(files: Self.fixtures, caseTimeout: 100, totalTimeout: 10, discardPortStandardError: true)
        let start = Date()
        let report = try runner.run(command: ["python3", Self.misbehavingPort, "hang"])
        #expect(Date().timeIntervalSince(start) < 20)
        let reasons = report.files.flatMap(\.verdicts).map { $0.reason ?? "" }
        #expect(report.total.fail == Self.caseCount)
        #expect(reasons.first?.contains("the run's time limit of 10 s") == true, "\(reasons)")
    }

    @Test("answers with the wrong id fail as out of order")
    func outOfOrderPort() throws {
        let (_, reasons) = try runMisbehaving("out-of-order")
        #expect(reasons.allSatisfy { $0.hasSuffix("(out of order)") }, "\(reasons)")
    }

    @Test("lines that are not JSON fail as unparseable responses")
    func garbagePort() throws {
        let (_, reasons) = try runMisbehaving("garbage")
        #expect(reasons.allSatisfy { $0 == "unparseable response: \"this is not json\"" }, "\(reasons)")
    }

    @Test("wrong outputs fail, and invalid inputs that are accepted fail")
    func wrongPort() throws {
        let (report, _) = try runMisbehaving("wrong")
        let invalid = report.files.first { $0.name == "invalid_inputs.json" }!.verdicts
        #expect(invalid.allSatisfy { $0.outcome == .fail && $0.reason!.hasPrefix("accepted an invalid input") })
    }

    @Test("a port command that does not exist is reported once, with env's message")
    func missingPort() {
        let failure = expectPortFailure(["adar-no-such-port-command"])
        #expect(failure.hasPrefix(
            "the port `adar-no-such-port-command` exited with status 127 (127: command not found) before answering the handshake"),
            "\(failure)")
        #expect(failure.contains("adar-no-such-port-command") && failure.contains("No such file or directory"), "\(failure)")
    }

    @Test("adar port-server passes the hand-made fixtures: reference binary64, optimised binary32")
    func portServersPass() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.adar), "build adar first: swift build --build-tests")
        for (implementation, precision) in [("reference", Precision.binary64), ("optimised", .binary32)] {
            let report = try ConformanceRunner(files: Self.fixtures, caseTimeout: 10, totalTimeout: 60)
                .run(command: [Self.adar, "port-server", "--implementation", implementation])
            #expect(report.precision == precision)
            #expect(report.succeeded(allowSkipped: false), "\(report.text)")
            #expect(report.total.pass == Self.fixtures.reduce(0) { $0 + $1.cases.count { $0.precision == precision } })
        }
    }

    @Test("adar conform exits 0 for a passing port and 1 for a failing one")
    func exitStatus() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.adar), "build adar first: swift build --build-tests")
        let fixtures = Self.testsDirectory.appendingPathComponent("ConformanceFixtures").path
        func status(_ port: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.adar)
            // --subset: the hand-made fixtures are not the set adar generates.
            process.arguments = ["conform", "--fixtures", fixtures, "--subset", "--timeout", "2", "--json", "--"] + port
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(try status([Self.adar, "port-server", "--implementation", "reference"]) == 0)
        #expect(try status(["python3", Self.misbehavingPort, "crash"]) == 1)
    }

    // MARK: Results-file mode

    /// The reference's response line for every binary64 case.
    static func referenceResponses() -> [String] {
        let port = ReferencePort()
        return fixtures.flatMap(\.cases).filter { $0.precision == .binary64 }.map { test in
            port.respond(to: JSONValue.object([("id", .string(test.id)), ("op", .string(test.operation.rawValue)), ("input", test.input)]).rendered)
        }
    }

    @Test("a results file in any order passes; missing, duplicated and garbage lines fail")
    func resultsFile() {
        let runner = ConformanceRunner(files: Self.fixtures, precision: .binary64)
        let lines = Self.referenceResponses()
        #expect(runner.check(resultsLines: lines.reversed()).succeeded(allowSkipped: false))

        let broken = Array(lines.dropFirst()) + [lines[1], "garbage"]
        let report = runner.check(resultsLines: broken)
        let failures = report.files.flatMap(\.failures).map { $0.reason ?? "" }
        #expect(failures.sorted() == ["answered more than once in the results file", "no answer in the results file"])
        #expect(report.remarks == ["1 line(s) of the results file are not responses (unparseable)"])
        #expect(!report.succeeded(allowSkipped: false))
    }

    @Test("an answer just outside the tolerance fails and reports its error")
    func outsideTolerance() throws {
        let test = try #require(Self.fixtures.flatMap(\.cases).first { $0.operation == .forward && $0.precision == .binary64 })
        let items = try #require(test.expected["xt"]?.arrayValue)
        let xt = items.compactMap(\.doubleValue)
        let nudged = JSONValue.object([("xt", .reals([xt[0] * (1 + 1e-9)] + xt.dropFirst()))])
        let verdict = ConformanceRunner.judge(test, .output(nudged), precision: .binary64)
        #expect(verdict.outcome == .fail)
        #expect(verdict.reason?.hasPrefix("xt[0]:") == true, "\(verdict.reason ?? "")")
        #expect(abs(verdict.error!.relative - 1e-9) < 1e-12)
    }

    // MARK: Diagnoses

    @Test("each misconception is named for an answer computed under it", arguments: Misconception.all)
    func diagnosis(_ misconception: Misconception) {
        var failing = 0
        for test in Self.fixtures.flatMap(\.cases) where test.precision == .binary64 && test.result == .valid {
            guard let answer = misconception.output(for: test) else { continue }
            let verdict = ConformanceRunner.judge(test, .output(answer), precision: .binary64)
            guard verdict.outcome == .fail else { continue }
            failing += 1
            // Named first, or tied with conventions that give this very answer on this case
            // (e.g. Philox counters (q, lo, hi, 0) and (0, hi, lo, q) agree at q = 0, stream 0);
            // the run's hints separate them: a hint must fit every failure.
            #expect(verdict.diagnoses.contains(misconception), "\(test.id): \(verdict.diagnoses.map(\.name)) for \(misconception.name)")
            for other in verdict.diagnoses.prefix { $0 != misconception } {
                #expect(other.output(for: test) == answer, "\(test.id): \(other.name) ranked before \(misconception.name) with another answer")
            }
        }
        #expect(failing > 0, "no hand-made case separates \(misconception.name) from the reference")
    }

    @Test("a correct answer gets no diagnosis, and an unrelated wrong one gets none")
    func noFalseDiagnosis() throws {
        for test in Self.fixtures.flatMap(\.cases) where test.precision == .binary64 && test.result == .valid {
            #expect(try Misconception.diagnose(test, answer: test.expected, precision: .binary64).isEmpty)
        }
        let test = try #require(Self.fixtures.flatMap(\.cases).first { $0.operation == .forward && $0.precision == .binary64 })
        let scrambled = JSONValue.object([("xt", .reals([1, 2, 3, 4, 5]))])
        #expect(try Misconception.diagnose(test, answer: scrambled, precision: .binary64).isEmpty)
    }
}

extension Misconception: CustomTestStringConvertible {
    public var testDescription: String { name }
}
