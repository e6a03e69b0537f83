import Foundation
import Testing
import ADARCore
import ADARConformance
import ADARProtocol
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `adar conform` against hostile input (issue 8): hints within the size and
/// time limits, Ctrl-C stopping the port's process group, long and CRLF
/// lines, a port that cannot start or shake hands reported once, progress on
/// stderr, unreadable `--results` paths, and a fuzz of results files.
/// Test data: ConformanceFixtures/ and ConformancePorts/misbehaving_port.py.
@Suite("Conformance runner robustness")
struct ConformanceRobustnessTests {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixturesDirectory = testsDirectory.appendingPathComponent("ConformanceFixtures")
    static let fixtures = try! FixtureFile.load(directory: fixturesDirectory)
    static let misbehavingPort = testsDirectory.appendingPathComponent("ConformancePorts/misbehaving_port.py").path
    static var binary64Cases: [FixtureCase] { fixtures.flatMap(\.cases).filter { $0.precision == .binary64 } }

    /// A fresh temporary folder, removed by the caller.
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-robustness-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The reference's response line for every binary64 case, in file order.
    static func referenceResponses() -> [(test: FixtureCase, line: String)] {
        let port = ReferencePort()
        return binary64Cases.map { test in
            (test, port.respond(to: JSONValue.object([
                ("id", .string(test.id)), ("op", .string(test.operation.rawValue)), ("input", test.input),
            ]).rendered))
        }
    }

    // MARK: Hints within the size limit and the time limit

