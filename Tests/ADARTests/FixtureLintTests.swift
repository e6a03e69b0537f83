import Foundation
import Testing
import ADARFixtures
import ADARProtocol

/// `adar fixtures lint` (docs/PORTING.md §1, "Lint"): each rule rejects a mutated copy of a
/// committed fixture file with a finding that names the file, group, tcId, field and reason;
/// the committed fixtures and the hand-made test fixtures pass every rule.
@Suite("Fixture lint")
struct FixtureLintTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let committed = root.appendingPathComponent("fixtures")

    /// The committed fixtures: `FixturesTests.committedFixturesLint`, and each unmutated file below.
    @Test("the hand-made fixtures of ConformanceRunnerTests lint clean (adar conform lints them)")
    func handMadeFixturesPass() throws {
        let handMade = Self.root.appendingPathComponent("Tests/ADARTests/ConformanceFixtures")
        #expect(try FixtureLinter.lint(directory: handMade) == [])
    }

    @Test("each rule rejects a mutated committed file, naming file, group, tcId, field and reason", arguments: LintMutation.all)
    func ruleRejectsMutation(_ mutation: LintMutation) throws {
        let original = try String(contentsOf: Self.committed.appendingPathComponent(mutation.file), encoding: .utf8)
        #expect(FixtureLinter.lint(text: original, file: mutation.file) == [], "the unmutated \(mutation.file) must pass")
        let text = try mutation.apply(to: original)
        let findings = FixtureLinter.lint(text: text, file: mutation.file)
        let match = findings.first { $0.field == mutation.field && $0.reason.contains(mutation.reason) }
        #expect(match != nil, "no finding at \(mutation.field) mentioning '\(mutation.reason)'; findings: \(findings)")
        if let match {
            #expect(match.file == mutation.file)
            #expect(match.tcId == mutation.tcId, "\(match)")
            #expect(match.group == mutation.group, "\(match)")
            #expect(match.description.hasPrefix(mutation.file + (mutation.tcId.map { " tcId \($0)" } ?? "") + " \(mutation.field): "))
        }
    }

    @Test("a finding's JSON carries file, group, tcId, field and reason")
    func findingJSON() {
        let finding = LintIssue(file: "transition.json", group: 1, tcId: 43, field: "testGroups[1].tests[0].input.rho", reason: "why")
        #expect(finding.json.rendered
            == #"{"file":"transition.json","group":1,"tcId":43,"field":"testGroups[1].tests[0].input.rho","reason":"why"}"#)
        #expect(LintIssue(file: "a.json", field: "numberOfTests", reason: "r").json.rendered
            == #"{"file":"a.json","group":null,"tcId":null,"field":"numberOfTests","reason":"r"}"#)
    }

    @Test("adar fixtures lint --json prints the findings as JSON objects and exits 1")
    func lintJSONThroughExecutable() throws {
        let folder = try Self.copyOfCommitted()
        defer { try? FileManager.default.removeItem(at: folder) }
        let mutation = try #require(LintMutation.all.first { $0.name == "infinite expected value" })
        let file = folder.appendingPathComponent(mutation.file)
        try Data(try mutation.apply(to: String(contentsOf: file, encoding: .utf8)).utf8).write(to: file)

        let run = try ADARExecutable.run(["fixtures", "lint", "--json", folder.path], in: folder)
        #expect(run.status == 1 && !run.endedBySignal, "status \(run.status): \(run.standardError)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
        let findings = try #require(root["findings"] as? [[String: Any]])
        #expect(root["count"] as? Int == findings.count && findings.count == 1, "\(run.standardOutput)")
        #expect(findings.first?["file"] as? String == "transition.json")
        #expect(findings.first?["tcId"] as? Int == 1)
        #expect(findings.first?["group"] as? Int == 0)
        #expect(findings.first?["field"] as? String == "testGroups[0].tests[0].expected.aStar")
        #expect((findings.first?["reason"] as? String)?.contains("beyond binary64's range") == true)

        let clean = try ADARExecutable.run(["fixtures", "lint", "--json", Self.committed.path], in: folder)
        #expect(clean.status == 0 && clean.standardOutput.contains(#""count":0,"findings":[]"#), "\(clean.standardOutput)")
    }

    static func copyOfCommitted() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-lint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in try FixtureFile.names(in: committed) {
            try FileManager.default.copyItem(at: committed.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        return folder
    }
}

