import ADARCore

/// A fully connected layer `y = x·Wᵀ + b` on `rows` rows at once (PyTorch's
/// `Linear`, and `Conv1d` with kernel size 1): `W` is `outputs × inputs`,
/// row-major `[out][in]`, as PyTorch stores it.
///
/// Forward: one GEMM per fixed row chunk (parallel). Backward: `dW = dYᵀ·X`
/// and `db = Σ_rows dY` as single products over all rows (their sums run
/// over every row, so no chunking), `dX = dY·W` per row chunk.
/// Cost: `2·rows·inputs·outputs` flops forward, twice that backward.
public struct Linear: Sendable {
    public let inputs: Int
    public let outputs: Int
    /// Offsets of `W` and `b` in the model's flat parameter array.
    public let weight: Int
    public let bias: Int

    public init(inputs: Int, outputs: Int, at offset: Int) {
        self.inputs = inputs
        self.outputs = outputs
        weight = offset
        bias = offset + inputs * outputs
    }

    public var parameterCount: Int { outputs * (inputs + 1) }

    /// `y = x·Wᵀ + b` for `rows` rows of `x` (`rows × inputs`) into `y` (`rows × outputs`).
    @_specialize(exported: true, where S == Float)
    package func forward<S: LayerScalar>(
        _ x: UnsafePointer<S>, rows: Int, parameters p: UnsafePointer<S>, into y: UnsafeMutablePointer<S>, threads: Int
    ) {
        let (n, k, w, b) = (outputs, inputs, p + weight, p + bias)
        nonisolated(unsafe) let (x, y, wp, bp) = (x, y, w, b)
        let chunks = LayerChunks.count(rows)
        forEachChunk(chunks, threads: threads) { chunk in
            let range = chunkRange(chunk, of: chunks, count: rows)
            guard !range.isEmpty else { return }
            for r in range { (y + r * n).update(from: bp, count: n) }
            GEMM.product(transposeB: true, m: range.count, n: n, k: k, x + range.lowerBound * k, lda: k, wp, ldb: k,
                         beta: 1, y + range.lowerBound * n, ldc: n)
        }
    }

    /// Given `dY` (`rows × outputs`): `dW`, `db` into the gradient array
    /// (overwritten) and, when `inputGradient` is given, `dX = dY·W` into it
    /// (overwritten, or added when `accumulate`).
    @_specialize(exported: true, where S == Float)
    package func backward<S: LayerScalar>(
        _ x: UnsafePointer<S>, outputGradient dy: UnsafePointer<S>, rows: Int, parameters p: UnsafePointer<S>,
        gradient g: UnsafeMutablePointer<S>, inputGradient dx: UnsafeMutablePointer<S>?, accumulate: Bool = false,
        threads: Int
    ) {
        let (n, k) = (outputs, inputs)
        GEMM.product(transposeA: true, m: n, n: k, k: rows, dy, lda: n, x, ldb: k, g + weight, ldc: k)
        columnSums(dy, rows: rows, columns: n, into: g + bias)
        guard let inputGradient = dx else { return }
        nonisolated(unsafe) let (dy, dx, w) = (dy, inputGradient, p + weight)
        let chunks = LayerChunks.count(rows)
        forEachChunk(chunks, threads: threads) { chunk in
            let range = chunkRange(chunk, of: chunks, count: rows)
            guard !range.isEmpty else { return }
            GEMM.product(m: range.count, n: k, k: n, dy + range.lowerBound * n, lda: n, w, ldb: k,
                         beta: accumulate ? 1 : 0, dx + range.lowerBound * k, ldc: k)
        }
    }
}

/// `out[c] = Σ_r m[r][c]`, summed over `r = 0, 1, …` in order.
@_specialize(where S == Float)
func columnSums<S: LayerScalar>(_ m: UnsafePointer<S>, rows: Int, columns: Int, into out: UnsafeMutablePointer<S>) {
    out.update(repeating: 0, count: columns)
    for r in 0..<rows {
        let row = m + r * columns
        for c in 0..<columns { out[c] += row[c] }
    }
}
