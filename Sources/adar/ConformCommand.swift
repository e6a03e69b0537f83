import Foundation
import ArgumentParser
import ADARConformance

struct ConformCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conform",
        abstract: "Check an ADAR port against fixtures/ (docs/PORTING.md).",
        discussion: """
            adar conform [options] -- <command …>   runs the port as a subprocess. Protocol (line-delimited JSON):
              runner → port  {"op":"hello"}             port → runner  {"name":…,"precision":"binary64"|"binary32","operations":[…]}
              runner → port  {"id":"transition.json#12","op":"transition","input":{…}}
              port → runner  {"id":"transition.json#12","output":{…}}  or  {"id":…,"error":{"kind":…,"field":…,"message":…}}
            one response per request, in order; the runner closes stdin at the end. The port may write anything to stderr.
            adar conform --results FILE   checks response lines a port wrote itself (any order; a hello answer may come first).

            The port is checked against the fixture groups of its precision. A case fails when its answer is out of
            tolerance, unparseable, out of order, late (--timeout), or missing because the port crashed; the runner
            never waits longer than --total-timeout. Failing answers get a hint naming the usual wrong convention they
            reproduce. Exit status 0 only when every valid case passes and every invalid case is refused.
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
