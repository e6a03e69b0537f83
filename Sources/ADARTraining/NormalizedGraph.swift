@_spi(Kernels) import ADAR
import ADARData

/// The symmetric normalised adjacency `Â = D^{-1/2} A D^{-1/2}` of the
/// user–item bipartite graph built from the *training* interactions, in CSR
/// form. Nodes are users `0 ..< U` then items `U ..< U + I`; an isolated node
/// has an empty row (its degree would divide by zero, and it has no edge to
/// weight). Each row's neighbours are ascending, so sums run in a fixed order.
public struct NormalizedGraph: Sendable {
    public let nodeCount: Int
    /// Row `r`'s entries are `rowStart[r] ..< rowStart[r + 1]`.
    public let rowStart: [Int]
    public let columns: [Int32]
    /// `1/√(deg_r·deg_c)`.
    public let weights: [Float]

    public init(_ data: ImplicitFeedback) {
        let users = data.userCount
        nodeCount = users + data.itemCount
        var itemUsers = [[Int32]](repeating: [], count: data.itemCount)
        for (user, items) in data.train.enumerated() {
            for item in items { itemUsers[Int(item)].append(Int32(user)) }
        }
        let degree = data.train.map(\.count) + itemUsers.map(\.count)
        var rowStart = [0], columns = [Int32](), weights = [Float]()
        columns.reserveCapacity(2 * data.trainInteractions)
        weights.reserveCapacity(2 * data.trainInteractions)
        for node in 0..<nodeCount {
            let neighbours = node < users ? data.train[node].map { $0 + Int32(users) } : itemUsers[node - users]
            for neighbour in neighbours {
                columns.append(neighbour)
                weights.append(Float(1 / (Double(degree[node]) * Double(degree[Int(neighbour)])).squareRoot()))
            }
            rowStart.append(columns.count)
        }
        self.rowStart = rowStart
        self.columns = columns
        self.weights = weights
    }

    /// LightGCN's smoothing `(1/(L+1))·Σ_{l=0…L} Â^l X` of an `N × d` matrix.
    /// Its adjoint is itself (`Â` is symmetric), so the same call maps the
    /// gradient of the final embeddings to the gradient of the ego embeddings.
    public func smooth(_ input: [Float], dimension d: Int, layers: Int, threads: Int) -> [Float] {
        precondition(input.count == nodeCount * d)
        var total = input
        var current = Self.uninitialized(input.count), next = Self.uninitialized(input.count)
        total.withUnsafeMutableBufferPointer { total in
            input.withUnsafeBufferPointer { input in
                // Each Â^l X is the next layer's input, except the last one: that is only added to the total.
                for layer in 0..<layers {
                    current.withUnsafeBufferPointer { current in
                        next.withUnsafeMutableBufferPointer { next in
                            propagate(layer == 0 ? input.baseAddress! : current.baseAddress!, into: layer == layers - 1 ? nil : next.baseAddress!,
                                      adding: total.baseAddress!, dimension: d, threads: threads)
                        }
                    }
                    swap(&current, &next)
                }
            }
            let scale = 1 / Float(layers + 1)
            for k in total.indices { total[k] *= scale }
        }
        return total
    }

    /// The layers `X, ÂX, …, Â^L X` of an `N × d` matrix; their mean is `smooth`'s result.
    public func layers(_ input: [Float], dimension d: Int, layers: Int, threads: Int) -> [[Float]] {
        precondition(input.count == nodeCount * d)
        var result = [input]
        for _ in 0..<layers {
            var next = Self.uninitialized(input.count)
            result[result.count - 1].withUnsafeBufferPointer { current in
                next.withUnsafeMutableBufferPointer { next in
                    propagate(current.baseAddress!, into: next.baseAddress!, adding: nil, dimension: d, threads: threads)
                }
            }
            result.append(next)
        }
        return result
    }

