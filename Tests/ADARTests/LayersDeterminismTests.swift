import Foundation
import Testing
import ADARCore
@testable import ADARLayers

/// The SASRec layers' determinism (dropout masks from Philox, bit-identity
/// for any thread count), padding, the loss written out, Adam, and the
/// errors on bad input.
@Suite("Layers: determinism, padding, loss, Adam, errors")
struct LayersDeterminismTests {
    /// A batch big enough that every parallel loop has many chunks:
    /// 6 sequences of L = 12, d = 16, 2 heads, 2 blocks, dropout 0.2.
    struct Batch {
        let configuration = try! SASRecConfiguration(items: 30, dimension: 16, length: 12, blocks: 2, heads: 2, dropout: 0.2)
        let sequences = 6
        var ids: [Int32] = []
        var positives: [Int32] = []
        var negatives: [Int32] = []

        init() {
            let L = 12
            for s in 0..<sequences {
                let items = (0 ..< L + 1).map { Int32(1 + (s * 7 + $0 * 5) % 30) }
                let padding = [0, 3, 11, 1, 6, 12][s]
                for p in 0..<L {
                    ids.append(p < padding ? 0 : items[p])
                    let isTraining = p + 1 >= padding
                    positives.append(isTraining ? items[p + 1] : 0)
                    negatives.append(isTraining ? Int32(1 + (s + p * 3) % 30) : 0)
                }
            }
        }

        func run(threads: Int, dropout: Dropout, seed: UInt64 = 5) throws -> (hidden: [Float], gradient: [Float], loss: Float) {
            let encoder = SASRecEncoder<Float>(configuration: configuration, seed: seed)
            let workspace = SASRecWorkspace<Float>(configuration: configuration, sequences: sequences)
            var gradient = [Float](repeating: 0, count: encoder.layout.count)
            try encoder.forward(ids, sequences: sequences, dropout: dropout, workspace: workspace, threads: threads)
            let (loss, _) = try SequenceBCELoss.lossAndGradient(encoder: encoder, workspace: workspace, sequences: sequences,
                                                                 positives: positives, negatives: negatives, gradient: &gradient)
            try encoder.backward(ids, sequences: sequences, dropout: dropout, workspace: workspace, gradient: &gradient, threads: threads)
            let rows = sequences * configuration.length * configuration.dimension
            return (Array(UnsafeBufferPointer(start: workspace.hidden, count: rows)), gradient, loss)
        }
    }

    @Test("Forward, loss and backward bit-identical for 1, 2 and 5 threads; reruns identical")
    func threadCounts() throws {
        let batch = Batch(), dropout = try Dropout(seed: 9, epoch: 2, rate: 0.2, rowOffset: 120)
        let one = try batch.run(threads: 1, dropout: dropout)
        for threads in [1, 2, 5] {
            let other = try batch.run(threads: threads, dropout: dropout)
            #expect(other.hidden == one.hidden, "h differs with \(threads) threads")
            #expect(other.gradient == one.gradient, "the gradient differs with \(threads) threads")
            #expect(other.loss == one.loss)
        }
        // The layers' own chunks are the only parallelism: OpenBLAS runs single-threaded inside them.
        #expect(GEMM.threadsAfterPinning == 1)
        // The comparison can fail: another epoch draws other masks.
        let otherEpoch = try batch.run(threads: 1, dropout: Dropout(seed: 9, epoch: 3, rate: 0.2, rowOffset: 120))
        #expect(otherEpoch.gradient != one.gradient)
    }

    @Test("Dropout masks: a pure function of (seed, epoch, global row, site, component); rate respected")
    func dropoutMasks() throws {
        let dropout = try Dropout(seed: 42, epoch: 7, rate: 0.2, rowOffset: 1000)
        func mask(_ d: Dropout, site: Int, row: Int, _ components: Range<Int> = 0 ..< 64) -> [UInt8] {
            var out = [UInt8](repeating: 9, count: components.count)
            d.fillMask(site: site, row: row, components: components, into: &out)
            return out
        }
        // Global row 1005 is row 5 at offset 1000 and row 0 at offset 1005: the batch does not matter.
        #expect(mask(dropout, site: 3, row: 5) == mask(try Dropout(seed: 42, epoch: 7, rate: 0.2, rowOffset: 1005), site: 3, row: 0))
        // A sub-range is the same components (attention fills windows).
        #expect(mask(dropout, site: 1, row: 2, 13 ..< 50) == Array(mask(dropout, site: 1, row: 2)[13 ..< 50]))
        // Every input of the counter changes the mask.
        let base = mask(dropout, site: 3, row: 5)
        #expect(mask(try Dropout(seed: 43, epoch: 7, rate: 0.2, rowOffset: 1000), site: 3, row: 5) != base)
        #expect(mask(try Dropout(seed: 42, epoch: 8, rate: 0.2, rowOffset: 1000), site: 3, row: 5) != base)
        #expect(mask(dropout, site: 4, row: 5) != base)
        #expect(mask(dropout, site: 3, row: 6) != base)
        // The written-out rule: component k kept iff Philox lane k mod 4 of (⌊k/4⌋, 1005, 7, 0xD000_0003) ≥ round(0.2·2³²).
        let key = SIMD2<UInt32>(42, 0), threshold = UInt32((0.2 * 4_294_967_296).rounded())
        let expected = (0..<64).map { k -> UInt8 in
            Philox4x32.block(counter: SIMD4(UInt32(k / 4), 1005, 7, 0xD000_0003), key: key)[k % 4] >= threshold ? 1 : 0
        }
        #expect(base == expected)
        // Drop share over 64 000 draws within 5 standard deviations of 0.2 (fixed seed: deterministic).
        var dropped = 0
        for row in 0..<1000 { dropped += mask(dropout, site: 0, row: row).filter { $0 == 0 }.count }
        let n = 64_000.0, sd = (n * 0.2 * 0.8).squareRoot()
        #expect(abs(Double(dropped) - 0.2 * n) <= 5 * sd, "dropped \(dropped) of 64000 at rate 0.2")
    }

