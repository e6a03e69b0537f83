import ADAR
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
        var total = input, current = input
        var next = [Float](repeating: 0, count: input.count)
        for _ in 0..<layers {
            propagate(current, into: &next, adding: &total, dimension: d, threads: threads)
            swap(&current, &next)
        }
        let scale = 1 / Float(layers + 1)
        return total.map { $0 * scale }
    }

    /// The layers `X, ÂX, …, Â^L X` of an `N × d` matrix; their mean is `smooth`'s result.
    public func layers(_ input: [Float], dimension d: Int, layers: Int, threads: Int) -> [[Float]] {
        precondition(input.count == nodeCount * d)
        var result = [input], discarded = [Float](repeating: 0, count: input.count)
        for _ in 0..<layers {
            var next = [Float](repeating: 0, count: input.count)
            propagate(result[result.count - 1], into: &next, adding: &discarded, dimension: d, threads: threads)
            result.append(next)
        }
        return result
    }

    /// `Σ_l Â^l G_l` for gradients `G_0 … G_L` of the layers: the gradient of the ego embeddings
    /// (`Â` is symmetric), by Horner's rule `G_0 + Â(G_1 + Â(… + Â·G_L))`, L propagations.
    public func layerAdjoint(_ gradients: [[Float]], dimension d: Int, threads: Int) -> [Float] {
        var sum = gradients[gradients.count - 1]
        var product = [Float](repeating: 0, count: sum.count)
        for l in stride(from: gradients.count - 2, through: 0, by: -1) {
            var accumulated = gradients[l]
            propagate(sum, into: &product, adding: &accumulated, dimension: d, threads: threads)
            sum = accumulated
        }
        return sum
    }

    /// `output = Â·input` and `total += output`, parallel over rows.
    func propagate(_ input: [Float], into output: inout [Float], adding total: inout [Float], dimension d: Int, threads: Int) {
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                total.withUnsafeMutableBufferPointer { sum in
                    rowStart.withUnsafeBufferPointer { start in
                        columns.withUnsafeBufferPointer { column in
                            weights.withUnsafeBufferPointer { weight in
                                nonisolated(unsafe) let x = x.baseAddress!, y = y.baseAddress!, sum = sum.baseAddress!
                                nonisolated(unsafe) let start = start, column = column, weight = weight
                                Parallel.forEachChunk(count: nodeCount, threads: threads) { rows in
                                    for r in rows {
                                        Self.gatherRow(edges: start[r] ..< start[r + 1], columns: column.baseAddress!,
                                                       weights: weight.baseAddress!, input: x, dimension: d,
                                                       output: y + r * d, total: sum + r * d)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One row of `Â·X`: `output = Σ_e w_e·x_{c_e}` over the row's edges, and `total += output`.
    /// Blocks of 32 components stay in four registers across all the edges (one pass of
    /// edges per block), instead of a load and a store of the row per edge. Each component
    /// is summed from 0 in edge order, exactly as `y += w·x` edge by edge sums it, so the
    /// result is bit-identical to the straightforward loop. The loads and stores are written
    /// here rather than through `Kernels32` because the compiler did not inline those across
    /// the module boundary: a call per 8 floats cost half of a LightGCN epoch.
    @inline(__always)
    static func gatherRow(
        edges: Range<Int>, columns: UnsafePointer<Int32>, weights: UnsafePointer<Float>, input x: UnsafePointer<Float>,
        dimension d: Int, output: UnsafeMutablePointer<Float>, total: UnsafeMutablePointer<Float>
    ) {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        }
        @inline(__always) func store(_ block: SIMD8<Float>, at offset: Int) {
            UnsafeMutableRawPointer(output + offset).storeBytes(of: block, as: SIMD8<Float>.self)
            let sum = load(total + offset) + block
            UnsafeMutableRawPointer(total + offset).storeBytes(of: sum, as: SIMD8<Float>.self)
        }
        var k = 0
        while k + 32 <= d {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            for e in edges {
                let w = SIMD8<Float>(repeating: weights[e]), source = x + Int(columns[e]) * d + k
                a0 += w * load(source)
                a1 += w * load(source + 8)
                a2 += w * load(source + 16)
                a3 += w * load(source + 24)
            }
            store(a0, at: k)
            store(a1, at: k + 8)
            store(a2, at: k + 16)
            store(a3, at: k + 24)
            k += 32
        }
        while k < d {
            var value: Float = 0
            for e in edges { value += weights[e] * x[Int(columns[e]) * d + k] }
            output[k] = value
            total[k] += value
            k += 1
        }
    }
}
