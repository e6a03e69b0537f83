import Foundation
import ADARData
import ADARTraining

/// Issue 9's LightGCN cost on ML-1M's training split, and beside it on ML-100K, whose graph and embeddings
/// stay in the cache: first the parts, one smoothing of the embeddings (3 propagations of the whole graph)
/// and one full-ranking validation evaluation, then one uniform-BPR LightGCN training epoch (d = 64,
/// 3 layers, batch 2048, Adam), whose batches each smooth forward and back (6 propagations). Each
/// variant on 1 thread and on all: one warm-up, then the median of `runs` of wall time and of this process's
/// CPU time (CLOCK_PROCESS_CPUTIME_ID: user + system, all threads). `quick`: ML-100K only.
func lightGCNEpochComparison(cache: String, runs: Int, quick: Bool) throws {
    let folder = URL(fileURLWithPath: cache)
    let sets = quick ? [MovieLens.ml100k] : [.ml1m, .ml100k]
    let threadCounts = [1, ProcessInfo.processInfo.activeProcessorCount]
    func line(_ name: String, _ timing: CPUTiming) -> String {
        name.padding(toLength: 44, withPad: " ", startingAt: 0)
            + String(format: "wall %9.4f s (min %.4f, max %.4f)   cpu %9.4f s", timing.wall.median, timing.wall.min, timing.wall.max,
                     timing.cpu.median)
    }
    // Printed as measured: the parts first (seconds), then the epochs (minutes on a shared machine).
    func emit(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
    emit("LightGCN (d = 64, 3 layers, batch 2048, uniform BPR): median of \(runs) runs after a warm-up\n")
    for set in sets {
        let data = try set.load(from: folder)
        let configuration = try TrainingConfiguration(backbone: .lightgcn, sampler: .uniform)
        let batches = (data.trainInteractions + configuration.batchSize - 1) / configuration.batchSize
        emit("\(set.rawValue): \(data.userCount + data.itemCount) nodes, \(data.trainInteractions) training pairs, \(batches) batches")
        let trainer = try Trainer(data: data, configuration: configuration, seed: 1)
        let validation = data.rankingTask(.validation)
        for threads in threadCounts {
            let suffix = "\(threads) thread\(threads == 1 ? "" : "s")"
            emit(line("  one smoothing (3 layers), \(suffix)", timeWithCPU(runs: runs) { _ = trainer.finalEmbeddings(threads: threads) }))
            emit(line("  validation evaluation, \(suffix)", timeWithCPU(runs: runs) { _ = trainer.evaluate(validation, threads: threads) }))
        }
        for threads in threadCounts {
            let timing = try timeEpochs(Trainer(data: data, configuration: configuration, seed: 1), threads: threads, runs: runs)
            emit(line("  epoch, \(threads) thread\(threads == 1 ? "" : "s")", timing))
        }
        emit("")
    }
}

/// Epochs 1, 2, … of `trainer`: the first a warm-up, then `runs` timed.
func timeEpochs(_ trainer: Trainer, threads: Int, runs: Int) throws -> CPUTiming {
    var epoch = 1
    return try timeWithCPU(runs: runs) {
        _ = try trainer.trainEpoch(epoch, threads: threads)
        epoch += 1
    }
}

/// Medians of wall time and of this process's CPU time (user + system) over the same runs.
struct CPUTiming {
    let wall: Timing, cpu: Timing
}

/// `time`, with each run's CPU time beside its wall time.
func timeWithCPU(runs: Int, _ body: () throws -> Void) rethrows -> CPUTiming {
    try body()
    let clock = ContinuousClock()
    var wall: [Double] = [], cpu: [Double] = []
    for _ in 0..<runs {
        let start = clock.now, cpuStart = processCPUSeconds()
        try body()
        wall.append((clock.now - start) / .seconds(1))
        cpu.append(processCPUSeconds() - cpuStart)
    }
    return CPUTiming(wall: Timing(seconds: wall), cpu: Timing(seconds: cpu))
}

/// CPU seconds of this process so far, all threads (what getrusage's user + system time sums).
func processCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