    @Test("a failing case with T = 10⁹ is judged without a hint instead of aborting adar")
    func hugeScheduleGetsNoHint() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fixtures = folder.appendingPathComponent("fixtures")
        try FileManager.default.createDirectory(at: fixtures, withIntermediateDirectories: true)
        let fixture = """
            {"schema": "adar-fixtures-v1", "operation": "schedule", "generatorVersion": "adar 1", "header": ["T = 10^9"],
             "notes": {}, "numberOfTests": 1, "testGroups": [{"type": "ScheduleTest",
             "operation": "schedule", "precision": "binary64", "tolerance": {"relative": 1e-9, "absolute": 0},
             "tests": [{"tcId": 1, "comment": "T = 10^9", "flags": [], "result": "valid",
               "input": {"schedule": {"kind": "linear", "steps": 1000000000, "start": 1e-4, "end": 0.02}, "timesteps": [1]},
               "expected": {"beta": [1e-4], "alphaBar": [0.9999], "sqrtAlphaBar": [0.99995], "sqrtOneMinusAlphaBar": [0.01]}}]}]}
            """
        try Data(fixture.utf8).write(to: fixtures.appendingPathComponent("schedules.json"))
        let results = folder.appendingPathComponent("results.jsonl")
        let wrong = #"{"id": "schedules.json#1", "output": {"beta": [0.5], "alphaBar": [0.5], "sqrtAlphaBar": [0.5], "sqrtOneMinusAlphaBar": [0.5]}}"#
        try Data((wrong + "\n").utf8).write(to: results)
        // Under a 4 GiB address space a hint's schedule of 10⁹ steps (8 GB a table) cannot be allocated:
        // adar aborted there; it must not try.
        let run = try ProcessResult.run(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "ulimit -v 4194304; exec \"$@\"", "sh", try ADARExecutable.url().path,
             "conform", "--subset", "--fixtures", fixtures.path, "--results", results.path],
            in: folder)
        #expect(!run.endedBySignal, "adar was killed: \(run.standardError.prefix(300))")
        #expect(run.status == 1)
        #expect(run.standardOutput.contains(
            "note: no hint for 1 failing case(s) (schedules.json#1): the schedule has T = 1000000000 steps, "
                + "more than the \(ADARLimits.maxSteps) hints are worked out for"), "\(run.standardOutput)")
        #expect(run.standardOutput.contains("total: 0 pass, 1 fail"))
    }

    @Test("a misconception gives no output for a case over the hint size, and one for a case within it")
    func misconceptionOutputSizeLimit() throws {
        var test = try #require(Self.binary64Cases.first { $0.operation == .schedule && $0.result == .valid })
        #expect(Misconception.alphaBarShiftedOneStep.output(for: test) != nil)
        guard case var .object(input) = test.input, let index = input.firstIndex(where: { $0.0 == "schedule" }),
              case var .object(schedule) = input[index].1, let steps = schedule.firstIndex(where: { $0.0 == "steps" })
        else { Issue.record("no schedule.steps in \(test.id)"); return }
        schedule[steps].1 = .integer(ADARLimits.maxSteps + 1)
        input[index].1 = .object(schedule)
        test.test.input = .object(input)
        #expect(Misconception.alphaBarShiftedOneStep.output(for: test) == nil)
        #expect(throws: Misconception.HintSkipped.self) {
            try Misconception.diagnose(test, answer: .object([]), precision: .binary64)
        }
    }

    @Test("hints stop at the run's time limit; the answers are still judged")
    func hintsStopAtTotalTimeout() throws {
        // Answers with one wrong convention, every other case answered right: given time, their
        // failures are diagnosed (a hint must fit every failure, so no case is left unanswered).
        let misconception = Misconception.alphaBarShiftedOneStep
        let lines = Self.binary64Cases.map { test -> String in
            if test.result == .invalid {
                let error = test.expected["error"] ?? .object([])
                return JSONValue.object([("id", .string(test.id)), ("error", .object([
                    ("kind", error["kind"] ?? .string("")), ("field", error["field"] ?? .string("")), ("message", .string("refused"))]))]).rendered
            }
            let output = test.result == .valid ? misconception.output(for: test) ?? test.expected : test.expected
            return JSONValue.object([("id", .string(test.id)), ("output", output)]).rendered
        }
        let answered = { (report: ConformanceReport) in
            report.files.flatMap(\.failures).filter { $0.reason != "no answer in the results file" }
        }
        let inTime = ConformanceRunner(files: Self.fixtures, precision: .binary64).check(resultsLines: lines)
        let diagnosed = answered(inTime)
        try #require(diagnosed.contains { $0.diagnoses.contains(misconception) }, "no failure was diagnosed at all")

        let late = ConformanceRunner(files: Self.fixtures, precision: .binary64, totalTimeout: 1e-9).check(resultsLines: lines)
        let failures = answered(late)
        #expect(failures.map(\.test.id) == diagnosed.map(\.test.id), "the same answers must fail, with or without hints")
        #expect(failures.allSatisfy { $0.diagnoses.isEmpty && $0.hintSkipped == "the run's time limit (--total-timeout) was reached" })
        #expect(late.remarks.contains {
            $0.hasPrefix("no hint for \(failures.count) failing case(s) (") && $0.hasSuffix("): the run's time limit (--total-timeout) was reached")
        }, "\(late.remarks)")
    }

    // MARK: Interrupts

    /// Whether `pid` is still a live process (a zombie has ended).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    @Test(
        "SIGINT or SIGTERM to adar conform stops the port's whole process group and exits 130",
        .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/stat"), "needs /proc"),
        arguments: [SIGINT, SIGTERM])
    func interruptStopsPortGroup(_ signal: Int32) throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pidFile = folder.appendingPathComponent("pids")
        let process = Process()
        process.executableURL = try ADARExecutable.url()
        process.arguments = [
            "conform", "--subset", "--fixtures", Self.fixturesDirectory.path, "--timeout", "600",
            "--", "python3", Self.misbehavingPort, "hang-with-child", pidFile.path,
        ]
        let standardError = folder.appendingPathComponent("stderr")
        try #require(FileManager.default.createFile(atPath: standardError.path, contents: nil))
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: standardError)
        try process.run()
        var pids: [Int32] = []
        defer {
            // Whatever the outcome, leave nothing of this test running.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for pid in pids where Self.isAlive(pid) { kill(pid, SIGKILL) }
        }
        let started = Date()
        while pids.count < 2 && Date().timeIntervalSince(started) < 30 {
            pids = ((try? String(contentsOf: pidFile, encoding: .utf8)) ?? "").split(separator: " ").compactMap {
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            usleep(50_000)
        }
        try #require(pids.count == 2, "the port did not start within 30 s")
        usleep(300_000)  // the handshake is answered and the first request sent: adar is waiting on the port
        kill(process.processIdentifier, signal)

        let interrupted = Date()
        while process.isRunning && Date().timeIntervalSince(interrupted) < 10 { usleep(20_000) }
        #expect(!process.isRunning, "adar conform did not exit within 10 s of signal \(signal)")
        if !process.isRunning {
            #expect(process.terminationReason == .exit, "adar was killed by the signal instead of handling it")
            #expect(process.terminationStatus == 130)
        }
        while pids.contains(where: Self.isAlive) && Date().timeIntervalSince(interrupted) < 10 { usleep(20_000) }
        #expect(!pids.contains(where: Self.isAlive), "still running after adar exited: \(pids.filter(Self.isAlive))")
        let message = (try? String(contentsOf: standardError, encoding: .utf8)) ?? ""
        #expect(message.contains("adar conform: interrupted by signal \(signal); stopped the port and its process group"), "\(message)")
    }

    // MARK: Long lines and CRLF

    static let forwardFixtures = fixtures.filter { $0.name == "forward_process.json" }

    @Test("a well-formed 13 MB answer line is read and judged in seconds, not timed out")
    func hugeAnswerLine() throws {
        let runner = ConformanceRunner(files: Self.forwardFixtures, caseTimeout: 60, totalTimeout: 120, discardPortStandardError: true)
        let start = Date()
        let report = try runner.run(command: ["python3", Self.misbehavingPort, "huge-answer"])
        let elapsed = Date().timeIntervalSince(start)
        let reasons = report.files.flatMap(\.verdicts).map { $0.reason ?? "" }
        #expect(reasons == ["xt: expected 5 values, got 1000000", "xt: expected 3 values, got 1000000"], "\(reasons)")
        #expect(elapsed < 30, "two 13 MB lines took \(elapsed) s")
    }

    @Test("a line over the maximum fails its case as too long at once, and the next answer is read in step")
    func tooLongAnswerLine() throws {
        let runner = ConformanceRunner(files: Self.forwardFixtures, caseTimeout: 60, totalTimeout: 120, discardPortStandardError: true)
        let start = Date()
        let report = try runner.run(command: ["python3", Self.misbehavingPort, "too-long"])
        let elapsed = Date().timeIntervalSince(start)
        let reasons = report.files.flatMap(\.verdicts).map { $0.reason ?? "" }
        #expect(reasons == ["answer too long (more than 16777216 bytes, the maximum line length)", "xt: missing"], "\(reasons)")
        #expect(elapsed < 30, "a 21 MiB line took \(elapsed) s")
    }

    @Test("a results line of exactly the maximum length is read; one byte more is not")
    func resultsLineAtTheMaximum() {
        let maximum = ConformanceRunner.maximumLineBytes
        #expect(maximum == 16 << 20)
        let lines = Self.referenceResponses().map(\.line)
        let runner = ConformanceRunner(files: Self.fixtures, precision: .binary64)
        for (length, remark) in [
            (maximum, "1 line(s) of the results file are not responses (unparseable)"),
            (maximum + 1, "line(s) 2 of the results file are longer than 16777216 bytes (the maximum line length) and were not read"),
        ] {
            var data = Data((lines[0] + "\n").utf8)
            data.append(Data(repeating: UInt8(ascii: "x"), count: length))
            data.append(Data(("\n" + lines.dropFirst().joined(separator: "\n")).utf8))
            let report = runner.check(results: data)
            #expect(report.remarks == [remark])
            #expect(report.succeeded(allowSkipped: false), "\(report.text)")
        }
    }

    @Test("an answer object of 200 000 keys is parsed and judged in seconds (linear, not quadratic, in its keys)")
    func answerWithManyKeys() throws {
        let test = try #require(Self.forwardFixtures.first?.cases.first)
        let fields = (0 ..< 200_000).map { "\"k\($0)\":0" }.joined(separator: ",")
        let line = #"{"id":"\#(test.id)","output":{"#  + fields + "}}"
        let start = Date()
        let report = ConformanceRunner(files: Self.forwardFixtures, precision: .binary64).check(resultsLines: [line])
        let elapsed = Date().timeIntervalSince(start)
        #expect(report.files.first?.verdicts.first?.reason == "xt: missing")
        #expect(elapsed < 20, "an answer of 200 000 keys took \(elapsed) s")
    }

    @Test("a results file with CRLF line ends and no final line end passes adar conform")
    func crlfResultsFile() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let results = folder.appendingPathComponent("results.jsonl")
        try Data(Self.referenceResponses().map(\.line).joined(separator: "\r\n").utf8).write(to: results)
        let run = try ADARExecutable.run(
            ["conform", "--subset", "--fixtures", Self.fixturesDirectory.path, "--results", results.path], in: folder)
        #expect(run.status == 0, "\(run.standardOutput.suffix(400))")
        #expect(!run.endedBySignal)
        #expect(run.standardOutput.hasSuffix("total: \(Self.binary64Cases.count) pass, 0 fail, 0 acceptable, 0 skipped\n"))
    }

    // MARK: A port that cannot start or shake hands

    @Test("a port that cannot start or shake hands gives one error line and exit 74", arguments: [
        (["adar-no-such-port-command"], "the port `adar-no-such-port-command` exited with status 127 (127: command not found) before answering the handshake"),
        (["python3", misbehavingPort, "garbage-handshake"], "answered the handshake {\"op\":\"hello\"} with \"hello there\", not {\"name\", \"precision\", \"operations\"}"),
    ])
    func portFailureReportedOnce(_ command: [String], _ message: String) throws {
        let run = try ADARExecutable.run(
            ["conform", "--subset", "--fixtures", Self.fixturesDirectory.path, "--timeout", "5", "--"] + command)
        #expect(run.status == 74)
        #expect(!run.endedBySignal)
        #expect(run.standardOutput.isEmpty, "a report was printed: \(run.standardOutput.prefix(300))")
        let errors = run.standardError.split(separator: "\n").filter { $0.hasPrefix("adar conform: error: ") }
        #expect(errors.count == 1, "\(run.standardError)")
        #expect(errors.first?.contains(message) == true, "\(run.standardError)")
        #expect(errors.first?.hasSuffix("no case was checked") == true || errors.first?.contains("no case was checked. Its stderr ended with: ") == true)
    }

    // MARK: Progress

    @Test("progress goes to stderr, one line per fixture file; stdout holds only the report")
    func progressOnStandardError() throws {
        let adar = try ADARExecutable.url().path
        let run = try ADARExecutable.run([
            "conform", "--json", "--subset", "--fixtures", Self.fixturesDirectory.path, "--", adar, "port-server",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let report = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any]
        #expect(report?["total"] != nil, "stdout is not the JSON report alone: \(run.standardOutput.prefix(300))")
        var expected = [String](), done = 0
        for file in Self.fixtures {
            let count = file.cases.count { $0.precision == .binary64 }
            guard count > 0 else { continue }
            done += count
            expected.append("adar conform: \(file.name) (\(file.topic)): \(count)/\(count) cases checked; \(done)/\(Self.binary64Cases.count) in all")
        }
        #expect(run.standardError.split(separator: "\n").map(String.init) == expected)
    }

    // MARK: --results paths

    @Test("--results naming a missing file or a folder: one line naming the path, exit 66")
    func resultsPathErrors() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("no-such-results.jsonl").path
        for (path, message) in [
            (missing, "adar conform: error: \(missing): no such file or folder\n"),
            (folder.path, "adar conform: error: \(folder.path): is a folder; --results takes the file of response lines a port wrote\n"),
        ] {
            let run = try ADARExecutable.run(["conform", "--subset", "--fixtures", Self.fixturesDirectory.path, "--results", path], in: folder)
            #expect(run.status == 66)
            #expect(!run.endedBySignal)
            #expect(run.standardError == message)
            #expect(run.standardOutput.isEmpty)
        }
    }

    // MARK: Fuzz

    @Test("mutated results files never trap the runner, and an answer made wrong never passes")
    func fuzzResultsFiles() throws {
        let seed = seedFromEnvironment() ?? 0x5EED_8
        var fuzzer = ResultsFuzzer(responses: Self.referenceResponses(), seed: seed)
        let replay = "replay: ADAR_SEED=\(seed) swift test --disable-xctest --filter ConformanceRobustnessTests/fuzzResultsFiles"
        // Hints (19 recomputations per failing case) run in every eighth round only, to keep the test quick.
        let withHints = ConformanceRunner(files: Self.fixtures, precision: .binary64)
        let withoutHints = ConformanceRunner(files: Self.fixtures, precision: .binary64, totalTimeout: 1e-9)
        var lines = 0
        for round in 0 ..< 40 {
            let sample = fuzzer.sample(overlong: round == 0)
            lines += sample.lineCount
            let report = (round % 8 == 0 ? withHints : withoutHints).check(results: sample.data)
            let verdicts = Dictionary(uniqueKeysWithValues: report.files.flatMap(\.verdicts).map { ($0.test.id, $0) })
            let context = "seed \(seed), round \(round); \(replay)"
            #expect(verdicts.count == Self.binary64Cases.count, "\(context)")
            #expect((try? JSONSerialization.jsonObject(with: Data(report.json.rendered.utf8))) != nil, "report is not JSON; \(context)")
            for (id, expectation) in sample.expectations {
                let outcome = verdicts[id]?.outcome
                switch expectation.verdict {
                case .fail: #expect(outcome == .fail, "\(id) after \(expectation.mutation): \(String(describing: outcome)); \(context)")
                case .pass: #expect(outcome == .pass, "\(id) after \(expectation.mutation): \(verdicts[id]?.reason ?? ""); \(context)")
                case .any: break
                }
            }
        }
        #expect(lines > 1500, "only \(lines) lines were fuzzed")

        // A few of the same through the built adar: status 0 or 1 only, and the report is JSON.
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for round in 0 ..< 3 {
            let sample = fuzzer.sample(overlong: false)
            let results = folder.appendingPathComponent("results-\(round).jsonl")
            try sample.data.write(to: results)
            let run = try ADARExecutable.run(
                ["conform", "--json", "--subset", "--fixtures", Self.fixturesDirectory.path, "--results", results.path], in: folder)
            let context = "executable round \(round), seed \(seed); \(replay)"
            #expect(!run.endedBySignal && (run.status == 0 || run.status == 1), "status \(run.status); \(context)")
            let report = try? JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any]
            #expect(report?["total"] != nil, "no JSON report; \(context)")
            let failed = Set((report?["files"] as? [[String: Any]] ?? []).flatMap { ($0["failures"] as? [[String: Any]]) ?? [] }
                .compactMap { $0["id"] as? String })
            for (id, expectation) in sample.expectations where expectation.verdict == .fail {
                #expect(failed.contains(id), "\(id) after \(expectation.mutation) was not failed; \(context)")
            }
        }
    }
}

