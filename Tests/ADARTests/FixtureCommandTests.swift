import Foundation
import Testing
import ADARFixtures
import ADARProtocol

/// `adar conform` lints the fixtures it loads and refuses an incomplete set unless `--subset`
/// (docs/PORTING.md §4, "The fixture set"); run through the built executable, in temporary folders.
@Suite("Conform: the fixture set it loads")
struct ConformFixtureSetTests {
    static let committed = ADARExecutable.repositoryRoot.appendingPathComponent("fixtures")

    /// A temporary copy of the committed fixture files (not schema/), removed by the caller.
    static func copyOfCommitted() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-fixture-set-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in try FixtureFile.names(in: committed) {
            try FileManager.default.copyItem(at: committed.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        return folder
    }

    /// `adar conform --json --fixtures folder [options] -- adar port-server --implementation reference`, run in `folder`.
    static func conform(_ folder: URL, _ options: [String] = []) throws -> ProcessResult {
        let adar = try ADARExecutable.url().path
        return try ADARExecutable.run(
            ["conform", "--json", "--fixtures", folder.path] + options + ["--", adar, "port-server", "--implementation", "reference"], in: folder)
    }

    static func remarks(_ run: ProcessResult) throws -> [String] {
        let root = try #require(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
        return try #require(root["remarks"] as? [String])
    }

    static func edit(_ file: URL, _ mutation: LintMutation) throws {
        try Data(try mutation.apply(to: String(contentsOf: file, encoding: .utf8)).utf8).write(to: file)
    }

    @Test("the complete committed set runs without --subset")
    func completeSetRuns() throws {
        let folder = try Self.copyOfCommitted()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try Self.conform(folder)
        #expect(run.status == 0 && !run.endedBySignal, "status \(run.status): \(run.standardError)")
        #expect(try Self.remarks(run).allSatisfy { !$0.hasPrefix("subset") })
    }

    @Test("a deleted file is refused (66) unless --subset, whose report names what was not checked")
    func deletedFile() throws {
        let folder = try Self.copyOfCommitted()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("noise.json"))

        let refused = try Self.conform(folder)
        #expect(refused.status == 66 && !refused.endedBySignal, "status \(refused.status): \(refused.standardOutput)")
        #expect(refused.standardOutput.isEmpty, "no report for a refused set")
        #expect(refused.standardError.contains("noise.json: file absent (8 binary64 philox cases)"), "\(refused.standardError)")
        #expect(refused.standardError.contains("adar conform: error: \(folder.path) does not hold the complete fixture set"))
        #expect(refused.standardError.contains("pass --subset"))

        let subset = try Self.conform(folder, ["--subset"])
        #expect(subset.status == 0 && !subset.endedBySignal, "status \(subset.status): \(subset.standardError)")
        let remarks = try Self.remarks(subset)
        #expect(remarks.contains("subset: operations not checked at all: philox, normals"), "\(remarks)")
        #expect(remarks.contains("subset: not checked: noise.json: file absent (8 binary64 normals cases)"), "\(remarks)")
    }

    @Test("a group emptied with numberOfTests set to match passes lint but is refused as incomplete (66)")
    func emptiedGroup() throws {
        let folder = try Self.copyOfCommitted()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("schedules.json")
        try Self.edit(file, LintMutation(name: "empty", file: "schedules.json", path: ["testGroups", 0, "tests"], change: .value(.array([])),
                                         field: "", reason: ""))
        try Self.edit(file, LintMutation(name: "count", file: "schedules.json", path: ["numberOfTests"], change: .value(.integer(22)),
                                         field: "", reason: ""))
        #expect(FixtureLinter.lint(text: try String(contentsOf: file, encoding: .utf8), file: "schedules.json") == [])

        let refused = try Self.conform(folder)
        #expect(refused.status == 66 && !refused.endedBySignal, "status \(refused.status): \(refused.standardOutput)")
        #expect(refused.standardError.contains("schedules.json: 22 of 22 binary64 schedule cases absent (tcIds 1–22)"), "\(refused.standardError)")

        let subset = try Self.conform(folder, ["--subset"])
        #expect(subset.status == 0, "status \(subset.status): \(subset.standardError)")
        #expect(try Self.remarks(subset).contains("subset: not checked: schedules.json: 22 of 22 binary64 schedule cases absent (tcIds 1–22)"))
    }

    @Test("a case changed within lint's rules is refused as differing from the generated set (66)")
    func changedCase() throws {
        let folder = try Self.copyOfCommitted()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.edit(folder.appendingPathComponent("transition.json"), LintMutation(
            name: "looser", file: "transition.json", path: ["testGroups", 0, "tests", 4, "expected", "aStar"],
            change: .transform { .number(($0.doubleValue ?? 0) * 1.001) }, field: "", reason: ""))
        let refused = try Self.conform(folder)
        #expect(refused.status == 66, "status \(refused.status): \(refused.standardError)")
        let cases = try FixtureFile.load(directory: FixtureLintTests.committed).flatMap(\.cases)
            .count { $0.file == "transition.json" && $0.precision == .binary64 }
        #expect(refused.standardError.contains(
            "transition.json: 1 of \(cases) binary64 transition cases differ from the fixtures this adar generates (tcId 5)"), "\(refused.standardError)")
    }

    @Test("fixtures that fail lint are refused (65) with the findings, --subset or not")
    func lintFailureRefused() throws {
        let folder = try Self.copyOfCommitted()
        defer { try? FileManager.default.removeItem(at: folder) }
        let mutation = try #require(LintMutation.all.first { $0.name == "infinite expected value" })
        try Self.edit(folder.appendingPathComponent(mutation.file), mutation)
        for options in [[], ["--subset"]] {
            let refused = try Self.conform(folder, options)
            #expect(refused.status == 65 && !refused.endedBySignal, "\(options): status \(refused.status): \(refused.standardOutput.prefix(300))")
            #expect(refused.standardOutput.isEmpty)
            let lines = refused.standardError.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("transition.json tcId 1 testGroups[0].tests[0].expected.aStar: a number beyond binary64's range") == true,
                    "\(lines)")
            #expect(lines.last?.hasPrefix("adar conform: error: 1 lint finding(s) in \(folder.path)") == true, "\(lines)")
        }
    }
}

