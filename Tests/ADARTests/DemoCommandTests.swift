import Foundation
import Testing

/// `adar demo`, the README's main job: the reduced protocol's tune, select, final and report steps on one
/// cell, through the built executable (a tiny protocol and synthetic data keep it quick in debug).
@Suite("adar demo: the protocol end to end")
struct DemoCommandTests {
    static let arguments = ["demo", "--dataset", "synthetic", "--synthetic-users", "80", "--synthetic-items", "160",
                            "--grids", "tiny.json", "--protocol", "tiny", "--samplers", "uniform,adar",
                            "--store", "demo.sqlite", "--output", "out", "--threads", "1"]

    @Test("tunes on validation, runs every seed pair, tests once per final run, prints the table and writes the report")
    func endToEnd() throws {
        let folder = try TuneCommandTests.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(Self.arguments, in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.status) \(result.standardError.suffix(600))")
        let out = result.standardOutput
        // The chosen configurations, then the table with both samplers and their paired comparison.
        #expect(out.contains("chosen on validation NDCG@20"), "\(out)")
        #expect(out.contains("| uniform") && out.contains("| adar"), "\(out)")
        #expect(out.contains("Holm"), "\(out)")
        #expect(out.contains("**Not the `full` protocol**"), "a reduced table must say it is not evidence: \(out)")
        // 2 configurations × 2 samplers tuned; 2 model seeds × 2 split seeds per sampler in the final phase.
        #expect(out.contains("final runs in demo.sqlite: 8 finished, 0 failed"), "\(out)")
        let written = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("out").path).sorted()
        for name in ["report.md", "summary.csv", "summary.json", "synthetic-mf-tiny.md"] {
            #expect(written.contains(name), "\(written)")
        }
        // What training records reaches the report under the names the report reads: the stop reasons
        // (epoch-cap count) and S9's calibration at every final run's chosen epoch (pooled across cells).
        let report = try String(contentsOf: folder.appendingPathComponent("out/report.md"), encoding: .utf8)
        #expect(report.contains("**Epoch cap:** every run stopped by patience (8 final, 4 tuning)")
            || report.contains("**Stopped by the epoch cap, not by patience:**"), "\(report)")
        #expect(report.contains("**S9's calibration of `forward`, all cells pooled.**") && report.contains(" of 4: P("), "\(report)")
        // Run again: every run is found finished in the store and nothing is retrained.
        let again = try ADARExecutable.run(Self.arguments, in: folder)
        #expect(again.status == 0, "\(again.standardError.suffix(400))")
        #expect(!again.standardError.contains("epoch"), "retrained: \(again.standardError.suffix(400))")
        #expect(again.standardError.contains("skipping finished run"))
    }

    @Test("an unwritable report folder is refused (73) before any training")
    func outputIsCheckedFirst() throws {
        let folder = try TuneCommandTests.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("not a folder\n".utf8).write(to: folder.appendingPathComponent("afile"))
        let arguments = Self.arguments.map { $0 == "out" ? "afile/out" : $0 }
        let result = try ADARExecutable.run(arguments, in: folder)
        #expect(result.status == 73 && !result.endedBySignal, "\(result.status) \(result.standardError)")
        #expect(result.standardError.contains("is a file, not a folder"), "\(result.standardError)")
        #expect(!result.standardError.contains("epoch"), "trained: \(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("demo.sqlite").path))
    }
}
