import Foundation
import Testing

/// End-to-end checks of the exit-status convention (docs/CLI.md "Exit statuses";
/// Sources/adar/ExitStatus.swift): one bad invocation per status per command, run
/// through the built `adar` in a scratch folder, never touching the network.
@Suite("Command line: exit statuses and error lines, version, completion scripts")
struct CommandLineTests {
    /// When a bad invocation is found, which decides what is printed.
    enum Phase: Sendable {
        /// By argument-parser or `validate()`: its message and the command's usage.
        case parsing
        /// By `run()`: exactly one line `adar <command>: error: …`, last on stderr, and no usage.
        case running
        /// The command ran and what it checked failed (status 1): the report on stdout, no error line.
        case checking
    }

    /// What `PATH` the command runs with.
    enum Tools: Sendable {
        case inherited
        /// A `python3` whose pip fails as it does without network.
        case offlinePython
        /// No python at all.
        case none
    }

    struct BadInvocation: Sendable, CustomTestStringConvertible {
        /// The words after `adar` that name the command, e.g. `data fetch`.
        let command: String
        let arguments: [String]
        let status: Int32
        let phase: Phase
        /// Must appear in the error line (running), in stderr (parsing) or in stdout (checking).
        let message: String
        var tools: Tools = .inherited

        var testDescription: String { "adar \(command) \(arguments.joined(separator: " ")) → \(status)" }
    }

    static let fixtures = ADARExecutable.repositoryRoot.appendingPathComponent("fixtures").path

