import ArgumentParser
import Foundation
import ADARFixtures
import ADARProtocol

struct FixturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixtures",
        abstract: "Generate or lint the conformance fixtures (docs/PORTING.md §1).",
        subcommands: [Generate.self, Lint.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Regenerate every fixture file and its JSON Schema from the binary64 reference.",
            discussion: "Deterministic: the same sources always give byte-identical files.")

        @Option(help: "Folder to write (fixture files, and schema/ inside it; created when missing). Default: fixtures/ of the swift-adar checkout holding the current directory or adar.")
        var output: String?

        func run() throws {
            let directory = try FixturesDirectory.output(output)
            let written: [String]
            do {
                written = try FixtureWriter.write(to: directory)
            } catch let error as CocoaError {
                guard error.code != .fileWriteOutOfSpace else { throw CLIError.fileError(error) }
                throw CLIError(.cannotCreate, "\(directory.path): cannot write the fixtures here (\(error.filePath ?? directory.path) "
                    + "cannot be created: a file in the way, or no permission); pass --output with a writable folder")
            }
            for path in written { print("wrote \(directory.appendingPathComponent(path).path)") }
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the fixture files against docs/PORTING.md §1–§2.",
            discussion: """
                Checks the structure, JSON types of every field of every operation, unique tcIds, numberOfTests, \
                that every flag has a note, finite numbers only (a literal such as 1e999 reads as ∞), and that no \
                tolerance is absurd (relative ≥ 1, or absolute at least the group's largest |expected| real). \
                Prints `file tcId N field: reason` per finding (or, with --json, one JSON object \
                {"findings": [{"file", "group", "tcId", "field", "reason"}], "count"}) and exits 1 when there is any.
                """)

        @Argument(help: "Folder holding the fixture files (default: fixtures/ of the swift-adar checkout holding the current directory or adar).")
        var directory: String?

        @Flag(help: "Print the findings as one JSON object, for scripts.")
        var json = false

        func run() throws {
            let folder = try FixturesDirectory.input(directory, option: "`adar fixtures lint DIR`")
            let issues = try FixtureLinter.lint(directory: folder)
            if json {
                print(JSONValue.object([
                    ("directory", .string(folder.path)), ("count", .integer(issues.count)), ("findings", .array(issues.map(\.json))),
                ]).rendered)
            } else {
                for issue in issues { print(issue) }
                print(issues.isEmpty ? "\(folder.path): every fixture file is well formed" : "\(issues.count) finding(s) in \(folder.path)")
            }
            if !issues.isEmpty { throw ExitCode(ExitStatus.checkFailed.rawValue) }
        }
    }
}
