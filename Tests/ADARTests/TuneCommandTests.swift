import ADARCore
import ADARStore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `adar tune` end to end through the built executable: resuming after a SIGKILL,
/// and its errors (docs/PROTOCOL.md, docs/STORE.md "Resume semantics").
@Suite("adar tune: kill and resume, errors")
struct TuneCommandTests {
    /// Uniform and ADAR, 2 configurations each, 2 model seeds × 2 split seeds: 4 tuning and 8 final runs,
    /// each long enough (10 epochs) to be caught half-finished.
    static let grid = """
        {"version": 1, "protocols": {"tiny": {
          "description": "tiny protocol for tests", "budget": 2, "selectionSeed": 7,
          "earlyStopping": {"evaluateEvery": 2, "patience": 5, "maxEpochs": 10},
          "finalRuns": {"modelSeeds": [1, 2], "splitSeeds": [5, 6]},
          "fixed": {"dimension": 8, "batchSize": 256, "initialScale": 0.1, "layers": 2, "pool": 4, "policy": "max",
                    "schedule": "cosine", "scheduleSteps": 100},
          "grids": {"common": {"lr": [0.01, 0.003], "l2": [0.0001]}, "uniform": {}, "dns": {"pool": [4, 8]},
                    "ahns": {"p": [-2], "alpha": [1], "beta": [0.1]},
                    "adar": {"rho": [0.5], "weight": [1], "sigma": [0.1], "fallback": ["skip", "hardest"], "gradientFlow": ["detach"]},
                    "mixgcf": {"pool": [4], "positiveMixingMax": [0.5]}}}}}
        """

    static let arguments = ["tune", "--dataset", "synthetic", "--synthetic-users", "80", "--synthetic-items", "160",
                            "--grids", "tiny.json", "--protocol", "tiny", "--samplers", "uniform,adar",
                            "--store", "runs.sqlite", "--threads", "1"]