    /// Every run starts in a scratch folder holding these (see `makeSandbox`).
    static let invocations: [BadInvocation] = [
        // schedule
        BadInvocation(command: "schedule", arguments: ["sideways"], status: 64, phase: .parsing,
                      message: "The value 'sideways' is invalid for '<kind>'"),
        BadInvocation(command: "schedule", arguments: ["custom", "--betas", "0.1,x"], status: 64, phase: .parsing,
                      message: "--betas: item 2 (\"x\") is not a number"),
        BadInvocation(command: "schedule", arguments: ["custom"], status: 64, phase: .parsing,
                      message: "custom schedules need --betas"),
        // transition
        BadInvocation(command: "transition", arguments: ["--s0", "1", "--sneg", "0", "--norm=-1"], status: 64, phase: .parsing,
                      message: "--norm is a norm and must be ≥ 0"),
        BadInvocation(command: "transition", arguments: ["--s0", "1", "--sneg", "0", "--norm", "1e300", "--sigma", "1e300"],
                      status: 64, phase: .parsing, message: "--sigma × --norm = 1e+300 × 1e+300 overflows binary64"),
        BadInvocation(command: "schedule", arguments: ["custom", "--betas", "0.1,0.2", "-T", "7"], status: 64, phase: .parsing,
                      message: "-T 7 contradicts --betas, which gives 2 values"),
        BadInvocation(command: "schedule", arguments: ["linear", "-T", "0"], status: 64, phase: .running,
                      message: "T must be at least 1 (S1)"),
        BadInvocation(command: "schedule", arguments: ["cosine", "-T", "1000000000"], status: 64, phase: .running,
                      message: "exceeds adar's limit of 100000"),
        // verify
        BadInvocation(command: "verify", arguments: ["--claim", "NOPE/X1"], status: 64, phase: .running,
                      message: "unknown claim ID(s): NOPE/X1; `adar verify --list` shows them"),
        BadInvocation(command: "verify", arguments: ["--seed", "x"], status: 64, phase: .parsing,
                      message: "The value 'x' is invalid for '--seed <seed>'"),
        // data
        BadInvocation(command: "data fetch", arguments: ["ml-2m"], status: 64, phase: .parsing,
                      message: "The value 'ml-2m' is invalid for '<dataset>'"),
        BadInvocation(command: "data fetch", arguments: ["ml-100k", "--cache", "a-file"], status: 73, phase: .running,
                      message: "a-file cannot be used: it is a file, not a folder; pass --cache with a folder you can write"),
        BadInvocation(command: "data fetch", arguments: ["ml-100k", "--cache", "a-file/sub"], status: 73, phase: .running,
                      message: "a-file is a file, not a folder, so nothing can be created below it"),
        BadInvocation(command: "data fetch", arguments: ["ml-100k", "--cache", "corrupt"], status: 65, phase: .running,
                      message: "corrupt/ml-100k/u.data: the cached file failed its SHA-256 check "
                          + "(expected 06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490, "
                          + "found \(SHA256Hex.damaged)) and could not be replaced: could not download recbole==1.2.1",
                      tools: .offlinePython),
        BadInvocation(command: "data fetch", arguments: ["ml-100k", "--cache", "fresh"], status: 74, phase: .running,
                      message: "could not download recbole==1.2.1 from PyPI (offline?)", tools: .offlinePython),
        BadInvocation(command: "data fetch", arguments: ["ml-1m", "--cache", "fresh"], status: 74, phase: .running,
                      message: "python3 is not installed", tools: .none),
        // train (the data part: the same fetch as `data fetch`)
        BadInvocation(command: "train", arguments: ["--dataset", "ml-2m"], status: 64, phase: .parsing,
                      message: "The value 'ml-2m' is invalid for '--dataset <dataset>'"),
        BadInvocation(command: "train", arguments: ["--dataset", "ml-100k", "--cache", "a-file/sub"], status: 73, phase: .running,
                      message: "a-file is a file, not a folder"),
        BadInvocation(command: "train", arguments: ["--dataset", "ml-100k", "--cache", "corrupt"], status: 65, phase: .running,
                      message: "the cached file failed its SHA-256 check", tools: .offlinePython),
        BadInvocation(command: "train", arguments: ["--threads", "0"], status: 64, phase: .parsing,
                      message: "--threads: 0 must be between 1 and 256"),
        BadInvocation(command: "train", arguments: ["--epochs", "0"], status: 64, phase: .parsing,
                      message: "--epochs: 0 must be at least 1"),
        BadInvocation(command: "train", arguments: ["--dataset", "synthetic", "--synthetic-users", "0"], status: 64,
                      phase: .parsing, message: "--synthetic-users: 0 must be at least 1"),
        BadInvocation(command: "train", arguments: ["--dataset", "synthetic", "--output", "a-file/x.json"], status: 73,
                      phase: .running, message: "a-file is a file, not a folder"),
        // demo
        BadInvocation(command: "demo", arguments: ["--protocol", ""], status: 64, phase: .parsing,
                      message: "--protocol is empty"),
        BadInvocation(command: "demo", arguments: ["--dataset", "synthetic", "--samplers", "uniform,bogus"], status: 64,
                      phase: .running, message: "--samplers: \"bogus\" is not a row of protocol reduced"),
        BadInvocation(command: "demo", arguments: ["--dataset", "ml-100k", "--cache", "a-file/sub"], status: 73, phase: .running,
                      message: "a-file is a file, not a folder"),
        BadInvocation(command: "demo", arguments: ["--dataset", "synthetic", "--output", "a-file/x"], status: 73,
                      phase: .running, message: "a-file is a file, not a folder"),
        // fixtures
        BadInvocation(command: "fixtures", arguments: ["polish"], status: 64, phase: .parsing,
                      message: "Unexpected argument 'polish'"),
        BadInvocation(command: "fixtures lint", arguments: ["missing"], status: 66, phase: .running,
                      message: "missing: no such folder"),
        BadInvocation(command: "fixtures lint", arguments: ["empty"], status: 1, phase: .checking,
                      message: "schedules.json: missing from"),
        BadInvocation(command: "fixtures generate", arguments: ["--output", "a-file/x"], status: 73, phase: .running,
                      message: "cannot write the fixtures here"),
        // conform
        BadInvocation(command: "conform", arguments: [], status: 64, phase: .parsing,
                      message: "give either --results FILE or -- <port command …>"),
        BadInvocation(command: "conform", arguments: ["--startup-timeout", "0", "--", "python3"], status: 64, phase: .parsing,
                      message: "--timeout, --startup-timeout and --total-timeout must be > 0"),
        BadInvocation(command: "conform", arguments: ["--results", "missing.txt", "--fixtures", fixtures], status: 66,
                      phase: .running, message: "missing.txt: no such file or folder"),
        BadInvocation(command: "conform", arguments: ["--results", "empty.txt", "--fixtures", "missing"], status: 66,
                      phase: .running, message: "missing: no such folder"),
        BadInvocation(command: "conform", arguments: ["--results", "empty.txt", "--fixtures", fixtures], status: 1,
                      phase: .checking, message: "no answer in the results file"),
        // port-server
        BadInvocation(command: "port-server", arguments: ["--implementation", "bogus"], status: 64, phase: .parsing,
                      message: "The value 'bogus' is invalid for '--implementation <implementation>'"),
        // adar itself
        BadInvocation(command: "", arguments: ["--verbose"], status: 64, phase: .parsing, message: "Unknown option '--verbose'"),
    ]

