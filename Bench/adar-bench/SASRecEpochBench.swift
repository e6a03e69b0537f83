import Foundation
import ADARCore
import ADARData
import ADARLayers
import ADARTraining

/// Issue 11 §3's speed comparison: one SASRec training epoch on ML-1M's training sequences (L = 200, d = 50,
/// 2 blocks, 1 head, dropout 0.2, batch 128, Adam), uniform and with ADAR (M = 16, the training defaults), in
/// Swift (`SASRecTrainer`, all cores) and in PyTorch (Bench/pytorch/sasrec_epoch.py: sasrec.py's model and
/// BCE, torch.optim.Adam, the port's synthesis) on the same sequences and thread count. Each side: one
/// warm-up epoch, then the median of `runs`; the peak resident set size of each variant (Swift: this
/// process's, reset before each variant; PyTorch: its process's). `quick`: a small synthetic set, L = 20.
func sasrecEpochComparison(cache: String, runs: Int, quick: Bool, pytorch: Bool) throws -> String {
    let data = quick ? SequenceData.synthetic(users: 256, items: 400, length: 30, seed: 1)
        : try MovieLens.ml1m.loadSequences(from: URL(fileURLWithPath: cache))
    let length = quick ? 20 : 200, threads = ProcessInfo.processInfo.activeProcessorCount
    let rows = data.train.reduce(0) { $0 + min($1.count, length) }
    var lines = ["SASRec training epoch on \(data.name) (\(data.userCount) sequences, \(rows) rows; L = \(length), d = 50, "
        + "2 blocks, batch 128, dropout 0.2; ADAR M = 16): median of \(runs) epochs after a warm-up, \(threads) threads", ""]
    func line(_ name: String, _ timing: Timing, peak: Int?) -> String {
        name.padding(toLength: 30, withPad: " ", startingAt: 0)
            + String(format: "median %.2f s  (min %.2f, max %.2f)  %.0f rows/s", timing.median, timing.min, timing.max,
                     Double(rows) / timing.median)
            + (peak.map { String(format: "  peak RSS %.0f MB", Double($0) / 1_048_576) } ?? "")
    }
    var swift: [SamplerKind: Double] = [:]
    for sampler in [SamplerKind.uniform, .adar] {
        resetPeakResidentSet()
        let model = try SASRecConfiguration(items: data.itemCount, length: length)
        let trainer = try SASRecTrainer(data: data, configuration: SASRecTrainingConfiguration(model: model, sampler: sampler), seed: 1)
        var epoch = 1
        let timing = try time(runs: runs) {
            _ = try trainer.trainEpoch(epoch, threads: threads)
            epoch += 1
        }
        swift[sampler] = timing.median
        lines.append(line("swift, \(sampler.rawValue)", timing, peak: peakResidentSetBytes()))
    }
    guard pytorch else { return lines.joined(separator: "\n") }

    let folder = try peerFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let lengths = folder.appendingPathComponent("lengths.i32"), sequences = folder.appendingPathComponent("sequences.i32")
    try writeRaw(data.train.map { Int32($0.count) }, to: lengths)
    try writeRaw(data.train.flatMap { $0 }, to: sequences)
    var ratios: [String] = []
    for sampler in [SamplerKind.uniform, .adar] {
        let outcome = runPeer("pytorch/sasrec_epoch.py", [
            "--lengths", lengths.path, "--sequences", sequences.path, "--items", "\(data.itemCount)", "--max-length", "\(length)",
            "--sampler", sampler.rawValue, "--runs", "\(runs)", "--threads", "\(threads)",
        ])
        if let notice = outcome.notice("PyTorch peer (Bench/pytorch/sasrec_epoch.py)") {
            lines.append(notice)
            break
        }
        guard case let .measured(json) = outcome, let timing = outcome.timingsByThreads[threads] else { continue }
        lines.append(line("pytorch \(json["torch"] ?? "?"), \(sampler.rawValue)", timing, peak: json["peakRSSBytes"] as? Int))
        ratios.append(String(format: "%@: pytorch / swift = %.2f× (issue target ≥ 1.5×)", sampler.rawValue, timing.median / swift[sampler]!))
    }
    return (lines + [""] + ratios).joined(separator: "\n")
}

/// Linux: `VmHWM` of /proc/self/status in bytes (nil elsewhere).
func peakResidentSetBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kilobytes * 1024
}

/// Linux: resets `VmHWM` to the current resident set (`/proc/self/clear_refs` ← 5), so each variant reports its own peak.
func resetPeakResidentSet() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}
