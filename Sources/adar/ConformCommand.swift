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

            The port is checked against the fixture groups of its precision. A case fails when its answer is out of tolerance, unparseable, answers another id, comes later than --timeout, or never comes because the port exited; the whole run never takes longer than --total-timeout. An answer line may be up to \(ConformanceRunner.maximumLineBytes >> 20) MiB; lines end with LF or CRLF. A failing answer gets a hint when it matches a usual wrong convention. Progress goes to stderr, the report to stdout.

            Exit status 0 only when every valid case passes and every invalid case is refused; 1 when a case failed; 74 when the port could not be started or did not complete the handshake (reported once, with the end of its stderr); 130 on Ctrl-C or SIGTERM, after stopping the port's whole process group.

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

    @Option(help: "Seconds the port has to start and answer the handshake (loading e.g. torch can take a while).")
    var startupTimeout: Double = 60

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
        guard timeout > 0, startupTimeout > 0, totalTimeout > 0 else {
            throw ValidationError("--timeout, --startup-timeout and --total-timeout must be > 0")
        }
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
        InterruptHandler.install()
        var runner = ConformanceRunner(files: files, precision: precision, caseTimeout: timeout, startupTimeout: startupTimeout,
                                       totalTimeout: totalTimeout)
        runner.progress = ConformProgress().show
        var report: ConformanceReport
        if let results {
            report = runner.check(results: try Self.read(results: results))
        } else {
            do {
                report = try runner.run(command: command)
            } catch {
                throw CLIError(.ioError, error.description)
            }
        }
        if subset { report.remarks += Self.notChecked(gaps, precision: report.precision, generated: generated) }
        print(json ? report.json.rendered : report.text)
        if !report.succeeded(allowSkipped: allowSkipped) { throw ExitCode(1) }
    }

    /// The bytes of a results file; a missing or unreadable one is an error naming the path (exit 66).
    static func read(results path: String) throws -> Data {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw CLIError(.noInput, "\(path): is a folder; --results takes the file of response lines a port wrote")
        }
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }
}

/// Progress on stderr (stdout carries the report): a line when a fixture file
/// is done, and at most one every few seconds within a file.
private final class ConformProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var lastShown = Date()
    private static let interval = 5.0

    func show(_ progress: ConformanceProgress) {
        let fileDone = progress.fileCasesDone == progress.fileCases
        lock.lock()
        defer { lock.unlock() }
        guard fileDone || Date().timeIntervalSince(lastShown) >= Self.interval else { return }
        lastShown = Date()
        let line = "adar conform: \(progress.file) (\(progress.operation)): \(progress.fileCasesDone)/\(progress.fileCases) cases"
            + "\(fileDone ? " checked" : ""); \(progress.casesDone)/\(progress.cases) in all\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// SIGINT and SIGTERM end the run with status 130 after stopping the port's
/// whole process group (SIGTERM, then SIGKILL after a second): the port runs
/// in a group of its own, which the terminal's Ctrl-C does not reach.
///
/// The signal handler only writes a byte to a pipe (async-signal-safe); a
/// thread waiting on the pipe does the work. A handler, unlike SIG_IGN, is
/// reset to the default in the port when it starts. The two signals are
/// unblocked first: a parent may have started adar with them blocked (a
/// dispatch worker thread blocks them), and the port inherits the mask.
private enum InterruptHandler {
    nonisolated(unsafe) static var pipeWriteEnd: Int32 = -1

    static func install() {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        pipeWriteEnd = ends[1]
        let readEnd = ends[0]
        Thread.detachNewThread {
            var signal: UInt8 = 0
            while read(readEnd, &signal, 1) != 1 {}
            let stopped = RunningPorts.shared.stopAll(grace: 1)
            let message = "adar conform: interrupted by signal \(signal)"
                + (stopped > 0 ? "; stopped the port and its process group" : "") + "\n"
            FileHandle.standardError.write(Data(message.utf8))
            _exit(ExitStatus.interrupted.rawValue)
        }
        var action = sigaction()
        let handler: @convention(c) (Int32) -> Void = { signal in
            let savedErrno = errno
            var byte = UInt8(truncatingIfNeeded: signal)
            _ = write(InterruptHandler.pipeWriteEnd, &byte, 1)
            errno = savedErrno
        }
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = handler
        #else
        action.__sigaction_u.__sa_handler = handler
        #endif
        sigemptyset(&action.sa_mask)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for signal in [SIGINT, SIGTERM] {
            sigaction(signal, &action, nil)
            sigaddset(&unblocked, signal)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
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
