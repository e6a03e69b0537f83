import Foundation
import ADARData
import ADARTraining

/// Section 5's comparison: one ADAR-augmented MF epoch on ML-100K with the
/// training defaults (d = 64, batch 2048, M = 16, ρ = ½, max policy, σ = 0.1,
/// cosine T = 1000, skip, detach, Adam), in Swift and in numpy
/// (Bench/numpy/adar_epoch.py, the same algorithm vectorised per batch).
/// Each side: one warm-up epoch, then the median of `runs` epochs.
func epochComparison(cache: String, runs: Int) throws -> String {
    let data = try MovieLens.ml100k.load(from: URL(fileURLWithPath: cache))
    let configuration = try TrainingConfiguration(backbone: .mf, sampler: .adar)
    var lines = ["ADAR-augmented MF epoch on ML-100K (\(data.trainInteractions) rows; d = 64, batch 2048, M = 16): median of \(runs) epochs after a warm-up", ""]
    var medians: [String: Double] = [:]
    for threads in [1, ProcessInfo.processInfo.activeProcessorCount] {
        let trainer = try Trainer(data: data, configuration: configuration, seed: 1)
        var epoch = 1
        let timing = try time(runs: runs) {
            _ = try trainer.trainEpoch(epoch, threads: threads)
            epoch += 1
        }
        let name = "swift, \(threads) thread\(threads == 1 ? "" : "s")"
        medians[name] = timing.median
        lines.append(name.padding(toLength: 22, withPad: " ", startingAt: 0)
            + String(format: "median %.3f s  (min %.3f, max %.3f)  %.0f rows/s", timing.median, timing.min, timing.max,
                     Double(data.trainInteractions) / timing.median))
    }
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("numpy/adar_epoch.py")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.path, "--cache", cache, "--runs", String(runs)]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let json = try JSONSerialization.jsonObject(with: output) as? [String: Any],
          let numpyMedian = json["median"] as? Double, let seconds = json["seconds"] as? [Double] else {
        lines.append("numpy: failed (needs python3 with numpy; exit \(process.terminationStatus))")
        return lines.joined(separator: "\n")
    }
    lines.append("numpy \(json["numpy"] ?? "?")".padding(toLength: 22, withPad: " ", startingAt: 0)
        + String(format: "median %.3f s  (min %.3f, max %.3f)  %.0f rows/s", numpyMedian, seconds.min()!, seconds.max()!,
                 Double(data.trainInteractions) / numpyMedian))
    lines.append("")
    for (name, median) in medians.sorted(by: { $0.key < $1.key }) {
        lines.append(String(format: "speed-up %@ / numpy: %.1f×", name, numpyMedian / median))
    }
    return lines.joined(separator: "\n")
}