/// One lint rule and a mutation of a committed fixture file that breaks it.
struct LintMutation: Sendable, CustomTestStringConvertible {
    var name: String
    var file: String
    /// The step path of the value to change (`"testGroups", 0, "tests", 0, "input", "rho"`).
    var path: [PathStep]
    /// The new value (nil removes the field); `.raw` writes JSON text the model cannot hold (`1e999`).
    var change: Change
    /// The finding expected.
    var group: Int?
    var tcId: Int?
    var field: String
    var reason: String

    var testDescription: String { name }

    enum PathStep: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case key(String), index(Int)
        init(stringLiteral value: String) { self = .key(value) }
        init(integerLiteral value: Int) { self = .index(value) }
    }

    enum Change: Sendable {
        case value(JSONValue)
        case raw(String)
        case remove
        /// A computed replacement of the current value.
        case transform(@Sendable (JSONValue) -> JSONValue)
    }

    static let marker = "\"@LINT-MUTATION@\""

    func apply(to text: String) throws -> String {
        let document = try JSONValue.parse(text)
        switch change {
        case let .raw(literal):
            return Self.update(document, path[...]) { _ in .string("@LINT-MUTATION@") }.prettyPrinted()
                .replacingOccurrences(of: Self.marker, with: literal)
        case let .value(value): return Self.update(document, path[...]) { _ in value }.prettyPrinted()
        case .remove: return Self.update(document, path[...]) { _ in nil }.prettyPrinted()
        case let .transform(transform): return Self.update(document, path[...]) { $0.map(transform) }.prettyPrinted()
        }
    }

    /// `value` with the element at `path` replaced by `change(old)` (nil: removed; a missing key is added).
    static func update(_ value: JSONValue, _ path: ArraySlice<PathStep>, _ change: (JSONValue?) -> JSONValue?) -> JSONValue {
        guard let step = path.first else { return change(value) ?? .null }
        switch (step, value) {
        case let (.key(key), .object(fields)):
            var fields = fields
            if let i = fields.firstIndex(where: { $0.0 == key }) {
                if path.count == 1, change(fields[i].1) == nil { fields.remove(at: i) } else {
                    fields[i].1 = update(fields[i].1, path.dropFirst(), change)
                }
            } else if path.count == 1, let new = change(nil) {
                fields.append((key, new))
            }
            return .object(fields)
        case let (.index(i), .array(items)):
            var items = items
            items[i] = update(items[i], path.dropFirst(), change)
            return .array(items)
        default:
            preconditionFailure("mutation path does not fit the document at \(step)")
        }
    }

    static func firstTest(_ group: Int = 0, _ test: Int = 0) -> [PathStep] { ["testGroups", .index(group), "tests", .index(test)] }

    static let all: [LintMutation] = [
        // Numbers that read as ±∞: an infinite expected value or tolerance would pass any answer.
        LintMutation(name: "infinite expected value", file: "transition.json", path: firstTest() + ["expected", "aStar"], change: .raw("1e999"),
                     group: 0, tcId: 1, field: "testGroups[0].tests[0].expected.aStar", reason: "beyond binary64's range (it reads as ∞)"),
        LintMutation(name: "infinite expected array element", file: "schedules.json", path: firstTest(1, 2) + ["expected", "alphaBar", 1],
                     change: .raw("-1e400"), group: 1, tcId: 25, field: "testGroups[1].tests[2].expected.alphaBar[1]", reason: "(it reads as −∞)"),
        LintMutation(name: "infinite input", file: "forward_process.json", path: firstTest() + ["input", "x0", 0], change: .raw("1e999"),
                     group: 0, tcId: 1, field: "testGroups[0].tests[0].input.x0[0]", reason: "beyond binary64's range"),
        LintMutation(name: "infinite tolerance", file: "loss.json", path: ["testGroups", 1, "tolerance", "absolute"], change: .raw("1e999"),
                     group: 1, tcId: nil, field: "testGroups[1].tolerance.absolute", reason: "must be a finite number ≥ 0"),
        LintMutation(name: "negative tolerance", file: "noise.json", path: ["testGroups", 0, "tolerance", "relative"], change: .value(.number(-1e-12)),
                     group: 0, tcId: nil, field: "testGroups[0].tolerance.relative", reason: "must be a finite number ≥ 0"),
        // Absurd tolerances (Proofs/conformance-tolerances.md): an answer of zeros would pass.
        LintMutation(name: "relative tolerance ≥ 1", file: "synthesis.json", path: ["testGroups", 1, "tolerance", "relative"], change: .value(.number(1)),
                     group: 1, tcId: nil, field: "testGroups[1].tolerance.relative", reason: "an answer of 0 would pass for every expected value"),
        LintMutation(name: "absolute tolerance beyond the group's scale", file: "transition.json", path: ["testGroups", 0, "tolerance", "absolute"],
                     change: .value(.number(1)), group: 0, tcId: nil, field: "testGroups[0].tolerance.absolute",
                     reason: "the largest |expected| real of the group: an answer of zeros would pass"),
        // Wrong JSON types.
        LintMutation(name: "a string for a real input", file: "transition.json", path: firstTest() + ["input", "rho"], change: .value(.string("half")),
                     group: 0, tcId: 1, field: "testGroups[0].tests[0].input.rho", reason: "must be a number (null for NaN), got the string \"half\""),
        LintMutation(name: "a string for numberOfTests", file: "transition.json", path: ["numberOfTests"], change: .value(.string("84")),
                     group: nil, tcId: nil, field: "numberOfTests", reason: "must be an integer, got the string \"84\""),
        LintMutation(name: "a real for an integer output", file: "transition.json", path: firstTest() + ["expected", "timestep"],
                     change: .value(.number(500.5)), group: 0, tcId: 1, field: "testGroups[0].tests[0].expected.timestep",
                     reason: "must be an integer, got the number 500.5"),
        LintMutation(name: "an unknown status", file: "transition.json", path: firstTest() + ["expected", "status"], change: .value(.string("crossed")),
                     group: 0, tcId: 1, field: "testGroups[0].tests[0].expected.status", reason: "must be one of transition, saturated"),
        LintMutation(name: "an unknown policy in a configuration", file: "synthesis.json", path: firstTest() + ["input", "configuration", "policy"],
                     change: .value(.string("median")), group: 0, tcId: 1, field: "testGroups[0].tests[0].input.configuration.policy",
                     reason: "must be one of max, mean, first"),
        LintMutation(name: "a number for a seed string", file: "noise.json", path: firstTest(2) + ["input", "seed"], change: .value(.integer(42)),
                     group: 2, tcId: 17, field: "testGroups[2].tests[0].input.seed", reason: "an unsigned 64-bit integer written as a decimal string"),
        LintMutation(name: "a Philox word beyond 32 bits", file: "noise.json", path: firstTest() + ["expected", "words", 0],
                     change: .value(.integer(1 << 32)), group: 0, tcId: 1, field: "testGroups[0].tests[0].expected.words[0]",
                     reason: "must be an unsigned 32-bit integer"),
        LintMutation(name: "a string in a pool row", file: "loss.json", path: firstTest() + ["input", "pool", 0, 0], change: .value(.string("0.5")),
                     group: 0, tcId: 1, field: "testGroups[0].tests[0].input.pool[0][0]", reason: "must be a number"),
        LintMutation(name: "a string tcId", file: "forward_process.json", path: firstTest() + ["tcId"], change: .value(.string("1")),
                     group: 0, tcId: nil, field: "testGroups[0].tests[0].tcId", reason: "missing or not an integer (got the string \"1\")"),
        LintMutation(name: "a missing input field", file: "forward_process.json", path: firstTest() + ["input", "sigma"], change: .remove,
                     group: 0, tcId: 1, field: "testGroups[0].tests[0].input.sigma", reason: "missing (input field of forward)"),
        LintMutation(name: "a schedule without its parameter", file: "schedules.json", path: firstTest() + ["input", "schedule", "end"], change: .remove,
                     group: 0, tcId: 1, field: "testGroups[0].tests[0].input.schedule.end", reason: "missing (a linear schedule needs it)"),
        // Duplicate tcIds and counts that disagree.
        LintMutation(name: "duplicate tcId", file: "schedules.json", path: firstTest(1, 0) + ["tcId"], change: .value(.integer(1)),
                     group: 1, tcId: 1, field: "testGroups[1].tests[0].tcId", reason: "duplicate tcId (also at testGroups[0].tests[0])"),
        LintMutation(name: "numberOfTests disagrees", file: "loss.json", path: ["numberOfTests"], change: .transform { .integer(($0.intValue ?? 0) + 1) },
                     group: nil, tcId: nil, field: "numberOfTests", reason: "but the groups hold"),
        LintMutation(name: "an emptied group that numberOfTests still counts", file: "schedules.json", path: ["testGroups", 1, "tests"],
                     change: .value(.array([])), group: nil, tcId: nil, field: "numberOfTests", reason: "declares 44 but the groups hold 22 tests"),
        // Unknown operations.
        LintMutation(name: "unknown group operation", file: "forward_process.json", path: ["testGroups", 1, "operation"], change: .value(.string("diffuse")),
                     group: 1, tcId: nil, field: "testGroups[1].operation", reason: "unknown operation the string \"diffuse\""),
        LintMutation(name: "unknown test operation", file: "invalid_inputs.json", path: firstTest() + ["operation"], change: .value(.string("sample")),
                     group: 0, tcId: 1, field: "testGroups[0].tests[0].operation", reason: "unknown operation the string \"sample\""),
        LintMutation(name: "unknown file operation", file: "noise.json", path: ["operation"], change: .value(.string("random")),
                     group: nil, tcId: nil, field: "operation", reason: "unknown operation the string \"random\""),
        // Unknown fields, at every level.
        LintMutation(name: "unknown top-level field", file: "loss.json", path: ["version"], change: .value(.integer(2)),
                     group: nil, tcId: nil, field: "version", reason: "unknown top-level field"),
        LintMutation(name: "unknown group field", file: "loss.json", path: ["testGroups", 0, "weight"], change: .value(.integer(2)),
                     group: 0, tcId: nil, field: "testGroups[0].weight", reason: "unknown group field"),
        LintMutation(name: "unknown tolerance field", file: "loss.json", path: ["testGroups", 0, "tolerance", "ulps"], change: .value(.integer(4)),
                     group: 0, tcId: nil, field: "testGroups[0].tolerance.ulps", reason: "unknown tolerance field"),
        LintMutation(name: "unknown test field", file: "loss.json", path: firstTest() + ["weight"], change: .value(.integer(2)),
                     group: 0, tcId: 1, field: "testGroups[0].tests[0].weight", reason: "unknown test field"),
        LintMutation(name: "unknown input field", file: "transition.json", path: firstTest() + ["input", "temperature"], change: .value(.number(0.5)),
                     group: 0, tcId: 1, field: "testGroups[0].tests[0].input.temperature", reason: "unknown input field of transition"),
        LintMutation(name: "unknown output field", file: "transition.json", path: firstTest() + ["expected", "zScore"], change: .value(.number(0.5)),
                     group: 0, tcId: 1, field: "testGroups[0].tests[0].expected.zScore", reason: "unknown output field of transition"),
        LintMutation(name: "unknown schedule parameter", file: "schedules.json", path: firstTest() + ["input", "schedule", "gamma"],
                     change: .value(.number(0.5)), group: 0, tcId: 1, field: "testGroups[0].tests[0].input.schedule.gamma",
                     reason: "unknown parameter of a linear schedule"),
        LintMutation(name: "unknown configuration field", file: "loss.json", path: firstTest() + ["input", "configuration", "margin"],
                     change: .value(.number(0.5)), group: 0, tcId: 1, field: "testGroups[0].tests[0].input.configuration.margin",
                     reason: "unknown field (allowed: augmentationWeight, l2, fallback, gradientFlow)"),
        LintMutation(name: "unknown error field", file: "invalid_inputs.json", path: firstTest() + ["expected", "error", "code"],
                     change: .value(.integer(3)), group: 0, tcId: 1, field: "testGroups[0].tests[0].expected.error.code", reason: "unknown error field"),
        LintMutation(name: "unknown note field", file: "transition.json", path: ["notes", "Cancellation", "severity"], change: .value(.string("high")),
                     group: nil, tcId: nil, field: "notes.Cancellation.severity", reason: "unknown note field"),
    ]
}
