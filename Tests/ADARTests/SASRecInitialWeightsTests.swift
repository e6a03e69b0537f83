import Foundation
import Testing

/// `adar train --model sasrec --initial-weights` through the built executable (the converse init experiment of
/// results/sasrec-parity.txt: Swift started from PyTorch's initial weights, everything else Swift's).
/// A run from the weights Swift's own init draws (exported by `adar sasrec-gradient`) must be bit-identical to a
/// normal run; the same weights with two tensors swapped must not be, so the check can fail.
@Suite("adar train --model sasrec --initial-weights: the file's weights, bit-identical to the seed's own init, bad files refused")
struct SASRecInitialWeightsTests {
    static let seed = "3"
    static let run = SASRecCommandTests.tinyRun + ["--seed", seed, "--epochs", "3"]

    /// The tiny run's shape (SASRecCommandTests.tinyRun: 90 items, d = 8, L = 8, 1 block), and where each tensor sits in
    /// PyTorch's model.parameters() order: E | P | LN₁ (γ, β) | W_in, b_in | W_out, b_out | LN₂ | W₁, b₁ | W₂, b₂ | final LN.
    static let items = 90, d = 8, length = 8
    static let itemTable = 0..<((items + 1) * d)
    static let attentionOutput = itemTable.count + length * d + 2 * d + 3 * d * d + 3 * d
    static let firstWeight = attentionOutput + d * d + d + 2 * d
    static let firstBias = firstWeight + d * d, secondWeight = firstBias + d, secondBias = secondWeight + d * d
    static let count = secondBias + d + 2 * d

    /// Swift's own initial weights for the tiny run's shape and seed: the JSON line `adar sasrec-gradient` prints,
    /// as PyTorch's `sasrec.py --initial-weights` reads it.
    static func swiftInitialWeights(in folder: URL) throws -> [String: Any] {
        let request = #"{"items": \#(items), "dimension": \#(d), "length": \#(length), "blocks": 1, "heads": 1, "seed": \#(seed), "#
            + #""ids": [[0, 0, 0, 0, 0, 0, 0, 1]], "positives": [[0, 0, 0, 0, 0, 0, 0, 2]], "negatives": [[0, 0, 0, 0, 0, 0, 0, 3]]}"#
        try request.write(to: folder.appendingPathComponent("request.json"), atomically: true, encoding: .utf8)
        let result = try ADARExecutable.run(["sasrec-gradient", "--input", "request.json"], in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
        return try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [String: Any]
    }

    /// A run's numbers that depend on the weights: every epoch's loss and validation, the best epoch, the test.
    static func trajectory(_ arguments: [String], in folder: URL) throws -> (numbers: String, initialWeights: Any?) {
        let result = try ADARExecutable.run(run + ["--eval-every", "1", "--json"] + arguments, in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
        let record = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [String: Any]
        let run = record["run"] as! [String: Any], stopping = record["earlyStopping"] as! [String: Any]
        #expect((run["epochs"] as! [Any]).count == 3, "every epoch trained and recorded")
        let epochs = (run["epochs"] as! [[String: Any]]).map { epoch in
            [epoch["loss"]!, (epoch["validation"] as! [String: Any])["historyExcluded"]!]
        }
        let numbers = try JSONSerialization.data(withJSONObject: [epochs, stopping["bestEpoch"]!, stopping["bestValidationNDCG@10"]!,
                                                                  (stopping["test"] as! [String: Any])["historyExcluded"]!],
                                                 options: .sortedKeys)
        return (String(decoding: numbers, as: UTF8.self), run["initialWeights"])
    }

    @Test("The weights Swift's init draws, read from a file, give a run bit-identical to the seed's own (3 epochs); the file is recorded")
    func ownInitBitIdentical() throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let answer = try Self.swiftInitialWeights(in: folder)
        #expect((answer["parameters"] as! [Double]).count == Self.count)
        try JSONSerialization.data(withJSONObject: answer).write(to: folder.appendingPathComponent("swift-init.json"))
        let own = try Self.trajectory([], in: folder)
        let fromFile = try Self.trajectory(["--initial-weights", "swift-init.json"], in: folder)
        #expect(fromFile.numbers == own.numbers)
        #expect(own.initialWeights is NSNull && fromFile.initialWeights as? String == "swift-init.json")
        let progress = try ADARExecutable.run(Self.run + ["--epochs", "1", "--initial-weights", "swift-init.json", "--output", "run.json"],
                                              in: folder)
        #expect(progress.standardOutput.contains("initial weights from swift-init.json"), "\(progress.standardOutput)")
    }

    @Test("The same weights with two same-shaped tensors swapped (a wrong layout) give another run", arguments: [
        ("W₁ ↔ W₂", firstWeight, secondWeight, d * d), ("b₁ ↔ b₂", firstBias, secondBias, d),
    ])
    func permutedLayoutDiffers(_ name: String, _ first: Int, _ second: Int, _ size: Int) throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var parameters = try Self.swiftInitialWeights(in: folder)["parameters"] as! [Double]
        let a = Array(parameters[first ..< first + size]), b = Array(parameters[second ..< second + size])
        #expect(a != b, "\(name): the swapped tensors must differ for the check to mean anything")
        parameters.replaceSubrange(first ..< first + size, with: b)
        parameters.replaceSubrange(second ..< second + size, with: a)
        try JSONSerialization.data(withJSONObject: ["parameters": parameters]).write(to: folder.appendingPathComponent("swapped.json"))
        let own = try Self.trajectory([], in: folder)
        let swapped = try Self.trajectory(["--initial-weights", "swapped.json"], in: folder)
        #expect(swapped.numbers != own.numbers, "\(name)")
    }