/// Makes results files from correct response lines by mutating some of them,
/// and says for each mutated case whether it must fail, must still pass, or
/// may go either way (junk whose effect is not known in advance).
struct ResultsFuzzer {
    enum Verdict { case pass, fail, any }
    struct Expectation {
        var verdict: Verdict
        var mutation: String
    }
    struct Sample {
        var data: Data
        var lineCount: Int
        var expectations: [String: Expectation]
    }

    let responses: [(test: FixtureCase, line: String)]
    var random: SeededGenerator

    init(responses: [(test: FixtureCase, line: String)], seed: UInt64) {
        self.responses = responses
        random = SeededGenerator(seed: seed)
    }

    /// Fields compared exactly (docs/PORTING.md §1), as `OutputComparison` names them.
    static let exactFields: Set<String> = ["status", "timestep", "hardestCandidate", "words"]

    enum Step { case key(String), index(Int) }

    /// Every leaf of `value` with its path, and whether a field on the path is compared exactly.
    static func leaves(_ value: JSONValue, path: [Step] = [], exact: Bool = false) -> [(path: [Step], value: JSONValue, exact: Bool)] {
        switch value {
        case let .object(fields):
            fields.flatMap { leaves($0.1, path: path + [.key($0.0)], exact: exact || exactFields.contains($0.0)) }
        case let .array(items):
            items.enumerated().flatMap { leaves($0.element, path: path + [.index($0.offset)], exact: exact) }
        default:
            [(path, value, exact)]
        }
    }