    static func folder(grid: String = grid) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-tune-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try grid.write(to: folder.appendingPathComponent("tiny.json"), atomically: true, encoding: .utf8)
        return folder
    }

    static func store(in folder: URL) throws -> RunStore {
        try RunStore(path: folder.appendingPathComponent("runs.sqlite").path, access: .readOnly)
    }

    /// Starts `adar arguments…` in `folder` and SIGKILLs it once its store (runs.sqlite) shows at least two
    /// finished runs and one running; requires that it was caught so.
    static func killMidRun(_ arguments: [String], in folder: URL) throws {
        let process = Process()
        process.executableURL = try ADARExecutable.url()
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Poll the store read-only until it shows finished runs and one running: then kill.
        let deadline = Date().addingTimeInterval(120)
        var seen: [RunStatus: Int] = [:]
        while process.isRunning && Date() < deadline {
            if let counts = try? store(in: folder).statusCounts(), counts[.finished, default: 0] >= 2, counts[.running, default: 0] == 1 {
                seen = counts
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        try #require(seen[.running] == 1, "the sweep ended (status \(process.terminationStatus)) before it was caught mid-run: \(seen)")
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
    }

    @Test("SIGKILLed mid-sweep and restarted: finished runs are not redone, the half-finished run is, and the store equals an uninterrupted sweep's")
    func killAndResume() throws {
        let killed = try Self.folder(), uninterrupted = try Self.folder()
        defer {
            try? FileManager.default.removeItem(at: killed)
            try? FileManager.default.removeItem(at: uninterrupted)
        }
        try Self.killMidRun(Self.arguments, in: killed)

        let before = try Self.store(in: killed)
        let finishedBefore = try before.finishedRuns()
        #expect(try before.statusCounts()[.running] == 1)

        let resumed = try ADARExecutable.run(Self.arguments, in: killed)
        #expect(resumed.status == 0 && !resumed.endedBySignal, "\(resumed.status): \(resumed.standardError)")
        let skipped = resumed.standardError.split(separator: "\n").filter { $0.hasPrefix("skipping finished run") }
        #expect(skipped.count == finishedBefore.count, "\(resumed.standardError)")
        #expect(resumed.standardError.split(separator: "\n").filter { $0.hasPrefix("redoing half-finished run") }.count == 1,
                "\(resumed.standardError)")
        let after = try Self.store(in: killed)
        #expect(try after.statusCounts() == [.running: 0, .finished: 12, .failed: 0])
        // The runs finished before the kill are the same rows: same ids, times and results.
        let finishedAfter = try after.finishedRuns()
        for run in finishedBefore { #expect(finishedAfter.contains(run), "\(run.spec) was redone or changed") }

        let straight = try ADARExecutable.run(Self.arguments, in: uninterrupted)
        #expect(straight.status == 0 && !straight.endedBySignal, "\(straight.standardError)")
        #expect(!straight.standardError.contains("skipping") && !straight.standardError.contains("redoing"))
        #expect(try ProtocolRunTests.results(after) == ProtocolRunTests.results(Self.store(in: uninterrupted)))
        #expect(resumed.standardOutput == straight.standardOutput)
    }

    @Test("adar tune's errors: usage 64, missing grid file 66, bad grid file 65 with its JSON path, unusable store 73")
    func errors() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad = Self.grid.replacingOccurrences(of: #""dns": {"pool": [4, 8]}"#, with: #""dns": {"pool": [4, 0]}"#)
        try bad.write(to: folder.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
        let huge = Self.grid.replacingOccurrences(of: #""dimension": 8"#, with: #""dimension": 5000"#)
        try huge.write(to: folder.appendingPathComponent("huge.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("a-folder"), withIntermediateDirectories: true)
        func replacing(_ option: String, with value: String) -> [String] {
            var arguments = Self.arguments
            arguments[arguments.firstIndex(of: option)! + 1] = value
            return arguments
        }
        let cases: [([String], Int32, String)] = [
            (replacing("--protocol", with: "fast"), 64, #"adar tune: error: --protocol: tiny.json has no protocol "fast" (it has: tiny)"#),
            (replacing("--samplers", with: "uniform,bpr"), 64, #"--samplers: "bpr" is not a row of protocol tiny in tiny.json (its rows: uniform, dns, ahns, adar, mixgcf)"#),
            (replacing("--samplers", with: "adar,adar"), 64, "--samplers: adar is listed twice; list each row once"),
            (replacing("--threads", with: "0"), 64, "--threads: 0 must be between 1 and 256"),
            (replacing("--synthetic-items", with: "40"), 64, "--synthetic-items: 40 must be at least 61"),
            (Self.arguments + ["--phase", "later"], 64, "--phase"),
            (replacing("--grids", with: "missing.json"), 66, "adar tune: error: missing.json: no such grid file"),
            (replacing("--grids", with: "bad.json"), 65, "bad.json: $.protocols.tiny.grids.dns.pool[1]: 0 is out of range: must be ≥ 1"),
            (replacing("--grids", with: "huge.json"), 65, #"configuration key "dimension": 5000 must be between 1 and 1024; fix the grid file's value"#),
            (replacing("--store", with: "a-folder"), 73, "adar tune: error: a-folder"),
            (Self.arguments + ["--phase", "final"], 65, "has no tuning result yet: finish the tuning sweep before selecting"),
        ]
        for (arguments, status, message) in cases {
            let result = try ADARExecutable.run(arguments, in: folder)
            #expect(result.status == status && !result.endedBySignal, "\(arguments): \(result.status) \(result.standardError)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
        // None of the refusals trained anything (the final-phase one created the store, with no run in it).
        #expect(try Self.store(in: folder).statusCounts() == [.running: 0, .finished: 0, .failed: 0])
    }

    @Test("adar tune --help explains the protocol")
    func help() throws {
        let result = try ADARExecutable.run(["tune", "--help"])
        #expect(result.status == 0 && !result.endedBySignal)
        for phrase in ["min(N, grid size)", "the best validation", "evaluated once on the test split", "fixed time split",
                       "finished runs are skipped", "half-finished run is redone", "--phase", "--store", "--grids"] {
            #expect(result.standardOutput.contains(phrase), "missing \(phrase)")
        }
    }
}