    /// `Σ_l Â^l G_l` for gradients `G_0 … G_L` of the layers: the gradient of the ego embeddings
    /// (`Â` is symmetric), by Horner's rule `G_0 + Â(G_1 + Â(… + Â·G_L))`, L propagations.
    public func layerAdjoint(_ gradients: [[Float]], dimension d: Int, threads: Int) -> [Float] {
        var sum = gradients[gradients.count - 1]
        for l in stride(from: gradients.count - 2, through: 0, by: -1) {
            var accumulated = gradients[l]
            sum.withUnsafeBufferPointer { sum in
                accumulated.withUnsafeMutableBufferPointer { accumulated in
                    propagate(sum.baseAddress!, into: nil, adding: accumulated.baseAddress!, dimension: d, threads: threads)
                }
            }
            sum = accumulated
        }
        return sum
    }

    /// An array of `count` values every one of which `propagate` writes before any is read.
    private static func uninitialized(_ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// `Â·input`, written to `output` and/or added to `total` (either may be nil), parallel over rows.
    func propagate(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>?, adding total: UnsafeMutablePointer<Float>?,
        dimension d: Int, threads: Int
    ) {
        rowStart.withUnsafeBufferPointer { start in
            columns.withUnsafeBufferPointer { column in
                weights.withUnsafeBufferPointer { weight in
                    nonisolated(unsafe) let input = input, output = output, total = total
                    nonisolated(unsafe) let start = start, column = column.baseAddress!, weight = weight.baseAddress!
                    Parallel.forEachChunk(count: nodeCount, threads: threads) { rows in
                        for r in rows {
                            Self.gatherRow(edges: start[r] ..< start[r + 1], columns: column, weights: weight, input: input, dimension: d,
                                           output: output.map { $0 + r * d }, total: total.map { $0 + r * d })
                        }
                    }
                }
            }
        }
    }

    /// One row of `Â·X`: `Σ_e w_e·x_{c_e}` over the row's edges, stored to `output` and/or added to `total`.
    /// Blocks of 64 components stay in eight registers across all the edges (one pass over the
    /// edges per block: d = 64 reads each edge's column and weight once), then blocks of 8, then
    /// single components. Each component is summed from 0 in edge order, exactly as `y += w·x`
    /// edge by edge sums it, so the result is bit-identical to the straightforward loop.
    @inline(__always)
    static func gatherRow(
        edges: Range<Int>, columns: UnsafePointer<Int32>, weights: UnsafePointer<Float>, input x: UnsafePointer<Float>,
        dimension d: Int, output: UnsafeMutablePointer<Float>?, total: UnsafeMutablePointer<Float>?
    ) {
        @inline(__always) func store(_ block: SIMD8<Float>, at offset: Int) {
            if let output { Kernels32.store8(block, output + offset) }
            if let total { Kernels32.store8(Kernels32.load8(total + offset) + block, total + offset) }
        }
        var k = 0
        while k + 64 <= d {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
            for e in edges {
                let w = SIMD8<Float>(repeating: weights[e]), source = x + Int(columns[e]) * d + k
                a0 += w * Kernels32.load8(source)
                a1 += w * Kernels32.load8(source + 8)
                a2 += w * Kernels32.load8(source + 16)
                a3 += w * Kernels32.load8(source + 24)
                a4 += w * Kernels32.load8(source + 32)
                a5 += w * Kernels32.load8(source + 40)
                a6 += w * Kernels32.load8(source + 48)
                a7 += w * Kernels32.load8(source + 56)
            }
            store(a0, at: k)
            store(a1, at: k + 8)
            store(a2, at: k + 16)
            store(a3, at: k + 24)
            store(a4, at: k + 32)
            store(a5, at: k + 40)
            store(a6, at: k + 48)
            store(a7, at: k + 56)
            k += 64
        }
        while k + 8 <= d {
            var a = SIMD8<Float>()
            for e in edges { a += SIMD8<Float>(repeating: weights[e]) * Kernels32.load8(x + Int(columns[e]) * d + k) }
            store(a, at: k)
            k += 8
        }
        while k < d {
            var value: Float = 0
            for e in edges { value += weights[e] * x[Int(columns[e]) * d + k] }
            if let output { output[k] = value }
            if let total { total[k] += value }
            k += 1
        }
    }
}
