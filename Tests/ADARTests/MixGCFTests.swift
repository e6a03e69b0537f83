import Foundation
import Testing
import ADARCore
import ADARData
import ADARTraining
import GSLOracle

/// MixGCF (Huang et al., KDD 2021) as a sampler: its rule on hand-made embeddings, the layer
/// propagation it needs, its gradient against finite differences, and learning.
@Suite("MixGCF: positive and hop mixing")
struct MixGCFTests {
    @Test("the kept candidate maximises ⟨u, α·i + (1 − α)·c_m⟩, the first on ties (hand-made)")
    func choiceOnHandMadeEmbeddings() {
        let user: [Float] = [1, 0], positive: [Float] = [0, 1]
        // Scores ⟨u, c_m⟩ = 0.2, 0.9, 0.9, −1: index 1 (first of the tie) whatever α < 1.
        let candidates: [[Float]] = [[0.2, 5], [0.9, -3], [0.9, 7], [-1, 0]]
        for alpha: Float in [0, 0.25, 0.9] {
            let pick = user.withUnsafeBufferPointer { u in
                positive.withUnsafeBufferPointer { p in
                    MixGCFRule.choose(user: u.baseAddress!, positive: p.baseAddress!, alpha: alpha, candidates: 4, dimension: 2) { m in
                        candidates[m].withUnsafeBufferPointer { $0.baseAddress! }
                    }
                }
            }
            #expect(pick == 1, "α = \(alpha)")
        }
    }

    @Test("α is uniform in [0, 1), one per layer, a pure function of (seed, epoch, row)")
    func alphas() {
        let a = MixGCFRule.alphas(seed: 7, epoch: 3, row: 11, layers: 3)
        #expect(a.count == 4)
        #expect(a == MixGCFRule.alphas(seed: 7, epoch: 3, row: 11, layers: 3))
        #expect(a != MixGCFRule.alphas(seed: 7, epoch: 3, row: 12, layers: 3))
        var values: [Float] = []
        for row in 0..<2000 { values += MixGCFRule.alphas(seed: 1, epoch: 1, row: UInt64(row), layers: 0) }
        #expect(values.allSatisfy { $0 >= 0 && $0 < 1 })
        // Kolmogorov–Smirnov against U(0, 1) at α = 0.001 (fixed seed; a stream stuck in half the
        // interval, a plausible bug, gives D ≈ 0.5 and p ≈ 0).
        let test = GSL.kolmogorovSmirnov(values.map(Double.init)) { $0 }
        #expect(test.pValue > 0.001, "KS p = \(test.pValue) (seed 1, epoch 1, rows 0..<2000)")
        // Power: the same check rejects values squeezed into [0, ½).
        #expect(GSL.kolmogorovSmirnov(values.map { Double($0) / 2 }) { $0 }.pValue < 1e-6)
    }

    @Test("MF + MixGCF: the batch loss is BPR against α·e_i + (1 − α)·e_m of the best candidate (independent recomputation)")
    func mfLossByHand() throws {
        let data = TrainingTests.tiny
        let configuration = try TrainingConfiguration(backbone: .mf, sampler: .mixgcf, poolSize: 3, dimension: 3, l2: 0, initialScale: 0.5)
        let trainer = try Trainer(data: data, configuration: configuration, seed: 8)
        let users: [Int32] = [0, 1, 2], items: [Int32] = [1, 2, 0]
        let candidates = trainer.drawCandidates(users: users, epoch: 1, rowOffset: 0, threads: 1)
        let step = try trainer.lossAndGradient(users: users, items: items, candidates: candidates, noiseStream: 1, threads: 1)
        let e = trainer.parameters.map(Double.init), d = 3
        func row(_ node: Int) -> [Double] { Array(e[node * d ..< node * d + d]) }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        var expected = 0.0
        for b in 0..<3 {
            let alpha = Double(MixGCFRule.alphas(seed: 8, epoch: 1, row: UInt64(b), layers: 0)[0])
            let u = row(Int(users[b])), i = row(3 + Int(items[b]))
            let mixed = (0..<3).map { m in zip(i, row(3 + Int(candidates[b * 3 + m]))).map { alpha * $0 + (1 - alpha) * $1 } }
            let scores = mixed.map { dot(u, $0) }
            let best = scores.firstIndex(of: scores.max()!)!
            #expect(step.choices[b] == Int32(best), "row \(b)")
            let margin = dot(u, i) - scores[best]
            expected += log1p(exp(-margin)) / 3
        }
        #expect(abs(step.loss - expected) < 1e-6, "loss \(step.loss) vs \(expected)")
    }

    @Test("LightGCN layers and their adjoint: ⟨Σ_l Â^l G_l, X⟩ = Σ_l ⟨G_l, Â^l X⟩, and the layer mean is smooth()")
    func layersAndAdjoint() throws {
        let data = try ImplicitFeedback.synthetic(users: 15, items: 25, interactionsPerUser: 6, dimension: 4, seed: 9)
        let graph = NormalizedGraph(data), d = 3, n = graph.nodeCount * d
        var rng = SeededGenerator(seed: 12)
        let x = (0..<n).map { _ in Float(rng.normal()) }
        let layers = graph.layers(x, dimension: d, layers: 3, threads: 2)
        #expect(layers.count == 4 && layers[0] == x)
        let mean = (0..<n).map { k -> Float in
            var sum = layers[0][k]
            for l in 1...3 { sum += layers[l][k] }
            return sum * 0.25
        }
        #expect(mean == graph.smooth(x, dimension: d, layers: 3, threads: 1))
        let g = (0..<4).map { _ in (0..<n).map { _ in Float(rng.normal()) } }
        let adjoint = graph.layerAdjoint(g, dimension: d, threads: 2)
        func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        let left = dot(adjoint, x), right = (0..<4).reduce(0) { $0 + dot(g[$1], layers[$1]) }
        #expect(abs(left - right) <= 1e-4 * max(1, abs(right)), "\(left) vs \(right)")
        // A Horner loop that forgets one propagation is not the adjoint.
        let wrong = graph.layerAdjoint(Array(g.prefix(3)), dimension: d, threads: 1)
        #expect(abs(dot(wrong, x) - right) > 1e-3)
    }

    @Test("MF + MixGCF gradient matches finite differences")
    func mfGradient() throws {
        try TrainingTests().expectGradientMatchesFiniteDifferences(
            TrainingConfiguration(backbone: .mf, sampler: .mixgcf, poolSize: 3, dimension: 3, l2: 0.05, initialScale: 0.5),
            data: TrainingTests.tiny, maximumSkipped: 3)
    }

    @Test("LightGCN + MixGCF gradient (positive and hop mixing through 3 layers) matches finite differences")
    func lightGCNGradient() throws {
        try TrainingTests().expectGradientMatchesFiniteDifferences(
            TrainingConfiguration(backbone: .lightgcn, sampler: .mixgcf, poolSize: 3, dimension: 3, l2: 0.05, initialScale: 0.5),
            data: TrainingTests.tiny, maximumSkipped: 3)
    }
}
