import Foundation
import ADARCore
import ADAR

/// S9's `denoised` generator against `forward` on the synthesis workloads of
/// the main table (same tables, rows and schedule), and τ's training step:
/// ns per row, medians of `runs` runs after a warm-up, ratios of medians
/// measured in this one invocation.
func denoisedComparison(runs: Int, quick: Bool) throws -> String {
    let shapes = quick ? [(512, 64, 16)] : [(4096, 64, 16), (4096, 256, 64), (4096, 64, 1)]
    let threads = ADARSynthesizer.defaultThreadCount
    var lines = [
        "denoised vs forward synthesis, ns per row (median of \(runs) runs; ratio = denoised/forward medians); "
            + "\(ProcessInfo.processInfo.activeProcessorCount) cores, all-thread runs use \(threads)",
        "workload                          | threads | forward | denoised | ratio | τ step",
    ]
    for (b, d, m) in shapes {
        FileHandle.standardError.write(Data("measuring denoised B=\(b) d=\(d) M=\(m)…\n".utf8))
        var rng = SeededGenerator(seed: 2026)
        let itemCount = 100_000, userCount = 10_000
        // As `measure`: users are noisy copies of a favourite item, the row's positive.
        let itemTable = (0 ..< itemCount * d).map { _ in Float(rng.normal() * 0.1) }
        let favourite = (0..<userCount).map { _ in Int(rng.next() % UInt64(itemCount)) }
        let userTable = (0 ..< userCount * d).map { k in itemTable[favourite[k / d] * d + k % d] + Float(rng.normal() * 0.05) }
        let users = (0..<b).map { _ in Int32(rng.next() % UInt64(userCount)) }
        let input = try IndexedRows32(
            dimension: d, poolSize: m, userTable: userTable, itemTable: itemTable, users: users,
            positives: users.map { Int32(favourite[Int($0)]) }, pool: (0 ..< b * m).map { _ in Int32(rng.next() % UInt64(itemCount)) })
        let schedule = try NoiseSchedule(.defaultCosine, steps: 1000)
        let synthesizer = ADARSynthesizer(schedule: schedule, configuration: try ADARConfiguration(rho: 0.5, sigma: 0.1, l2: 1e-4))
        let network = try TauNetwork32(dimension: d, steps: 1000, seed: 11)
        let noise = Noise32.counter(seed: 7, stream: 0, rowOffset: 0)
        let output = SynthesisBuffers()
        for count in [1, threads] {
            let forward = time(runs: runs) { try! synthesizer.synthesize(input, noise: noise, into: output, threads: count) }
            let denoised = time(runs: runs) {
                try! synthesizer.synthesize(input, noise: noise, generator: .denoised(network), into: output, threads: count)
            }
            let trainer = try TauTrainer32(network: network, learningRate: 1e-3)
            var epoch = 0
            let step = time(runs: runs) {
                epoch += 1
                try! trainer.step(input, synthesizer: synthesizer, seed: 7, epoch: epoch, rowOffset: 0, threads: count)
            }
            let perRow = { (t: Timing) in t.median / Double(b) * 1e9 }
            let denoisedRows = b - output.forwardFallbackCount - output.statuses.filter(\.isFallback).count
            let name = "B=\(b) d=\(d) M=\(m) (\(denoisedRows) denoised)"
            lines.append(name.padding(toLength: 33, withPad: " ", startingAt: 0) + String(
                format: " | %7d | %7.0f | %8.0f | %5.1f | %6.0f",
                count, perRow(forward), perRow(denoised), denoised.median / forward.median, perRow(step)))
        }
    }
    return lines.joined(separator: "\n")
}