    @Test("Padding: padding inputs get exactly zero gradient, the padding item row none, padding rows no loss")
    func padding() throws {
        let batch = Batch(), dropout = try Dropout(seed: 9, epoch: 2, rate: 0.2, rowOffset: 0)
        let encoder = SASRecEncoder<Float>(configuration: batch.configuration, seed: 5)
        let workspace = SASRecWorkspace<Float>(configuration: batch.configuration, sequences: batch.sequences)
        var gradient = [Float](repeating: 0, count: encoder.layout.count)
        try encoder.forward(batch.ids, sequences: batch.sequences, dropout: dropout, workspace: workspace, threads: 2)
        _ = try SequenceBCELoss.lossAndGradient(encoder: encoder, workspace: workspace, sequences: batch.sequences,
                                                positives: batch.positives, negatives: batch.negatives, gradient: &gradient)
        try encoder.backward(batch.ids, sequences: batch.sequences, dropout: dropout, workspace: workspace, gradient: &gradient, threads: 2)
        let d = batch.configuration.dimension
        let inputGradient = encoder.embeddingGradient(workspace: workspace, sequences: batch.sequences)
        var paddingRows = 0
        for r in batch.ids.indices {
            let row = inputGradient[r * d ..< (r + 1) * d]
            if batch.ids[r] == 0 {
                // Padding slots feed only their own rows (no key sees them); their loss rows, if any, come through b_out.
                paddingRows += 1
                #expect(row.allSatisfy { $0 == 0 } || batch.positives[r] != 0, "padding slot \(r) got input gradient")
            }
            if batch.positives[r] == 0 {
                #expect(Array(UnsafeBufferPointer(start: workspace.hiddenGradient + r * d, count: d)).allSatisfy { $0 == 0 })
            }
        }
        #expect(paddingRows == 33)
        #expect(gradient[0..<d].allSatisfy { $0 == 0 }, "the padding item's row got gradient")
    }

    @Test("S10 loss written out: softplus terms over training rows, mean, l2·‖E‖²")
    func lossWrittenOut() throws {
        let configuration = try SASRecConfiguration(items: 3, dimension: 2, length: 2, blocks: 0, dropout: 0)
        var parameters = [Double](repeating: 0, count: SASRecLayout(configuration).count)
        // E rows 1…3 and the final LayerNorm's γ = 1, β = 0 (h is then the normalised input).
        parameters.replaceSubrange(2..<8, with: [1, 0, 0, 2, -1, 1])
        let layout = SASRecLayout(configuration)
        parameters[layout.finalNorm.gain] = 1
        parameters[layout.finalNorm.gain + 1] = 1
        let encoder = try SASRecEncoder(configuration: configuration, parameters: parameters)
        let workspace = SASRecWorkspace<Double>(configuration: configuration, sequences: 1)
        try encoder.forward([1, 2], sequences: 1, dropout: .none, workspace: workspace)
        // Set h directly: the loss reads workspace.hidden.
        let h: [Double] = [0.5, -1, 2, 0.25]
        for k in 0..<4 { workspace.hidden[k] = h[k] }
        var gradient = [Double](repeating: 0, count: layout.count)
        let (loss, rows) = try SequenceBCELoss.lossAndGradient(encoder: encoder, workspace: workspace, sequences: 1,
                                                                positives: [2, 3], negatives: [3, 1], l2: 0.1, gradient: &gradient)
        func softplus(_ x: Double) -> Double { log(1 + exp(x)) }
        // Row 0: s_pos = ⟨(0.5, −1), (0, 2)⟩ = −2, s_neg = ⟨(0.5, −1), (−1, 1)⟩ = −1.5; row 1: s_pos = −1.75, s_neg = 2.
        let expected = (softplus(2) + softplus(-1.5) + softplus(1.75) + softplus(2)) / 2 + 0.1 * (1 + 4 + 1 + 1)
        #expect(rows == 2)
        #expect(abs(loss - expected) <= 1e-14)
        // ∂/∂h of row 0: (−σ(2)·e₂ + σ(−1.5)·e₃)/2.
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        let dh0 = [(-sigmoid(2) * 0 + sigmoid(-1.5) * -1) / 2, (-sigmoid(2) * 2 + sigmoid(-1.5) * 1) / 2]
        #expect(abs(workspace.hiddenGradient[0] - dh0[0]) <= 1e-15 && abs(workspace.hiddenGradient[1] - dh0[1]) <= 1e-15)
        // A flipped negative term is caught by the written-out value.
        let flipped = try LayerMutation.$active.withValue(.negativeTermSignFlipped) {
            try SequenceBCELoss.lossAndGradient(encoder: encoder, workspace: workspace, sequences: 1,
                                                positives: [2, 3], negatives: [3, 1], l2: 0.1, gradient: &gradient).loss
        }
        #expect(abs(flipped - expected) > 1e-3)
    }