/// Where the fixture commands look without a path, and their one-line errors for paths that
/// cannot be used (docs/CLI.md exit statuses: 66 missing input, 73 output that cannot be created).
@Suite("Fixture commands: paths")
struct FixturePathTests {
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-fixture-paths-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// One line on stderr, `<prefix>: error: <message>`, and no Foundation error text.
    static func expectOneLineError(_ run: ProcessResult, status: Int32, mentioning fragments: [String],
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == status && !run.endedBySignal, "status \(run.status): \(run.standardError)", sourceLocation: sourceLocation)
        let lines = run.standardError.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "not one line: \(run.standardError)", sourceLocation: sourceLocation)
        #expect(run.standardError.contains(": error: ") && !run.standardError.contains("NSCocoaErrorDomain"), sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(run.standardError.contains(fragment), "missing '\(fragment)' in \(run.standardError)", sourceLocation: sourceLocation)
        }
    }

    @Test("run outside the checkout, the default fixtures folder is the checkout's, found from the executable")
    func defaultResolvesToCheckout() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fixtures = ADARExecutable.repositoryRoot.appendingPathComponent("fixtures").standardizedFileURL.path
        let lint = try ADARExecutable.run(["fixtures", "lint"], in: folder)
        #expect(lint.status == 0 && lint.standardOutput.contains("\(fixtures): every fixture file is well formed"), "\(lint.standardOutput) \(lint.standardError)")

        // conform reads the same default: an empty results file fails every case of the full set (1), not 66.
        let results = folder.appendingPathComponent("answers.jsonl")
        try Data().write(to: results)
        let conform = try ADARExecutable.run(["conform", "--json", "--results", results.path], in: folder)
        #expect(conform.status == 1 && !conform.endedBySignal, "status \(conform.status): \(conform.standardError)")
        #expect(conform.standardOutput.contains(#""file":"transition.json""#))
    }

    @Test("an adar outside any checkout says where it looked and what to pass (66)")
    func defaultNotFound() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bin = folder.appendingPathComponent("bin"), work = folder.appendingPathComponent("work")
        for directory in [bin, work] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        let adar = bin.appendingPathComponent("adar")
        try FileManager.default.copyItem(at: try ADARExecutable.url(), to: adar)

        let lint = try ProcessResult.run(adar, ["fixtures", "lint"], in: work)
        Self.expectOneLineError(lint, status: 66, mentioning: [
            "no fixtures folder found", "a folder with Package.swift and fixtures/", work.lastPathComponent + " and in ",
            bin.lastPathComponent, "`adar fixtures lint DIR`",
        ])
        let conform = try ProcessResult.run(adar, ["conform", "--", "true"], in: work)
        Self.expectOneLineError(conform, status: 66, mentioning: ["adar conform: error: no fixtures folder found", "`--fixtures DIR`"])
        let generate = try ProcessResult.run(adar, ["fixtures", "generate"], in: work)
        Self.expectOneLineError(generate, status: 64, mentioning: ["no swift-adar checkout found", "pass --output DIR"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty, "nothing may be written")
    }

    @Test("a --fixtures folder that does not exist, or is a file, is one line naming it (66)")
    func missingFixturesFolder() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("no-such-fixtures").path
        Self.expectOneLineError(try ADARExecutable.run(["conform", "--fixtures", missing, "--", "true"], in: folder), status: 66,
                                mentioning: ["adar conform: error: \(missing): no such folder", "`--fixtures DIR`"])
        Self.expectOneLineError(try ADARExecutable.run(["fixtures", "lint", missing], in: folder), status: 66,
                                mentioning: ["\(missing): no such folder", "`adar fixtures lint DIR`"])
        let file = folder.appendingPathComponent("a-file.json")
        try Data("{}".utf8).write(to: file)
        Self.expectOneLineError(try ADARExecutable.run(["conform", "--fixtures", file.path, "--", "true"], in: folder), status: 66,
                                mentioning: ["\(file.path): is a file, not a folder"])
        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        Self.expectOneLineError(try ADARExecutable.run(["conform", "--fixtures", empty.path, "--", "true"], in: folder), status: 66,
                                mentioning: ["\(empty.path): no fixture files (*.json) in this folder"])
    }

    @Test("fixtures generate --output naming a file, or a path under one, is one line (73); a new folder is created")
    func generateOutput() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a-file")
        try Data("keep".utf8).write(to: file)
        Self.expectOneLineError(try ADARExecutable.run(["fixtures", "generate", "--output", file.path], in: folder), status: 73,
                                mentioning: ["\(file.path): is a file, not a folder", "pass --output"])
        let under = file.appendingPathComponent("fixtures").path
        Self.expectOneLineError(try ADARExecutable.run(["fixtures", "generate", "--output", under], in: folder), status: 73,
                                mentioning: ["\(under): cannot write the fixtures here", "pass --output"])
        #expect(try String(contentsOf: file, encoding: .utf8) == "keep")

        let fresh = folder.appendingPathComponent("new/fixtures")
        let generate = try ADARExecutable.run(["fixtures", "generate", "--output", fresh.path], in: folder)
        #expect(generate.status == 0, "\(generate.standardError)")
        #expect(try FixtureLinter.lint(directory: fresh) == [])
    }
}
