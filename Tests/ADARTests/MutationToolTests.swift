import Foundation
import Testing

/// The mutator of `make mutation` (scripts/mutation.py, docs/Mutation.md) on a tiny fixture:
/// the mutants it generates, that its schemata compile and switch one mutant on at a time, that it
/// never writes to the file it mutates, and that stale equivalence records are refused.
@Suite("Mutation tool (scripts/mutation.py)")
struct MutationToolTests {
    static let fixture = """
        func clamp(_ x: Int, _ limit: Int) -> Int {
            x < limit ? x : limit
        }

        func total(_ xs: [Int]) -> Int {
            var sum = 0
            for i in 0..<xs.count { sum += xs[i] * 2 }
            return sum
        }

        func margin(_ a: Double, _ b: Double) -> Double { -(a - b) }

        #if arch(x86_64)
        let lanes = 4
        #else
        let lanes = 8
        #endif

        """

    /// Worked out by hand from the operators docs/Mutation.md lists.
    static let expectedMutants = [
        "2:7 relational: x < limit → x <= limit",
        "6:15 constant: 0 → 1",
        "7:14 constant: 0 → 1",
        "7:33 dropped update: xs[i] * 2 → .zero",
        "7:38 index: i → i + 1",
        "7:38 index: i → i - 1",
        "7:42 arithmetic: xs[i] * 2 → xs[i] / 2",
        "7:42 dropped term: xs[i] * 2 → xs[i]",
        "7:44 constant: 2 → 3",
        "7:44 constant: 2 → 1",
        "11:51 sign: -(a - b) → (a - b)",
        "11:55 arithmetic: a - b → a + b",
        "11:55 swapped operands: a - b → b - a",
        "11:55 dropped term: a - b → a",
    ] + thisMachinesBranch

    /// Only the `#if arch` branch this machine compiles is mutated.
    #if arch(x86_64)
    static let thisMachinesBranch = ["14:13 constant: 4 → 5", "14:13 constant: 4 → 3"]
    #else
    static let thisMachinesBranch = ["16:13 constant: 8 → 9", "16:13 constant: 8 → 7"]
    #endif

    static func mutator(_ arguments: [String]) throws -> ProcessResult {
        try ProcessResult.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", "scripts/mutation.py"] + arguments,
            in: ADARExecutable.repositoryRoot)
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-mutation-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The fixture written to `folder`, and the mutator's `--render` of it.
    static func renderedFixture(in folder: URL) throws -> (file: URL, rendered: ProcessResult) {
        let file = folder.appendingPathComponent("Fixture.swift")
        try fixture.write(to: file, atomically: true, encoding: .utf8)
        return (file, try mutator(["--render", "--fixture", file.path]))
    }

    @Test("lists exactly the hand-derived mutants of the fixture (this machine's #if arch branch only), leaves it untouched")
    func listsFixtureMutants() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (file, rendered) = try Self.renderedFixture(in: folder)
        let listed = try Self.mutator(["--list", "--fixture", file.path])
        #expect(listed.status == 0, "\(listed.standardError)")
        #expect(rendered.status == 0, "\(rendered.standardError)")
        let lines = listed.standardOutput.split(separator: "\n").map { line in
            String(line.split(separator: "\t")[1]).replacingOccurrences(of: file.path + ":", with: "")
        }
        #expect(lines == Self.expectedMutants)
        #expect(try String(contentsOf: file, encoding: .utf8) == Self.fixture)
    }

    /// Compiles the schemata of the fixture with a driver that prints what the fixture computes:
    /// with no mutant switched on it prints the hand-computed values; with each mutant it prints
    /// something else or traps — except the one mutant that is equivalent (`x <= limit ? x : limit`
    /// returns the same value as `x < limit ? x : limit` for every input).
    @Test("each mutant switched on alone changes what the compiled fixture computes, bar one equivalent")
    func schemataSwitchOneMutant() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rendered = try Self.renderedFixture(in: folder).rendered
        try #require(rendered.status == 0, "\(rendered.standardError)")
        let schemata = folder.appendingPathComponent("Schemata.swift")
        try rendered.standardOutput.write(to: schemata, atomically: true, encoding: .utf8)
        let driver = folder.appendingPathComponent("main.swift")
        try """
            import Foundation
            let active = Int(ProcessInfo.processInfo.environment["ADAR_MUTANT"] ?? "") ?? 0
            func adarMutantFixture(_ id: Int) -> Bool { id == active }
            print(clamp(3, 5), clamp(7, 5), total([1, 2, 3]), margin(2, 5), lanes)

            """.write(to: driver, atomically: true, encoding: .utf8)
        let program = folder.appendingPathComponent("fixture")
        let compiled = try ProcessResult.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["swiftc", "-Onone", "-o", program.path, driver.path, schemata.path], in: folder)
        try #require(compiled.status == 0, "\(compiled.standardError)")

        let original = try ProcessResult.run(program, [], environment: ["ADAR_MUTANT": "0"])
        #if arch(x86_64)
        #expect(original.standardOutput == "3 5 12 3.0 4\n")
        #else
        #expect(original.standardOutput == "3 5 12 3.0 8\n")
        #endif
        var unchanged: [Int] = []
        for id in 1...Self.expectedMutants.count {
            let mutated = try ProcessResult.run(program, [], environment: ["ADAR_MUTANT": String(id)])
            if !mutated.endedBySignal && mutated.standardOutput == original.standardOutput { unchanged.append(id) }
        }
        #expect(unchanged == [1], "mutants that changed nothing: \(unchanged)")
    }

    @Test("the committed equivalents each match a mutant of today's sources; a stale entry is refused by name")
    func equivalentsAreCurrent() throws {
        let committed = try Self.mutator(["--check-equivalents"])
        #expect(committed.status == 0, "\(committed.standardError)")

        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let stale = folder.appendingPathComponent("equivalents.txt")
        try "Sources/ADAR/Gone.swift | relational | a < b → a <= b | a < b | was equivalent\n"
            .write(to: stale, atomically: true, encoding: .utf8)
        let refused = try Self.mutator(["--check-equivalents", "--equivalents", stale.path])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("Sources/ADAR/Gone.swift | relational | a < b → a <= b | a < b"))
        #expect(refused.standardError.contains("judge the mutant again"))
    }

    @Test("the report's 95 % lower bound is the one-sided Clopper–Pearson bound")
    func killRateLowerBound() throws {
        // Expected values: all killed, α^(1/n) in closed form; otherwise scipy's
        // beta.ppf(0.05, k, n − k + 1), computed outside this repository.
        let cases: [(killed: Int, judged: Int, expected: Double)] = [
            (70, 70, 0.9581066559331114), (17, 17, 0.8384338887392598), (58, 60, 0.8987641050758384), (0, 5, 0),
        ]
        let calls = cases.map { "print(repr(m.kill_rate_lower_bound(\($0.killed), \($0.judged))))" }.joined(separator: "; ")
        let run = try ProcessResult.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import sys; sys.path.insert(0, 'scripts'); import mutation as m; " + calls],
            in: ADARExecutable.repositoryRoot)
        #expect(run.status == 0, "\(run.standardError)")
        let values = run.standardOutput.split(separator: "\n").compactMap { Double($0) }
        #expect(values.count == cases.count, "\(run.standardOutput)")
        for (value, c) in zip(values, cases) {
            #expect(abs(value - c.expected) <= 1e-12, "\(c.killed) of \(c.judged): \(value), expected \(c.expected)")
        }
    }
}
