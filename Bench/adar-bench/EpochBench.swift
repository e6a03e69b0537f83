import Foundation
import ADARData
import ADARTraining

/// Section 5's comparison: one ADAR-augmented MF epoch on ML-100K with the
/// training defaults (d = 64, batch 2048, M = 16, ρ = ½, max policy, σ = 0.1,
/// cosine T = 1000, skip, detach, Adam), in Swift, in numpy
/// (Bench/numpy/adar_epoch.py, the same algorithm vectorised per batch) and in
/// PyTorch (Bench/pytorch/adar_epoch.py: the port, autograd, torch.optim.Adam),
/// all on the training split Swift trains on. Each side: one warm-up epoch,
/// then the median of `runs` epochs.
func epochComparison(cache: String, runs: Int, pytorch: Bool) throws -> String {
    let data = try MovieLens.ml100k.load(from: URL(fileURLWithPath: cache))
    let configuration = try TrainingConfiguration(backbone: .mf, sampler: .adar)
    let threadCounts = [1, ProcessInfo.processInfo.activeProcessorCount]
    var lines = ["ADAR-augmented MF epoch on ML-100K (\(data.trainInteractions) rows; d = 64, batch 2048, M = 16): median of \(runs) epochs after a warm-up", ""]
    func line(_ name: String, _ timing: Timing) -> String {
        name.padding(toLength: 32, withPad: " ", startingAt: 0)
            + String(format: "median %.3f s  (min %.3f, max %.3f)  %.0f rows/s", timing.median, timing.min, timing.max,
                     Double(data.trainInteractions) / timing.median)
    }
    var swift: [Int: Double] = [:]
    for threads in threadCounts {
        let timing = try timeEpochs(Trainer(data: data, configuration: configuration, seed: 1), threads: threads, runs: runs).wall
        swift[threads] = timing.median
        lines.append(line("swift, \(threads) thread\(threads == 1 ? "" : "s")", timing))
    }

    // The peers train on exactly this split: its (user, item) pairs as int32.
    let folder = try peerFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let pairs = folder.appendingPathComponent("train-pairs.i32")
    try writeRaw(data.train.enumerated().flatMap { user, items in items.flatMap { [Int32(user), $0] } }, to: pairs)
    let split = ["--pairs", pairs.path, "--users", "\(data.userCount)", "--items", "\(data.itemCount)", "--runs", "\(runs)"]
    var ratios: [String] = []

    let numpy = runPeer("numpy/adar_epoch.py", split)
    if let notice = numpy.notice("numpy peer (Bench/numpy/adar_epoch.py)") {
        lines.append(notice)
    } else if case let .measured(json) = numpy, let seconds = json["seconds"] as? [Double], !seconds.isEmpty {
        let timing = Timing(seconds: seconds)
        lines.append(line("numpy \(json["numpy"] ?? "?")", timing))
        for threads in threadCounts {
            ratios.append(String(format: "speed-up swift, %d thread%@ / numpy: %.1f×", threads, threads == 1 ? "" : "s", timing.median / swift[threads]!))
        }
    }

    if pytorch {
        let peer = runPeer("pytorch/adar_epoch.py", split + ["--threads", threadCounts.map(String.init).joined(separator: ",")])
        if let notice = peer.notice("PyTorch peer (Bench/pytorch/adar_epoch.py)") {
            lines.append(notice)
        } else if case let .measured(json) = peer {
            let timings = peer.timingsByThreads
            for threads in threadCounts {
                guard let timing = timings[threads] else { continue }
                lines.append(line("pytorch \(json["torch"] ?? "?"), \(threads) thread\(threads == 1 ? "" : "s")", timing))
                ratios.append(String(format: "× PyTorch, %d thread%@ (pytorch / swift at the same thread count): %.1f×",
                                     threads, threads == 1 ? "" : "s", timing.median / swift[threads]!))
            }
            lines.append("(PyTorch: the port examples/ports/pytorch/adar_torch.py with noise=\"randn\", autograd, torch.optim.Adam, "
                + "float32, torch.set_num_threads = the thread count, OMP_WAIT_POLICY=\(json["ompWaitPolicy"] ?? "?"))")
        }
    }
    return (lines + [""] + ratios).joined(separator: "\n")
}
