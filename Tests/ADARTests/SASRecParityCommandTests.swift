import Foundation
import Testing

/// The command-line side of issue 11 §3's correctness anchor, through the built executable:
/// options SASRec never reads are refused under `--model sasrec`, and the hidden
/// `adar sasrec-gradient` behind Bench/pytorch/sasrec_same_weights.py refuses bad requests.
@Suite("SASRec parity: CF-only options refused under --model sasrec; adar sasrec-gradient")
struct SASRecParityCommandTests {
    @Test("An option only MF/LightGCN reads exits 64 under --model sasrec, naming it", arguments: [
        ["--layers", "2"], ["--init-scale", "0.05"], ["--ahns-p", "-1"], ["--ahns-alpha", "2"], ["--ahns-beta", "0.2"],
    ])
    func cfOnlyOptionRefused(_ option: [String]) throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(SASRecCommandTests.tinyRun + option, in: folder)
        #expect(result.status == 64 && !result.endedBySignal, "\(result.standardError)")
        #expect(result.standardError.contains("\(option[0]) does not apply with --model sasrec"), "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "nothing written")
    }

    @Test("The same options still reach MF/LightGCN (an out-of-range value is refused by their check, not by SASRec's)")
    func cfOptionsStillRead() throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(["train", "--model", "lightgcn", "--dataset", "synthetic", "--layers", "0"], in: folder)
        #expect(result.status == 64 && !result.endedBySignal)
        #expect(result.standardError.contains("--layers: 0 must be between 1 and 16"), "\(result.standardError)")
    }

    /// One sequence of L = 4: two padding slots, then items 3, 5, 2 (targets of slots 1…3).
    static let request = #"{"items": 6, "dimension": 4, "length": 4, "blocks": 1, "heads": 1, "seed": 3, "ids": [[0, 0, 3, 5]], "positives": [[0, 3, 5, 2]], "negatives": [[0, 1, 6, 4]]}"#

    @Test("sasrec-gradient answers one line: Swift's initial weights, a finite loss over the rows whose target is an item")
    func gradientAnswer() throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.request.write(to: folder.appendingPathComponent("request.json"), atomically: true, encoding: .utf8)
        let result = try ADARExecutable.run(["sasrec-gradient", "--input", "request.json"], in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
        let answer = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [String: Any]
        #expect(answer["rows"] as? Int == 3)
        let loss = try #require(answer["loss"] as? Double)
        #expect(loss.isFinite && loss > 0)
        let d = 4, items = 6, L = 4
        // E | P | LN₁ | W_in, b_in | W_out, b_out | LN₂ | W₁, b₁ | W₂, b₂ | final LN.
        let count = (items + 1 + L) * d + 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + 2 * (d * d + d) + 2 * d
        #expect((answer["parameters"] as? [Double])?.count == count && (answer["gradient"] as? [Double])?.count == count)
        #expect((answer["hidden"] as? [Double])?.count == L * d)
    }

    @Test("sasrec-gradient refuses a bad request or planted-bug name with the status and the reason", arguments: [
        (#"{"items": 6}"#, [String](), Int32(65), "request.json: not a sasrec-gradient request"),
        (#"{"items": 6, "dimension": 4, "length": 4, "blocks": 1, "heads": 1, "ids": [[0, 0, 3, 5]], "positives": [[0, 3, 5]], "negatives": [[0, 1, 6, 4]]}"#,
         [], 65, "positives[0] holds 3 ids, not length 4"),
        (#"{"items": 6, "dimension": 4, "length": 4, "blocks": 1, "heads": 1, "ids": [[0, 0, 3, 9]], "positives": [[0, 3, 5, 2]], "negatives": [[0, 1, 6, 4]]}"#,
         [], 65, "ids[3]"),
        (request, ["--mutation", "noSuchBug"], 64, "--mutation noSuchBug: not a planted bug"),
        (String(request.dropLast()) + #", "evaluation": {"sequences": [[1, 2, 99]]}}"#, [], 65,
         "evaluation.sequences[0] holds an item outside 1…6"),
    ])
    func gradientRefusals(_ body: String, _ extra: [String], _ status: Int32, _ message: String) throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try body.write(to: folder.appendingPathComponent("request.json"), atomically: true, encoding: .utf8)
        let result = try ADARExecutable.run(["sasrec-gradient", "--input", "request.json"] + extra, in: folder)
        #expect(result.status == status && !result.endedBySignal, "\(result.standardError)")
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
    }
}
