import Foundation
import ArgumentParser
import ADARConformance
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

            Operations, fields, tolerances and flags: docs/PORTING.md.
            """
    )

    @Option(help: "Response lines written by a port, instead of running one.")
    var results: String?

    @Option(help: "The fixtures directory.")
    var fixtures: String = "fixtures"

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
        let files = try FixtureFile.load(directory: URL(fileURLWithPath: fixtures))
        guard !files.isEmpty else { throw ValidationError("no fixture files in \(fixtures)") }
        let runner = ConformanceRunner(files: files, precision: precision, caseTimeout: timeout, totalTimeout: totalTimeout)
        let report: ConformanceReport
        if let results {
            let text = try String(contentsOfFile: results, encoding: .utf8)
            report = runner.check(resultsLines: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        } else {
            report = runner.run(command: command)
        }
        print(json ? report.json.rendered : report.text)
        if !report.succeeded(allowSkipped: allowSkipped) { throw ExitCode(1) }
    }
}

extension Precision: ExpressibleByArgument {}