    /// A file of the right count: zeros (a valid init as far as the format goes), with `changes` applied as JSON text.
    static func weightsText(count: Int = count, _ changes: [Int: String] = [:]) -> String {
        #"{"parameters": ["# + (0..<count).map { changes[$0] ?? "0" }.joined(separator: ", ") + "]}"
    }

    /// A bad weights file, named by what is wrong with it (its text would swamp the test's output).
    struct BadFile: CustomTestStringConvertible, Sendable {
        let name, contents, message: String
        var testDescription: String { name }
    }

    static let badFiles = [
        BadFile(name: "not JSON", contents: "nope",
                message: "--initial-weights w.json: not JSON; expected a JSON object whose \"parameters\" array holds the flat parameter vector"),
        BadFile(name: "an array", contents: "[1, 2]",
                message: "--initial-weights w.json: the top level: Expected to decode Dictionary<String, Any> but found an array instead."),
        BadFile(name: "no parameters", contents: #"{"weights": [1, 2]}"#,
                message: "--initial-weights w.json: no \"parameters\"; expected a JSON object"),
        BadFile(name: "parameters not an array", contents: #"{"parameters": 3}"#,
                message: "--initial-weights w.json: parameters: Expected to decode Array<Any> but found number instead."),
        BadFile(name: "a null", contents: #"{"parameters": [0, null]}"#,
                message: "--initial-weights w.json: parameters[1]: Cannot get value of type Double -- found null value instead"),
        BadFile(name: "a string", contents: #"{"parameters": [0, 0, "x"]}"#,
                message: "--initial-weights w.json: parameters[2]: Expected to decode Double but found a string instead."),
        BadFile(name: "one too few", contents: weightsText(count: count - 1),
                message: "--initial-weights w.json: \(count - 1) parameters, expected \(count) for this run's SASRec (90 items, d = 8, L = 8, 1 block(s))"),
        BadFile(name: "a row too many", contents: weightsText(count: count + d),
                message: "--initial-weights w.json: \(count + d) parameters, expected \(count)"),
        BadFile(name: "NaN (as Python's json writes it)", contents: weightsText([count - 1: "NaN"]),
                message: "--initial-weights w.json: parameters[\(count - 1)] = nan is not finite in binary32"),
        BadFile(name: "-Infinity", contents: weightsText([itemTable.count: "-Infinity"]),
                message: "--initial-weights w.json: parameters[\(itemTable.count)] = -inf is not finite in binary32"),
        BadFile(name: "beyond binary32", contents: weightsText([d + 1: "1e39"]),
                message: "--initial-weights w.json: parameters[\(d + 1)] = 1e+39 is not finite in binary32"),
        BadFile(name: "a non-zero padding row", contents: weightsText([3: "0.25"]),
                message: "--initial-weights w.json: row 0 of the item table (padding) must be zero; component 3 is not (parameters[0..<8])"),
    ]

    @Test("A bad weights file exits 65 naming the file and the reason, before training; nothing is written", arguments: badFiles)
    func badFileRefused(_ file: BadFile) throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try file.contents.write(to: folder.appendingPathComponent("w.json"), atomically: true, encoding: .utf8)
        let result = try ADARExecutable.run(Self.run + ["--initial-weights", "w.json", "--output", "run.json"], in: folder)
        #expect(result.status == 65 && !result.endedBySignal, "\(result.standardError)")
        #expect(result.standardError.hasPrefix("adar train: error: " + file.message), "\(result.standardError)")
        #expect(!result.standardOutput.contains("sasrec: epoch"), "refused before training")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["w.json"], "nothing written")
    }

    @Test("The zero file of the right count is accepted (the refusals above are about the file, not the values)")
    func zeroFileAccepted() throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.weightsText().write(to: folder.appendingPathComponent("w.json"), atomically: true, encoding: .utf8)
        let result = try ADARExecutable.run(Self.run + ["--epochs", "1", "--initial-weights", "w.json", "--output", "run.json"], in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
    }

    @Test("A missing file or a folder exits 66 naming the path; nothing is written", arguments: [
        ("missing.json", "adar train: error: --initial-weights missing.json: no such file"),
        ("folder", "adar train: error: --initial-weights folder: a folder, not a weights file"),
    ])
    func missingFileRefused(_ path: String, _ message: String) throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("folder"), withIntermediateDirectories: false)
        let result = try ADARExecutable.run(Self.run + ["--initial-weights", path, "--output", "run.json"], in: folder)
        #expect(result.status == 66 && !result.endedBySignal, "\(result.standardError)")
        #expect(result.standardError == message + "\n", "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["folder"], "nothing written")
    }

    @Test("--initial-weights with MF or LightGCN exits 64 (SASRec only)", arguments: ["mf", "lightgcn"])
    func otherModelRefused(_ model: String) throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.weightsText().write(to: folder.appendingPathComponent("w.json"), atomically: true, encoding: .utf8)
        let result = try ADARExecutable.run(["train", "--model", model, "--dataset", "synthetic", "--initial-weights", "w.json",
                                             "--output", "run.json"], in: folder)
        #expect(result.status == 64 && !result.endedBySignal, "\(result.standardError)")
        #expect(result.standardError.contains("--initial-weights applies only with --model sasrec"), "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["w.json"], "nothing written")
    }
}
