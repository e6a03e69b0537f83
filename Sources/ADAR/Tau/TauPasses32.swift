import ADARCore

/// Buffers of τ's batched passes, reused across calls: memory is allocated
/// only when a call has more rows than any before.
final class TauWorkspace32: @unchecked Sendable {
    private(set) var capacityRows = 0
    let d: Int
    /// `V` (`B × 3d`), `pre = V·W₁ᵀ + b₁` and `H = SiLU(pre)` (`B × 4d`),
    /// `Ŷ` then `dŶ` (`B × d`), `dpre` (`B × 4d`), targets `ε′` (`B × d`).
    private(set) var inputs, preActivations, hidden, outputs, hiddenGradient, targets: UnsafeMutablePointer<Float>

    init(dimension: Int) {
        d = dimension
        inputs = .allocate(capacity: 0); preActivations = .allocate(capacity: 0); hidden = .allocate(capacity: 0)
        outputs = .allocate(capacity: 0); hiddenGradient = .allocate(capacity: 0); targets = .allocate(capacity: 0)
    }

    deinit { release() }

    func reserve(rows: Int) {
        guard rows > capacityRows else { return }
        release()
        capacityRows = rows
        inputs = .allocate(capacity: rows * 3 * d)
        preActivations = .allocate(capacity: rows * 4 * d)
        hidden = .allocate(capacity: rows * 4 * d)
        outputs = .allocate(capacity: rows * d)
        hiddenGradient = .allocate(capacity: rows * 4 * d)
        targets = .allocate(capacity: rows * d)
    }

    private func release() {
        inputs.deallocate(); preActivations.deallocate(); hidden.deallocate()
        outputs.deallocate(); hiddenGradient.deallocate(); targets.deallocate()
    }
}

extension TauNetwork32 {
    /// The batched forward on `rows` rows of `V` (`workspace.inputs`):
    /// `pre`, `H` and `Ŷ` into the workspace. Parallel over row chunks; each
    /// row's values do not depend on the chunking (`TauKernels32.linear`).
    func forward(rows: Int, workspace w: TauWorkspace32, threads: Int) {
        let d = dimension, layout = layout
        parameters.withUnsafeBufferPointer { p in
            nonisolated(unsafe) let p = p.baseAddress!
            let chunks = ADARSynthesizer.chunkCount(rows: rows, threads: threads)
            forEachChunk(chunks, threads: threads) { chunk in
                let range = chunkRange(chunk, of: chunks, count: rows)
                guard !range.isEmpty else { return }
                let b = range.lowerBound, count = range.count
                TauKernels32.linear(w.inputs + b * 3 * d, rows: count, p + layout.w1, bias: p + layout.b1, outputs: 4 * d,
                                    inputs: 3 * d, into: w.preActivations + b * 4 * d)
                for i in b * 4 * d ..< (b + count) * 4 * d { w.hidden[i] = TauKernels32.silu(w.preActivations[i]) }
                TauKernels32.linear(w.hidden + b * 4 * d, rows: count, p + layout.w2, bias: p + layout.b2, outputs: d,
                                    inputs: 4 * d, into: w.outputs + b * d)
            }
        }
    }

    /// S9's `L_τ` (mean over the rows of `‖ε′ − Ŷ‖²/d`) and its gradient with
    /// respect to the parameters (`W₁ | b₁ | W₂ | b₂`) into `gradient`, for
    /// the rows of `V` and `ε′` in the workspace. Every gradient element is
    /// summed over the rows in row order, so the result does not depend on
    /// `threads`.
    func lossAndGradient(
        rows: Int, workspace w: TauWorkspace32, threads: Int, into gradient: UnsafeMutablePointer<Float>
    ) -> Float {
        forward(rows: rows, workspace: w, threads: threads)
        let d = dimension, layout = layout
        // L = (Σ_b Σ_k (ŷ − ε′)²)/(d·B); dŶ = (ŷ − ε′)·2/(d·B), in place of Ŷ.
        var total: Float = 0
        for b in 0..<rows {
            var rowSum: Float = 0
            for k in 0..<d {
                let r = w.outputs[b * d + k] - w.targets[b * d + k]
                rowSum += r * r
            }
            total += rowSum
        }
        guard rows > 0 else {
            gradient.update(repeating: 0, count: layout.count)
            return 0
        }
        let loss = total / Float(Double(d) * Double(rows))
        let scale = Float(2 / (Double(d) * Double(rows)))
        for i in 0 ..< rows * d { w.outputs[i] = (w.outputs[i] - w.targets[i]) * scale }

        parameters.withUnsafeBufferPointer { p in
            nonisolated(unsafe) let p = p.baseAddress!, gradient = gradient
            // dpre = (W₂ᵀ·dŶ) ⊙ SiLU′(pre), per row.
            let chunks = ADARSynthesizer.chunkCount(rows: rows, threads: threads)
            forEachChunk(chunks, threads: threads) { chunk in
                for b in chunkRange(chunk, of: chunks, count: rows) {
                    let dh = w.hiddenGradient + b * 4 * d, pre = w.preActivations + b * 4 * d
                    TauKernels32.transposedRow(w.outputs + b * d, p + layout.w2, outputs: d, inputs: 4 * d, into: dh)
                    for i in 0 ..< 4 * d { dh[i] *= TauKernels32.siluDerivative(pre[i]) }
                }
            }
            // dW₂ = dŶᵀ·H, db₂; dW₁ = dpreᵀ·V, db₁: chunks of output rows,
            // each element summed over b in row order.
            let outputChunks = Swift.max(1, Swift.min(5 * d / 4, threads <= 1 ? 1 : threads * 8))
            forEachChunk(outputChunks, threads: threads) { chunk in
                let range = chunkRange(chunk, of: outputChunks, count: 5 * d)
                let second = range.clamped(to: 0 ..< d), first = range.clamped(to: d ..< 5 * d)
                if !second.isEmpty {
                    TauKernels32.accumulateOuter(w.outputs, outputs: d, w.hidden, rows: rows, inputs: 4 * d,
                                                 outputRange: second, into: gradient + layout.w2, biasGrad: gradient + layout.b2)
                }
                if !first.isEmpty {
                    TauKernels32.accumulateOuter(w.hiddenGradient, outputs: 4 * d, w.inputs, rows: rows, inputs: 3 * d,
                                                 outputRange: (first.lowerBound - d) ..< (first.upperBound - d),
                                                 into: gradient + layout.w1, biasGrad: gradient + layout.b1)
                }
            }
        }
        return loss
    }
}
