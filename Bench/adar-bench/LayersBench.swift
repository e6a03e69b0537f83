import Foundation
import ADARCore
import ADAR
import ADARLayers

/// The SASRec layers' GEMM choice and cost: `y = x·Wᵀ + b` and `dW = dYᵀ·X`
/// on SASRec's shapes (`B·L = 128·200` rows, `d = 50`) through OpenBLAS (as
/// `ADARLayers.Linear` runs them) against the project's own register-tiled
/// τ kernels (`TauKernels32`), one thread each; then one SASRec batch
/// (forward, S10 loss, backward; ML-1M's 3,706 items, 2 blocks, dropout 0.2)
/// on 1 thread and all. Medians of `runs` runs after a warm-up; ratios of
/// medians from this one invocation.
func layersComparison(runs: Int, quick: Bool) throws -> String {
    let sequences = quick ? 8 : 128, length = 200, d = 50, rows = sequences * length
    var rng = SeededGenerator(seed: 2026)
    let x = (0 ..< rows * d).map { _ in Float(rng.normal()) }, dy = (0 ..< rows * d).map { _ in Float(rng.normal()) }
    let linear = Linear(inputs: d, outputs: d, at: 0)
    let parameters = (0 ..< linear.parameterCount).map { _ in Float(rng.normal() * 0.1) }
    var y = [Float](repeating: 0, count: rows * d), gradient = [Float](repeating: 0, count: linear.parameterCount)
    let blasForward = time(runs: runs) { linear.forward(x, rows: rows, parameters: parameters, into: &y, threads: 1) }
    let ownForward = time(runs: runs) {
        TauKernels32.linear(x, rows: rows, parameters, bias: Array(parameters[(d * d)...]), outputs: d, inputs: d, into: &y)
    }
    let blasGradient = time(runs: runs) {
        linear.backward(x, outputGradient: dy, rows: rows, parameters: parameters, gradient: &gradient, inputGradient: nil, threads: 1)
    }
    var weightGradient = [Float](repeating: 0, count: d * d), biasGradient = [Float](repeating: 0, count: d)
    let ownGradient = time(runs: runs) {
        TauKernels32.accumulateOuter(dy, outputs: d, x, rows: rows, inputs: d, outputRange: 0 ..< d, into: &weightGradient,
                                     biasGrad: &biasGradient)
    }
    var lines = [
        "SASRec layers, B·L = \(sequences)·\(length) rows, d = \(d); medians of \(runs) runs (ms); "
            + "\(ProcessInfo.processInfo.activeProcessorCount) cores; a shared machine makes absolute times noisy, ratios less so",
        String(format: "y = x·Wᵀ + b   OpenBLAS %7.2f | own τ kernel %7.2f | own/OpenBLAS %5.1f",
               blasForward.median * 1e3, ownForward.median * 1e3, ownForward.median / blasForward.median),
        String(format: "dW = dYᵀ·X, db OpenBLAS %7.2f | own τ kernel %7.2f | own/OpenBLAS %5.1f",
               blasGradient.median * 1e3, ownGradient.median * 1e3, ownGradient.median / blasGradient.median),
    ]
    let configuration = try SASRecConfiguration(items: 3706, dimension: d, length: length, blocks: 2, heads: 1, dropout: 0.2)
    let encoder = SASRecEncoder<Float>(configuration: configuration, seed: 1)
    let workspace = SASRecWorkspace<Float>(configuration: configuration, sequences: sequences)
    // Sequence lengths spread over 1…L, left-padded; one positive and one negative per training row.
    var ids: [Int32] = [], positives: [Int32] = [], negatives: [Int32] = []
    for s in 0..<sequences {
        let padding = (s * 37) % length
        for p in 0..<length {
            ids.append(p < padding ? 0 : Int32(1 + rng.next() % 3706))
            positives.append(p + 1 < padding ? 0 : Int32(1 + rng.next() % 3706))
            negatives.append(positives.last! == 0 ? 0 : Int32(1 + rng.next() % 3706))
        }
    }
    var modelGradient = [Float](repeating: 0, count: encoder.layout.count)
    let dropout = try Dropout(seed: 1, epoch: 1, rate: 0.2, rowOffset: 0)
    for threads in [1, ProcessInfo.processInfo.activeProcessorCount] {
        let batch = time(runs: runs) {
            try! encoder.forward(ids, sequences: sequences, dropout: dropout, workspace: workspace, threads: threads)
            _ = try! SequenceBCELoss.lossAndGradient(encoder: encoder, workspace: workspace, sequences: sequences,
                                                     positives: positives, negatives: negatives, gradient: &modelGradient)
            try! encoder.backward(ids, sequences: sequences, dropout: dropout, workspace: workspace, gradient: &modelGradient, threads: threads)
        }
        lines.append(String(format: "SASRec batch (forward + loss + backward), %d thread(s): %8.1f ms; ×%d batches ≈ %.1f s per ML-1M epoch",
                            threads, batch.median * 1e3, (6040 + sequences - 1) / sequences,
                            batch.median * Double((6040 + sequences - 1) / sequences)))
    }
    return lines.joined(separator: "\n")
}