    @Test("Adam: one step written out in binary64, the step count kept, any thread count")
    func adam() throws {
        let count = 1000
        let gradient = (0..<count).map { Float(sin(Double($0))) }
        var parameters = (0..<count).map { Float(cos(Double($0))) }
        var adam = try Adam<Float>(count: count, learningRate: 0.01, beta1: 0.9, beta2: 0.98)
        var other = adam, otherParameters = parameters
        try adam.step(&parameters, gradient: gradient, threads: 1)
        try adam.step(&parameters, gradient: gradient, threads: 1)
        try other.step(&otherParameters, gradient: gradient, threads: 4)
        try other.step(&otherParameters, gradient: gradient, threads: 4)
        #expect(parameters == otherParameters)
        #expect(adam.steps == 2)
        // Two steps with the same g: m = 0.19·g, v = 0.0396·g²; m̂ = g·0.19/0.19, v̂ = g²·0.0396/0.0396.
        for k in [0, 1, 17, 999] {
            let g = Double(gradient[k]), p0 = cos(Double(k))
            let first = p0 - 0.01 * g / (abs(g) + 1e-8)
            let second = first - 0.01 * g / (abs(g) + 1e-8)
            #expect(abs(Double(parameters[k]) - second) <= 1e-6, "parameter \(k): \(parameters[k]) vs \(second)")
        }
        #expect(throws: ADARError.shapeMismatch(field: "gradient", expected: count, actual: 3)) {
            try adam.step(&parameters, gradient: [1, 2, 3])
        }
        #expect(throws: ADARError.self) { try Adam<Float>(count: 3, learningRate: 0) }
    }

    @Test("Bad input: a clear error naming the sequence, slot or field")
    func errors() throws {
        let configuration = try SASRecConfiguration(items: 5, dimension: 4, length: 3, blocks: 1, dropout: 0.1)
        let encoder = SASRecEncoder<Float>(configuration: configuration, seed: 1)
        let workspace = SASRecWorkspace<Float>(configuration: configuration, sequences: 2)
        func forward(_ ids: [Int32], sequences: Int = 2, dropout: Dropout = .none) -> ADARError? {
            do { try encoder.forward(ids, sequences: sequences, dropout: dropout, workspace: workspace); return nil } catch { return error }
        }
        #expect(forward([0, 1, 2, 3, 0, 4]) == .invalidConfiguration(
            field: "ids", reason: "sequence 1 is not left-padded: slot 1 is padding (0) after an item; put padding first"))
        #expect(forward([0, 1, 6, 1, 2, 3]) == .indexOutOfRange(row: 0, field: "ids[2]", index: 6, count: 6))
        #expect(forward([1, 2, 3]) == .shapeMismatch(field: "ids", expected: 6, actual: 3))
        #expect(forward([1, 2, 3, 1, 2, 3, 1, 2, 3], sequences: 3) != nil)
        #expect(forward([1, 2, 3, 1, 2, 3], dropout: try Dropout(seed: 1, epoch: 1, rate: 0.3, rowOffset: 0)) != nil)
        #expect(forward([0, 1, 2, 3, 4, 5]) == nil)
        #expect(throws: ADARError.invalidConfiguration(field: "heads", reason: "must be ≥ 1 and divide the dimension 4, got 3")) {
            try SASRecConfiguration(items: 5, dimension: 4, heads: 3)
        }
        #expect(throws: ADARError.self) { try Dropout(seed: 1, epoch: 0, rate: 0.1, rowOffset: 0) }
        #expect(throws: ADARError.self) { try Dropout(seed: 1, epoch: 1, rate: 1, rowOffset: 0) }
        var gradient = [Float](repeating: 0, count: encoder.layout.count)
        #expect(throws: ADARError.invalidConfiguration(
            field: "negatives", reason: "row 1: a training row (positive ≠ 0) needs a negative item ≠ 0, and a padding row none")) {
            try SequenceBCELoss.lossAndGradient(encoder: encoder, workspace: workspace, sequences: 2,
                                                positives: [0, 1, 2, 3, 4, 5], negatives: [0, 0, 1, 1, 1, 1], gradient: &gradient)
        }
        var nonZeroPadding = encoder.parameters
        nonZeroPadding[1] = 0.5
        #expect(throws: ADARError.self) { try SASRecEncoder(configuration: configuration, parameters: nonZeroPadding) }
    }
}
