import ADARCore
import Foundation

/// The SASRec backbone: embedding (`√d`-scaled items + learned positions),
/// dropout, `b` pre-norm blocks, a final layer norm. Conventions fixed here
/// (docs/LAYERS.md compares them with SASRec.pytorch):
///
/// - pre-norm, as SASRec.pytorch with `norm_first`: `X ← X + MHA(LN₁(X))`,
///   then `X ← X + FFN(LN₂(X))`; the output `h = LN_final(X)`;
/// - dropout on the embedding, on the attention weights, and the FFN's two
///   (after ReLU, after the second layer); none on the residual branches
///   otherwise;
/// - attention masks padding keys as well as future ones (SASRec.pytorch
///   masks only future keys; its padding rows then leak into the softmax);
/// - one item table: the input (scaled by `√d`) and the scores (unscaled) share it.
///
/// `forward` and `backward` are bit-identical for any `threads`.
public struct SASRecEncoder<S: LayerScalar>: Sendable {
    public let configuration: SASRecConfiguration
    public let layout: SASRecLayout
    /// All parameters in `layout`'s order.
    public var parameters: [S]

    /// Initialisation as SASRec.pytorch's `main.py`: Xavier-normal for every
    /// matrix (`std = √(2/(fan_in + fan_out))`; the tables count `items + 1`
    /// and `L + 1` rows, as the reference's do), rows 0 of the item table
    /// zero; LayerNorm `γ = 1`, `β = 0`; attention biases 0; the FFN's biases
    /// uniform on `±1/√d` (PyTorch's `Conv1d` default). Tensors are numbered
    /// `t = 0, 1, …` in layout order; normals are S8's with `seed`, stream
    /// `0xDFFF_FFFF`, row `t·2³² + r`, component `c`; uniforms `bound·(2u − 1)`
    /// with `u` from lane `c mod 4` of Philox on counter `(⌊c/4⌋, t, 0, 0xDFFF_FFFE)`.
    public init(configuration c: SASRecConfiguration, seed: UInt64) {
        let layout = SASRecLayout(c)
        var p = [S](repeating: 0, count: layout.count)
        let d = c.dimension
        let normals = GaussianNoise(seed: seed, stream: 0xDFFF_FFFF)
        var tensor: UInt64 = 0
        func xavier(_ offset: Int, rows: Int, columns: Int, fanOut: Int) {
            let std = (2 / Double(columns + fanOut)).squareRoot()
            for r in 0..<rows {
                let row = normals.row((tensor << 32) | UInt64(r), dimension: columns)
                for k in 0..<columns { p[offset + r * columns + k] = S(std * row[k]) }
            }
            tensor += 1
        }
        func uniform(_ offset: Int, count: Int, bound: Double) {
            let key = SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
            for k in 0..<count {
                let w = Philox4x32.block(counter: SIMD4(UInt32(k / 4), UInt32(tensor), 0, 0xDFFF_FFFE), key: key)[k % 4]
                p[offset + k] = S(bound * (2 * GaussianNoise.unitInterval(w) - 1))
            }
            tensor += 1
        }
        func unitGain(_ norm: LayerNorm) { for k in 0..<d { p[norm.gain + k] = 1 } }
        xavier(layout.embedding.itemTable, rows: c.items + 1, columns: d, fanOut: c.items + 1)
        xavier(layout.embedding.positionTable, rows: c.length, columns: d, fanOut: c.length + 1)
        for k in 0..<d { p[layout.embedding.itemTable + k] = 0 }
        for block in layout.blocks {
            unitGain(block.attentionNorm)
            unitGain(block.feedForwardNorm)
            xavier(block.attention.inputProjection.weight, rows: 3 * d, columns: d, fanOut: 3 * d)
            xavier(block.attention.outputProjection.weight, rows: d, columns: d, fanOut: d)
            for linear in [block.feedForward.first, block.feedForward.second] {
                xavier(linear.weight, rows: d, columns: d, fanOut: d)
                uniform(linear.bias, count: d, bound: 1 / Double(d).squareRoot())
            }
        }
        unitGain(layout.finalNorm)
        self.configuration = c
        self.layout = layout
        parameters = p
    }

