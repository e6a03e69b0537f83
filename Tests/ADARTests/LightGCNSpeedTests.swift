import Foundation
import Testing
import ADARCore
import ADARData
import ADARTraining

/// Issue 9: LightGCN's propagation kernel (blocks of 64 and 8 components in registers, outputs
/// written only where they are read) computes exactly what the straightforward loops compute:
/// `y += w·x` edge by edge in CSR order, each layer kept, the layers summed in order and scaled
/// once, Horner's rule for the adjoint. Equal bit patterns, for every block path of the kernel
/// (d = 1 … 130) and both thread counts; and the comparison is shown to catch a kernel that sums
/// the same terms in another order.
///
/// Fixed seed; another one: `ADAR_SEED=<seed> swift test --disable-xctest --filter LightGCNSpeedTests`.
@Suite("LightGCN's fast propagation is the straightforward one, bit for bit")
struct LightGCNSpeedTests {
    static let seed = ProcessInfo.processInfo.environment["ADAR_SEED"].flatMap(UInt64.init) ?? 2609
    static var replay: String { "seed \(seed); replay: ADAR_SEED=\(seed) swift test --disable-xctest --filter LightGCNSpeedTests" }

    /// 40 users and 70 items, so some items have no training interaction (empty CSR rows).
    static func graph() throws -> NormalizedGraph {
        NormalizedGraph(try ImplicitFeedback.synthetic(users: 40, items: 70, interactionsPerUser: 9, dimension: 4, seed: seed))
    }

    static func randomMatrix(_ graph: NormalizedGraph, dimension d: Int, stream: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed &+ stream)
        return (0 ..< graph.nodeCount * d).map { _ in Float(rng.normal()) }
    }

    /// `Â·x`, each component summed from 0 over the row's edges in `order` (CSR order unless given).
    static func straightforwardPropagation(
        _ graph: NormalizedGraph, _ x: [Float], dimension d: Int, order: (Range<Int>) -> [Int] = { Array($0) }
    ) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for r in 0..<graph.nodeCount {
            for e in order(graph.rowStart[r] ..< graph.rowStart[r + 1]) {
                for k in 0..<d { y[r * d + k] += graph.weights[e] * x[Int(graph.columns[e]) * d + k] }
            }
        }
        return y
    }

    static func straightforwardLayers(_ graph: NormalizedGraph, _ x: [Float], dimension d: Int, layers: Int) -> [[Float]] {
        var result = [x]
        for _ in 0..<layers { result.append(straightforwardPropagation(graph, result[result.count - 1], dimension: d)) }
        return result
    }

    static func straightforwardSmooth(_ graph: NormalizedGraph, _ x: [Float], dimension d: Int, layers: Int) -> [Float] {
        let all = straightforwardLayers(graph, x, dimension: d, layers: layers)
        var total = all[0]
        for layer in all.dropFirst() {
            for k in total.indices { total[k] += layer[k] }
        }
        let scale = 1 / Float(layers + 1)
        return total.map { $0 * scale }
    }

    static func straightforwardAdjoint(_ graph: NormalizedGraph, _ gradients: [[Float]], dimension d: Int) -> [Float] {
        var sum = gradients[gradients.count - 1]
        for l in stride(from: gradients.count - 2, through: 0, by: -1) {
            let product = straightforwardPropagation(graph, sum, dimension: d)
            sum = zip(gradients[l], product).map { $0 + $1 }
        }
        return sum
    }

    /// Components whose bit patterns differ (so −0 against +0 and NaN payloads count).
    static func mismatches(_ a: [Float], _ b: [Float]) -> Int {
        precondition(a.count == b.count)
        return zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
    }

    @Test("smooth, layers and layerAdjoint equal the straightforward loops bit for bit",
          arguments: [1, 7, 8, 9, 31, 63, 64, 65, 72, 130])
    func propagationIsBitIdentical(dimension d: Int) throws {
        let graph = try Self.graph()
        let x = Self.randomMatrix(graph, dimension: d, stream: 1)
        let gradients = (0...3).map { Self.randomMatrix(graph, dimension: d, stream: 2 + UInt64($0)) }
        let expectedLayers = Self.straightforwardLayers(graph, x, dimension: d, layers: 3)
        let expectedAdjoint = Self.straightforwardAdjoint(graph, gradients, dimension: d)
        for threads in [1, 2] {
            for layers in [0, 1, 3] {
                let smoothed = graph.smooth(x, dimension: d, layers: layers, threads: threads)
                let wrong = Self.mismatches(smoothed, Self.straightforwardSmooth(graph, x, dimension: d, layers: layers))
                #expect(wrong == 0, "smooth, d = \(d), \(layers) layers, \(threads) thread(s): \(wrong) components differ; \(Self.replay)")
            }
            let layers = graph.layers(x, dimension: d, layers: 3, threads: threads)
            #expect(layers.count == 4)
            for (l, (layer, expected)) in zip(layers, expectedLayers).enumerated() {
                let wrong = Self.mismatches(layer, expected)
                #expect(wrong == 0, "layer \(l), d = \(d), \(threads) thread(s): \(wrong) components differ; \(Self.replay)")
            }
            let wrong = Self.mismatches(graph.layerAdjoint(gradients, dimension: d, threads: threads), expectedAdjoint)
            #expect(wrong == 0, "layerAdjoint, d = \(d), \(threads) thread(s): \(wrong) components differ; \(Self.replay)")
        }
    }

    @Test("The bitwise comparison catches the same sums taken in another edge order (a wrong kernel)")
    func reorderedSumIsCaught() throws {
        let graph = try Self.graph(), d = 64
        let x = Self.randomMatrix(graph, dimension: d, stream: 1)
        // What a kernel that walked each row's edges backwards would compute: the same terms, other roundings.
        let reversed = Self.straightforwardPropagation(graph, x, dimension: d) { $0.reversed() }
        let layers = graph.layers(x, dimension: d, layers: 1, threads: 1)
        #expect(Self.mismatches(layers[1], reversed) > 0, "\(Self.replay)")
        // And one that dropped a row's last edge.
        let dropped = Self.straightforwardPropagation(graph, x, dimension: d) { Array($0.dropLast()) }
        #expect(Self.mismatches(layers[1], dropped) > 0, "\(Self.replay)")
    }
}
