import ArgumentParser
import Foundation
import ADARFixtures

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

        @Option(help: "Directory to write (fixture files, and schema/ inside it).")
        var output = "fixtures"

        func run() throws {
            let written = try FixtureWriter.write(to: URL(fileURLWithPath: output))
            for path in written { print("wrote \(output)/\(path)") }
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the schema, unique tcIds, numberOfTests and that every flag has a note.")

        @Argument(help: "Directory holding the fixture files.")
        var directory = "fixtures"

        func run() throws {
            let issues = try FixtureLinter.lint(directory: URL(fileURLWithPath: directory))
            for issue in issues { print(issue) }
            guard issues.isEmpty else {
                print("\(issues.count) problem(s) in \(directory)")
                throw ExitCode.failure
            }
            print("\(directory): every fixture file is well formed")
        }
    }
}