    enum SHA256Hex {
        /// `sha256sum` of the damaged cache file's bytes, "damaged\n".
        static let damaged = "3a52df9076b013a41a9202093f90029fa22a347be06bc1112b7c8db4e9463cd9"
    }

    /// A scratch folder: `a-file` (a regular file), `empty/`, `empty.txt`, a cache `corrupt/`
    /// whose ml-100k file is damaged, and `bin/python3` standing in for an offline python.
    static func makeSandbox() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-cli-\(UUID().uuidString)", isDirectory: true)
        let manager = FileManager.default
        for sub in ["empty", "corrupt/ml-100k", "bin"] {
            try manager.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try Data("not a folder\n".utf8).write(to: folder.appendingPathComponent("a-file"))
        try Data().write(to: folder.appendingPathComponent("empty.txt"))
        try Data("damaged\n".utf8).write(to: folder.appendingPathComponent("corrupt/ml-100k/u.data"))
        let python = folder.appendingPathComponent("bin/python3")
        try Data("""
            #!/bin/sh
            echo "ERROR: Could not find a version that satisfies the requirement (no network)" >&2
            exit 1

            """.utf8).write(to: python)
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: python.path)
        return folder
    }

    static func environment(_ tools: Tools, sandbox: URL) -> [String: String] {
        switch tools {
        case .inherited: [:]
        case .offlinePython:
            ["PATH": sandbox.appendingPathComponent("bin").path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
        case .none: ["PATH": sandbox.appendingPathComponent("no-such-folder").path]
        }
    }

    @Test("a bad invocation exits with its documented status and says why in one line", arguments: invocations)
    func badInvocation(_ row: BadInvocation) throws {
        let sandbox = try Self.makeSandbox()
        defer { try? FileManager.default.removeItem(at: sandbox) }
        let words = row.command.split(separator: " ").map(String.init)
        let result = try ADARExecutable.run(words + row.arguments, environment: Self.environment(row.tools, sandbox: sandbox), in: sandbox)
        let context = "stdout:\n\(result.standardOutput)\nstderr:\n\(result.standardError)"
        #expect(result.status == row.status, "\(context)")
        #expect(!result.endedBySignal, "\(context)")
        let name = row.command.isEmpty ? "adar" : "adar \(row.command)"
        let errorLines = result.standardError.split(separator: "\n").filter { $0.contains(": error:") }
        switch row.phase {
        case .parsing:
            #expect(result.standardError.contains(row.message), "\(context)")
            #expect(result.standardError.contains("Usage: \(name)"), "\(context)")
        case .running:
            #expect(errorLines.count == 1, "\(context)")
            let last = result.standardError.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last.hasPrefix("\(name): error: "), "\(context)")
            #expect(last.contains(row.message), "\(context)")
            #expect(!result.standardError.contains("Usage:"), "\(context)")
        case .checking:
            #expect(errorLines.isEmpty, "\(context)")
            #expect(result.standardOutput.contains(row.message), "\(context)")
            #expect(!result.standardError.contains("Usage:"), "\(context)")
        }
    }

    @Test("every status the bad invocations expect is in docs/CLI.md's table, and every table status has a meaning")
    func statusesAreDocumented() throws {
        let text = try String(contentsOf: ADARExecutable.repositoryRoot.appendingPathComponent("docs/CLI.md"), encoding: .utf8)
        let documented = Set(text.split(separator: "\n").compactMap { line -> Int32? in
            guard line.hasPrefix("| ") else { return nil }
            return Int32(line.dropFirst(2).prefix { $0 != " " })
        })
        for status in Set(Self.invocations.map(\.status)) {
            #expect(documented.contains(status), "status \(status) is not in docs/CLI.md's table")
        }
        #expect(documented == [0, 1, 64, 65, 66, 70, 73, 74, 130])
    }

    @Test("a failed `data fetch --json` prints no JSON, only the error line")
    func dataFetchJSONFailure() throws {
        let sandbox = try Self.makeSandbox()
        defer { try? FileManager.default.removeItem(at: sandbox) }
        let result = try ADARExecutable.run(["data", "fetch", "ml-100k", "--cache", "corrupt", "--json"],
                                            environment: Self.environment(.offlinePython, sandbox: sandbox), in: sandbox)
        #expect(result.status == 65 && !result.endedBySignal, "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
        // The damaged file is reported before the download is tried, and left in place.
        #expect(result.standardError.contains("corrupt/ml-100k/u.data: the cached file failed its SHA-256 check"))
        #expect(FileManager.default.contents(atPath: sandbox.appendingPathComponent("corrupt/ml-100k/u.data").path)
                == Data("damaged\n".utf8))
    }

    @Test("adar --version prints a version number and exits 0")
    func version() throws {
        let result = try ADARExecutable.run(["--version"])
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
        let printed = result.standardOutput.trimmingCharacters(in: .newlines)
        let parts = printed.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }, "printed \(printed)")
    }

    static let subcommands = ["schedule", "transition", "verify", "data", "train", "tune", "demo", "fixtures", "conform", "port-server"]

    @Test("the bash completion script completes the subcommands and a data set name")
    func bashCompletion() throws {
        let sandbox = try Self.makeSandbox()
        defer { try? FileManager.default.removeItem(at: sandbox) }
        let script = try ADARExecutable.run(["--generate-completion-script", "bash"])
        #expect(script.status == 0 && !script.endedBySignal, "\(script.standardError)")
        let file = sandbox.appendingPathComponent("adar.bash")
        try Data(script.standardOutput.utf8).write(to: file)
        func complete(_ words: [String]) throws -> [String] {
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let line = words.joined(separator: " ")
            let program = """
                source '\(file.path)'
                COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE='\(line)'; COMP_POINT=\(line.count)
                _adar; printf '%s\\n' "${COMPREPLY[@]}"
                """
            let run = try ProcessResult.run(URL(fileURLWithPath: "/bin/bash"), ["-c", program], in: sandbox)
            #expect(run.status == 0, "\(run.standardError)")
            return run.standardOutput.split(separator: "\n").map(String.init)
        }
        let top = try complete(["adar", ""])
        for name in Self.subcommands { #expect(top.contains(name), "\(name) not offered: \(top)") }
        #expect(try complete(["adar", "data", "fetch", ""]).contains("ml-100k"))
    }

    @Test("zsh and fish completion scripts are produced and name every subcommand", arguments: ["zsh", "fish"])
    func otherShellCompletion(_ shell: String) throws {
        let script = try ADARExecutable.run(["--generate-completion-script", shell])
        #expect(script.status == 0 && !script.endedBySignal, "\(script.standardError)")
        for name in Self.subcommands { #expect(script.standardOutput.contains(name), "\(name) missing from the \(shell) script") }
    }
}