    static func replacing(_ value: JSONValue, at path: [Step], with new: JSONValue) -> JSONValue {
        guard let step = path.first else { return new }
        switch (value, step) {
        case let (.object(fields), .key(key)):
            return .object(fields.map { $0.0 == key ? ($0.0, replacing($0.1, at: Array(path.dropFirst()), with: new)) : $0 })
        case let (.array(items), .index(i)):
            var items = items
            items[i] = replacing(items[i], at: Array(path.dropFirst()), with: new)
            return .array(items)
        default:
            return value
        }
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0 ..< items.count, using: &random)] }

    /// A results file: about a quarter of the lines mutated, some lines
    /// duplicated or readdressed, junk lines added, the order shuffled, LF or
    /// CRLF line ends, with or without a final line end.
    mutating func sample(overlong: Bool) -> Sample {
        var lines = [[UInt8]]()
        var expectations = [String: Expectation]()
        for (test, line) in responses {
            guard Double.random(in: 0 ..< 1, using: &random) < 0.25 else {
                lines.append(Array(line.utf8))
                continue
            }
            let (mutated, verdict, name) = mutate(test, line)
            expectations[test.id] = Expectation(verdict: verdict, mutation: name)
            if let mutated { lines.append(mutated) }
        }
        // Whole-line changes touch only cases whose own line is intact, so their effect is certain.
        func intact() -> (test: FixtureCase, line: String)? {
            let candidates = responses.filter { expectations[$0.test.id] == nil }
            return candidates.isEmpty ? nil : pick(candidates)
        }
        for _ in 0 ..< Int.random(in: 0 ... 3, using: &random) {
            guard let (test, line) = intact() else { break }
            lines.append(Array(line.utf8))
            expectations[test.id] = Expectation(verdict: .fail, mutation: "a duplicated line")
        }
        for _ in 0 ..< Int.random(in: 0 ... 2, using: &random) {
            let (from, line) = pick(responses)
            guard let (to, _) = intact(), from.id != to.id else { continue }
            let readdressed = Self.replacing(try! JSONValue.parse(line), at: [.key("id")], with: .string(to.id))
            lines.append(Array(readdressed.rendered.utf8))
            expectations[to.id] = Expectation(verdict: .fail, mutation: "a second answer under its id, \(from.id)'s")
        }
        if overlong, let (test, line) = intact() {
            // The case's answer padded past the maximum line length: valid JSON, but never read.
            lines.removeAll { $0 == Array(line.utf8) }
            lines.append(Array(line.utf8) + [UInt8](repeating: 0x20, count: ConformanceRunner.maximumLineBytes))
            expectations[test.id] = Expectation(verdict: .fail, mutation: "its line padded past the maximum length")
        }
        for _ in 0 ..< Int.random(in: 0 ... 4, using: &random) {
            lines.append(junk(count: Int.random(in: 0 ... 300, using: &random)))
        }
        if Double.random(in: 0 ..< 1, using: &random) < 0.1 {
            lines.append(junk(count: Int.random(in: 10_000 ... 200_000, using: &random)))
        }
        lines.shuffle(using: &random)
        let end: [UInt8] = Bool.random(using: &random) ? [0x0D, 0x0A] : [0x0A]
        var data = Data()
        for (i, line) in lines.enumerated() {
            data.append(contentsOf: line)
            if i < lines.count - 1 || Bool.random(using: &random) { data.append(contentsOf: end) }
        }
        return Sample(data: data, lineCount: lines.count, expectations: expectations)
    }

    /// Random bytes without a line end.
    mutating func junk(count: Int) -> [UInt8] {
        (0 ..< count).map { _ in
            let byte = UInt8.random(in: 0 ... 255, using: &random)
            return byte == 0x0A ? 0x20 : byte
        }
    }

    /// One mutation of one response line: the new line (nil: dropped), what the case's verdict must be, and its name.
    mutating func mutate(_ test: FixtureCase, _ line: String) -> ([UInt8]?, Verdict, String) {
        let response = try! JSONValue.parse(line)
        let output = response["output"]
        let compared = Self.leaves(test.expected)
        if test.result == .valid, output != nil, !compared.isEmpty, Bool.random(using: &random) {
            return mutateOutput(test, response, leaf: pick(compared))
        }
        let bytes = Array(line.utf8)
        switch Int.random(in: 0 ..< 9, using: &random) {
        case 0:
            return (nil, .fail, "a dropped line")
        case 1:
            let cut = Int.random(in: 1 ..< bytes.count, using: &random)
            return (Array(bytes[..<cut]), .fail, "truncated at byte \(cut)")
        case 2:
            return (junk(count: Int.random(in: 1 ... 200, using: &random)), .fail, "replaced by junk")
        case 3:
            var mutated = bytes
            for _ in 0 ..< Int.random(in: 1 ... 4, using: &random) {
                mutated.insert(UInt8.random(in: 0 ... 255, using: &random), at: Int.random(in: 0 ... mutated.count, using: &random))
            }
            return (mutated.map { $0 == 0x0A ? 0x20 : $0 }, .any, "junk bytes inserted")
        case 4:
            return (Array("  \t".utf8) + bytes + Array(" \t\r".utf8), .pass, "blanks around the line, a CR before its end")
        case 5:
            return (Array(JSONValue.object(response.objectFields!.reversed()).rendered.utf8), .pass, "keys in reverse order")
        case 6:
            let wrongID = pick([JSONValue.integer(7), .null, .array([]), .string(test.id + " ")])
            return (Array(Self.replacing(response, at: [.key("id")], with: wrongID).rendered.utf8), .fail, "id \(wrongID.rendered)")
        case 7:
            // A valid case refused, an invalid one answered.
            let refusal = JSONValue.object([("kind", .string("invalidSchedule")), ("field", .string("steps")), ("message", .string("no"))])
            let swapped = JSONValue.object([("id", .string(test.id)), output != nil ? ("error", refusal) : ("output", .object([]))])
            return (Array(swapped.rendered.utf8), .fail, output != nil ? "refused" : "answered")
        default:
            let wrong = pick([JSONValue.string("output"), .integer(5), .array([]), .null])
            let key = output != nil ? "output" : "error"
            return (Array(Self.replacing(response, at: [.key(key)], with: wrong).rendered.utf8), .fail, "\(key) is \(wrong.rendered)")
        }
    }

    /// A valid case's answer with one compared value made wrong: out of
    /// tolerance, of another type, NaN for a number or the reverse, a huge
    /// number, or a field missing. Every one must fail.
    mutating func mutateOutput(
        _ test: FixtureCase, _ response: JSONValue, leaf: (path: [Step], value: JSONValue, exact: Bool)
    ) -> ([UInt8]?, Verdict, String) {
        let path = [Step.key("output")] + leaf.path, expected = leaf.value
        func with(_ value: JSONValue) -> [UInt8] { Array(Self.replacing(response, at: path, with: value).rendered.utf8) }
        let number = expected.doubleValue.flatMap { $0.isFinite ? $0 : nil }
        switch Int.random(in: 0 ..< 6, using: &random) {
        case 0 where number != nil && !leaf.exact:
            // At least 1000 times the allowance max(absolute, relative·|x|), up to overflow (null).
            let tolerance = max(test.tolerance.relative, test.tolerance.absolute, 1e-300)
            let scale = pow(10, Double.random(in: log10(tolerance) + 3 ... 300, using: &random))
            let moved = number! + (Bool.random(using: &random) ? 1 : -1) * (abs(number!) + 1) * scale
            return (with(.real(moved)), .fail, "\(expected.rendered) moved to \(JSONValue.real(moved).rendered)")
        case 0 where expected.intValue != nil && leaf.exact:
            return (with(.integer(expected.intValue! &+ 1)), .fail, "an exact integer off by one")
        case 1:
            let wrong = pick([JSONValue.string("0.5"), .bool(true), .array([]), .object([])])
            return (with(wrong), .fail, "\(expected.rendered) answered as \(wrong.rendered)")
        case 2 where number != nil:
            return (with(.null), .fail, "\(expected.rendered) answered as null (NaN)")
        case 2 where expected == .null:
            return (with(.real(0.5)), .fail, "NaN answered as 0.5")
        case 3 where expected.stringValue != nil:
            return (with(.string("notAStatus")), .fail, "\(expected.rendered) answered as \"notAStatus\"")
        case 4:
            let huge = pick(["1e400", "-1e400", "1e300", "-1e300", "123456789012345678901234567890"])
            let text = String(decoding: with(.string("HUGE-NUMBER")), as: UTF8.self)
                .replacingOccurrences(of: "\"HUGE-NUMBER\"", with: huge)
            // Only an expected value as huge could match.
            return (Array(text.utf8), number.map { abs($0) >= 1e29 } == true ? .any : .fail, "\(expected.rendered) answered as \(huge)")
        default:
            guard case let .object(fields) = response["output"], let field = test.expected.objectFields?.first?.0 else {
                return (nil, .fail, "a dropped line")
            }
            let rest = JSONValue.object(fields.filter { $0.0 != field })
            return (Array(Self.replacing(response, at: [.key("output")], with: rest).rendered.utf8), .fail, "output field \(field) removed")
        }
    }
}
