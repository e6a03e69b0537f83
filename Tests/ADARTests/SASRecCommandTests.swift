import Foundation
import Testing

/// `adar train --model sasrec` through the built executable (issue 11 §4; docs/TRAINING.md "SASRec").
@Suite("adar train --model sasrec: a synthetic run end to end, usage errors")
struct SASRecCommandTests {
    static let tinyRun = ["train", "--model", "sasrec", "--dataset", "synthetic", "--synthetic-users", "60", "--synthetic-items", "90",
                          "--max-length", "8", "--dim", "8", "--blocks", "1", "--batch", "20", "--epochs", "2", "--eval-every", "1"]

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-sasrec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("A synthetic run: a progress line per evaluation, the test once, a JSON record", arguments: ["uniform", "dns", "adar"])
    func endToEnd(_ sampler: String) throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(Self.tinyRun + ["--sampler", sampler, "--output", "run.json"], in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
        let progress = result.standardOutput.split(separator: "\n").filter { $0.hasPrefix("sasrec: epoch") }
        #expect(progress.count == 2)
        #expect(result.standardOutput.contains("test of that epoch: HR@10"))
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("run.json"))) as! [String: Any]
        let run = record["run"] as! [String: Any], config = run["config"] as! [String: Any]
        #expect(config["model"] as? String == "sasrec" && config["sampler"] as? String == sampler && config["maxLength"] as? Int == 8)
        let optimizer = config["optimizer"] as! [String: Any]
        #expect(optimizer["beta2"] as? Double == 0.98)
        let stopping = record["earlyStopping"] as! [String: Any], test = stopping["test"] as! [String: Any]
        let excluded = test["historyExcluded"] as! [String: Any]
        #expect(excluded["users"] as? Int == 60)
        #expect((run["epochs"] as! [Any]).count == 2)
    }

    @Test("Usage errors exit 64 and name the option", arguments: [
        (["--sampler", "ahns"], "--sampler ahns: SASRec trains with uniform, dns or adar"),
        (["--heads", "3"], "--heads: must be ≥ 1 and divide the dimension 8, got 3"),
        (["--dropout", "1"], "--dropout: must be in [0, 1), got 1.0"),
        (["--max-length", "0"], "--max-length: must be ≥ 1, got 0"),
        (["--synthetic-items", "50"], "--synthetic-items: 50 must be at least 90"),
    ])
    func usageErrors(_ extra: [String], _ message: String) throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(Self.tinyRun + extra, in: folder)
        #expect(result.status == 64 && !result.endedBySignal)
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test("SASRec's options are refused without --model sasrec")
    func optionsNeedSASRec() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(["train", "--dataset", "synthetic", "--blocks", "2"], in: folder)
        #expect(result.status == 64 && !result.endedBySignal)
        #expect(result.standardError.contains("--blocks applies only with --model sasrec"))
    }
}
