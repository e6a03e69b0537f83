import Foundation
import ArgumentParser
import ADARConformance
import ADARFixtures
import ADARProtocol

struct ConformCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conform",
        abstract: "Check an ADAR port against fixtures/ (docs/PORTING.md).",
        discussion: """
            `adar conform -- <command …>` runs the port as a subprocess and speaks line-delimited JSON, one request per line on its stdin and one response per line on its stdout, in order (stderr is free):

              → {"op":"hello"}
              ← {"name":"…","precision":"binary64","operations":["schedule",…]}
              → {"id":"transition.json#12","op":"transition","input":{…}}
              ← {"id":"transition.json#12","output":{…}}
              ← {"id":"…","error":{"kind":"…","field":"…","message":"…"}}   (a refusal)

            At the end the runner closes the port's stdin. `adar conform --results FILE` checks response lines a port wrote itself, in any order (a handshake answer may come first).

            The port is checked against the fixture groups of its precision. A case fails when its answer is out of tolerance, unparseable, answers another id, comes later than --timeout, or never comes because the port exited; the whole run never takes longer than --total-timeout. A failing answer gets a hint when it matches a usual wrong convention. Exit status 0 only when every valid case passes and every invalid case is refused.

            Before running, the fixtures are linted (exit 65 on any finding, as `adar fixtures lint` prints them) and held against the set this adar generates: a file, group or case missing or changed exits 66, unless --subset is given; the report then lists what was not checked.

            Operations, fields, tolerances and flags: docs/PORTING.md.
            """
    )

    @Option(help: "Response lines written by a port, instead of running one.")
    var results: String?

    @Option(help: "The fixtures directory (default: fixtures/ of the swift-adar checkout holding the current directory or adar).")
    var fixtures: String?

    @Flag(help: "Accept a fixtures directory holding only part of the fixture set (files, groups or cases left out); the report lists what was not checked.")
    var subset = false

    @Option(help: "Check the groups of this precision (default: what the port declares; binary64 for a results file without a handshake).")
    var precision: Precision?

    @Option(help: "Seconds the port has for each answer.")
    var timeout: Double = 10

    @Option(help: "Seconds the whole run may take.")
    var totalTimeout: Double = 600

    @Flag(help: "Succeed even when the port skips operations it does not implement.")
    var allowSkipped = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Argument(parsing: .postTerminator, help: "The port's command line, after --.")
    var command: [String] = []

    func validate() throws {
        guard (results == nil) != command.isEmpty else {
            throw ValidationError("give either --results FILE or -- <port command …>")
        }
        guard timeout > 0, totalTimeout > 0 else { throw ValidationError("--timeout and --total-timeout must be > 0") }
    }

    func run() throws {
        // Lint what is loaded, then hold it against the set this adar generates (FixtureManifest).
        let directory = try FixturesDirectory.input(fixtures, option: "`--fixtures DIR`")
        let files = try FixturesDirectory.loadLinted(directory)
        let generated = FixtureGenerator.generateAll()
        let gaps = FixtureManifest.gaps(in: files, expected: generated)
        if !subset, !gaps.isEmpty {
            for gap in gaps { FileHandle.standardError.write(Data("\(gap)\n".utf8)) }
            throw CLIError(.noInput, "\(directory.path) does not hold the complete fixture set (\(gaps.count) gap(s) above): "
                + "restore it (`git checkout fixtures` or `adar fixtures generate`), or pass --subset to check only what is there")
        }
        let runner = ConformanceRunner(files: files, precision: precision, caseTimeout: timeout, totalTimeout: totalTimeout)
        var report: ConformanceReport
        if let results {
            let text = try String(contentsOfFile: results, encoding: .utf8)
            report = runner.check(resultsLines: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        } else {
            report = runner.run(command: command)
        }
        if subset { report.remarks += Self.notChecked(gaps, precision: report.precision, generated: generated) }
        print(json ? report.json.rendered : report.text)
        if !report.succeeded(allowSkipped: allowSkipped) { throw ExitCode(1) }
    }
}

extension ConformCommand {
    /// The remarks of a `--subset` run: what of the fixture set was not checked in `precision`.
    static func notChecked(_ gaps: [FixtureGap], precision: Precision, generated: [FixtureFile]) -> [String] {
        let gaps = gaps.filter { $0.precision == precision }
        guard !gaps.isEmpty else { return ["subset: every \(precision.rawValue) case of the fixture set is here"] }
        let operations = FixtureManifest.uncheckedOperations(gaps, precision: precision, expected: generated)
        return (operations.isEmpty ? [] : ["subset: operations not checked at all: \(operations.map(\.rawValue).joined(separator: ", "))"])
            + gaps.map { "subset: not checked: \($0)" }
    }
}

extension Precision: ExpressibleByArgument {}