    /// A backbone with the given parameters (`layout`'s order); row 0 of the item table must be zero.
    public init(configuration c: SASRecConfiguration, parameters: [S]) throws(ADARError) {
        let layout = SASRecLayout(c)
        guard parameters.count == layout.count else {
            throw .shapeMismatch(field: "parameters", expected: layout.count, actual: parameters.count)
        }
        if let i = parameters.firstIndex(where: { !$0.isFinite }) { throw .nonFinite(row: 0, field: "parameters", component: i) }
        if let k = (0..<c.dimension).first(where: { parameters[layout.embedding.itemTable + $0] != 0 }) {
            throw .invalidConfiguration(field: "parameters", reason: "row 0 of the item table (padding) must be zero; component \(k) is not")
        }
        configuration = c
        self.layout = layout
        self.parameters = parameters
    }

    /// The training-mode (or, with `Dropout.none`, evaluation) forward of
    /// `sequences` left-padded sequences `ids` (`sequences × L`, item ids,
    /// 0 = padding): `h` into `workspace.hidden`, activations kept for `backward`.
    @_specialize(exported: true, where S == Float)
    public func forward(
        _ ids: [Int32], sequences: Int, dropout: Dropout, workspace w: SASRecWorkspace<S>,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws(ADARError) {
        try check(ids, sequences: sequences, dropout: dropout, workspace: w)
        let c = configuration, L = c.length, d = c.dimension, rows = sequences * L
        for s in 0..<sequences { w.starts[s] = (0..<L).first { ids[s * L + $0] != 0 } ?? L }
        parameters.withUnsafeBufferPointer { pb in
            ids.withUnsafeBufferPointer { idb in
                let p = pb.baseAddress!
                layout.embedding.forward(idb.baseAddress!, rows: rows, parameters: p, into: w.stream)
                if dropout.isActive {
                    dropout.forward(w.stream, rows: rows, width: d, site: 0, mask: w.embeddingMask, threads: threads)
                }
                for (i, block) in layout.blocks.enumerated() {
                    let b = w.blocks[i]
                    block.attentionNorm.forward(w.stream, rows: rows, parameters: p, normalised: b.attentionNormalised,
                                                inverseDeviation: b.attentionDeviation, into: b.attentionInput, threads: threads)
                    block.attention.forward(b.attentionInput, sequences: sequences, length: L, starts: w.starts, parameters: p,
                                            buffers: b.attention, dropout: dropout, site: 1 + 3 * i, into: w.branch, threads: threads)
                    for k in 0 ..< rows * d { w.stream[k] += w.branch[k] }
                    block.feedForwardNorm.forward(w.stream, rows: rows, parameters: p, normalised: b.feedForwardNormalised,
                                                  inverseDeviation: b.feedForwardDeviation, into: b.feedForwardInput, threads: threads)
                    block.feedForward.forward(b.feedForwardInput, rows: rows, parameters: p, buffers: b.feedForward,
                                              dropout: dropout, sites: (2 + 3 * i, 3 + 3 * i), into: w.branch, threads: threads)
                    for k in 0 ..< rows * d { w.stream[k] += w.branch[k] }
                }
                layout.finalNorm.forward(w.stream, rows: rows, parameters: p, normalised: w.finalNormalised,
                                         inverseDeviation: w.finalDeviation, into: w.hidden, threads: threads)
            }
        }
    }

    /// The backward of the last `forward` (same `ids`, `sequences`, `dropout`)
    /// from `workspace.hiddenGradient`: every parameter's gradient into
    /// `gradient` (`layout.count` values) — overwritten, except the item
    /// table's, which is added to (the loss puts the scores' part there first;
    /// row 0 stays untouched).
    @_specialize(exported: true, where S == Float)
    public func backward(
        _ ids: [Int32], sequences: Int, dropout: Dropout, workspace w: SASRecWorkspace<S>, gradient: inout [S],
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws(ADARError) {
        try check(ids, sequences: sequences, dropout: dropout, workspace: w)
        guard gradient.count == layout.count else {
            throw .shapeMismatch(field: "gradient", expected: layout.count, actual: gradient.count)
        }
        let c = configuration, L = c.length, d = c.dimension, rows = sequences * L
        parameters.withUnsafeBufferPointer { pb in
            gradient.withUnsafeMutableBufferPointer { gb in
                ids.withUnsafeBufferPointer { idb in
                    let p = pb.baseAddress!, g = gb.baseAddress!
                    layout.finalNorm.backward(outputGradient: w.hiddenGradient, rows: rows, normalised: w.finalNormalised,
                                              inverseDeviation: w.finalDeviation, parameters: p, gradient: g,
                                              inputGradient: w.streamGradient, accumulate: false, threads: threads)
                    for (i, block) in layout.blocks.enumerated().reversed() {
                        let b = w.blocks[i]
                        // FFN branch: dF = dX (a copy: the backward overwrites it), then LN₂'s part into dX.
                        w.branch.update(from: w.streamGradient, count: rows * d)
                        block.feedForward.backward(b.feedForwardInput, outputGradient: w.branch, rows: rows, parameters: p,
                                                   buffers: b.feedForward, dropout: dropout, gradient: g,
                                                   inputGradient: w.branchGradient, threads: threads)
                        block.feedForwardNorm.backward(outputGradient: w.branchGradient, rows: rows,
                                                       normalised: b.feedForwardNormalised, inverseDeviation: b.feedForwardDeviation,
                                                       parameters: p, gradient: g, inputGradient: w.streamGradient,
                                                       accumulate: true, threads: threads)
                        block.attention.backward(b.attentionInput, outputGradient: w.streamGradient, sequences: sequences,
                                                 length: L, starts: w.starts, parameters: p, buffers: b.attention, dropout: dropout,
                                                 gradient: g, inputGradient: w.branch, threads: threads)
                        block.attentionNorm.backward(outputGradient: w.branch, rows: rows, normalised: b.attentionNormalised,
                                                     inverseDeviation: b.attentionDeviation, parameters: p, gradient: g,
                                                     inputGradient: w.streamGradient, accumulate: true, threads: threads)
                    }
                    if dropout.isActive { dropout.backward(w.streamGradient, count: rows * d, mask: w.embeddingMask) }
                    (g + layout.embedding.positionTable).update(repeating: 0, count: L * d)
                    layout.embedding.backward(idb.baseAddress!, inputGradient: w.streamGradient, rows: rows, gradient: g)
                }
            }
        }
    }

    /// The embedding's output gradient of the last `backward` (`rows × d`,
    /// after the embedding dropout's backward): for the padding checks.
    package func embeddingGradient(workspace w: SASRecWorkspace<S>, sequences: Int) -> [S] {
        Array(UnsafeBufferPointer(start: w.streamGradient, count: sequences * configuration.length * configuration.dimension))
    }

    private func check(_ ids: [Int32], sequences: Int, dropout: Dropout, workspace w: SASRecWorkspace<S>) throws(ADARError) {
        let c = configuration, L = c.length
        guard w.configuration == c else {
            throw .invalidConfiguration(field: "workspace", reason: "was made for another configuration; make one with this model's")
        }
        guard sequences >= 1, sequences <= w.capacity else {
            throw .invalidConfiguration(field: "sequences", reason: "must be in 1…\(w.capacity) (the workspace's capacity), got \(sequences)")
        }
        guard ids.count == sequences * L else { throw .shapeMismatch(field: "ids", expected: sequences * L, actual: ids.count) }
        guard !dropout.isActive || dropout.rate == c.dropout else {
            throw .invalidConfiguration(field: "dropout", reason: "rate \(dropout.rate) differs from the model's \(c.dropout); use Dropout.none to evaluate")
        }
        for s in 0..<sequences {
            var seenItem = false
            for p in 0..<L {
                let id = ids[s * L + p]
                guard id >= 0, Int(id) <= c.items else {
                    throw .indexOutOfRange(row: s, field: "ids[\(p)]", index: Int(id), count: c.items + 1)
                }
                if id != 0 { seenItem = true } else if seenItem {
                    throw .invalidConfiguration(field: "ids", reason: "sequence \(s) is not left-padded: slot \(p) is padding (0) after an item; put padding first")
                }
            }
        }
    }
}
