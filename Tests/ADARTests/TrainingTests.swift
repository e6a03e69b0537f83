import Foundation
import Testing
import ADARCore
import ADARData
import ADARTraining
import ADAR
import GSLOracle

/// Training: samplers, LightGCN propagation, gradients, learning, determinism.
/// Synthetic or hand-made data only: no network.
@Suite("Training: samplers, LightGCN, gradients, learning, determinism")
struct TrainingTests {
    /// 3 users, 4 items; user 2's only item is 0 and item 3 has one user.
    static let tiny = ImplicitFeedback(name: "tiny", userCount: 3, itemCount: 4,
                                       train: [[0, 1], [1, 2, 3], [0]], test: [[2], [0], [3]])

    static func synthetic() throws -> ImplicitFeedback {
        try .synthetic(users: 120, items: 200, interactionsPerUser: 20, dimension: 8, seed: 5)
    }

    // MARK: Samplers on hand-made scores

    @Test("DNS picks the highest score, the first on ties")
    func dnsPicksTheMaximum() {
        let cases: [([Float], Int)] = [([0.1, 0.5, -2, 0.3], 1), ([3, 1, 2], 0), ([-1, -0.5, -0.5], 1), ([0.2], 0)]
        for (scores, expected) in cases {
            #expect(scores.withUnsafeBufferPointer { NegativeRule.dns($0) } == expected, "\(scores)")
        }
    }

    @Test("AHNS picks the argmin of |s_uj − β(s_ui + α)^(p+1)|, by brute force")
    func ahnsPicksTheArgmin() {
        var rng = SeededGenerator(seed: 3)
        let parameters = [AHNSParameters(), AHNSParameters(p: -1.5, alpha: 0.5, beta: 0.3), AHNSParameters(p: 0.5, alpha: 2, beta: 1)]
        for trial in 0..<300 {
            let p = parameters[trial % parameters.count]
            let positive = Float(rng.normal())
            let scores = (0..<8).map { _ in Float(rng.normal()) }
            let base = Double(positive) + p.alpha
            guard base > 0 else { continue }
            let target = p.beta * pow(base, p.p + 1)
            let distances = scores.map { abs(Double($0) - target) }
            let expected = distances.firstIndex(of: distances.min()!)!
            #expect(scores.withUnsafeBufferPointer { NegativeRule.ahns(positiveScore: positive, $0, p) } == expected)
        }
        // Defaults p = −2, α = 1, β = 0.1: s_ui = 0 gives the target 0.1.
        let scores: [Float] = [0.5, 0.12, -0.3, 0.05]
        #expect(NegativeRule.ahnsTarget(positiveScore: 0, AHNSParameters()) == 0.1)
        #expect(scores.withUnsafeBufferPointer { NegativeRule.ahns(positiveScore: 0, $0, AHNSParameters()) } == 1)
    }

    @Test("AHNS with s_ui + α ≤ 0 and p = −2 takes the limit +∞: the hardest candidate")
    func ahnsUndefinedPowerPicksTheHardest() {
        let scores: [Float] = [0.5, 2, -0.3, 1.9]
        for positive: Float in [-1, -1.5, -30] {
            #expect(NegativeRule.ahnsTarget(positiveScore: positive, AHNSParameters()) == .infinity)
            #expect(scores.withUnsafeBufferPointer { NegativeRule.ahns(positiveScore: positive, $0, AHNSParameters()) } == 1)
        }
        // Just above the boundary the target is huge and finite, and picks the same candidate.
        #expect(scores.withUnsafeBufferPointer { NegativeRule.ahns(positiveScore: -0.999, $0, AHNSParameters()) } == 1)
    }

    @Test("uniform negatives are never training items and cover every other item")
    func uniformNeverPicksATrainingItem() throws {
        let train: [[Int32]] = [[0, 1, 2, 3, 5, 7, 8], [4], [0, 9]]
        let sampler = try UniformNegatives(train: train, itemCount: 10)
        var rng = SeededGenerator(seed: 1)
        for user in train.indices {
            var seen = Set<Int32>()
            for _ in 0..<2000 {
                let item = sampler.draw(for: user, using: &rng)
                #expect(!train[user].contains(item) && item >= 0 && item < 10)
                seen.insert(item)
            }
            #expect(seen == Set(0..<10).subtracting(train[user]))
        }
        #expect(throws: TrainingError.noNegativeItems(user: 1)) {
            try UniformNegatives(train: [[0], [0, 1]], itemCount: 2)
        }
    }

    @Test("the trainer's candidates are never training items, for every sampler")
    func trainerCandidatesAreNegatives() throws {
        let data = try Self.synthetic()
        for kind in SamplerKind.allCases {
            let trainer = try Trainer(data: data, configuration: TrainingConfiguration(sampler: kind, poolSize: 5, dimension: 8), seed: 2)
            let users = (0..<500).map { Int32($0 % data.userCount) }
            let candidates = trainer.drawCandidates(users: users, epoch: 1, rowOffset: 0, threads: 2)
            #expect(candidates.count == users.count * (kind == .uniform ? 1 : 5))
            let perRow = candidates.count / users.count
            for (k, item) in candidates.enumerated() {
                #expect(!data.train[Int(users[k / perRow])].contains(item))
            }
        }
    }

    // MARK: LightGCN

    /// Â by its definition, dense and in binary64.
    static func denseNormalizedAdjacency(_ data: ImplicitFeedback) -> [[Double]] {
        let n = data.userCount + data.itemCount
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for (u, items) in data.train.enumerated() {
            for i in items {
                a[u][data.userCount + Int(i)] = 1
                a[data.userCount + Int(i)][u] = 1
            }
        }
        let degree = a.map { $0.reduce(0, +) }
        return (0..<n).map { r in (0..<n).map { c in a[r][c] == 0 ? 0 : a[r][c] / (degree[r] * degree[c]).squareRoot() } }
    }

    @Test("LightGCN's register-blocked propagation is bit-identical to summing y += w·x edge by edge",
          arguments: [1, 8, 31, 32, 33, 64, 70])
    func blockedPropagationIsBitIdentical(dimension d: Int) throws {
        let data = try ImplicitFeedback.synthetic(users: 40, items: 60, interactionsPerUser: 9, dimension: 4, seed: 3)
        let graph = NormalizedGraph(data)
        var rng = SeededGenerator(seed: 11)
        let x = (0 ..< graph.nodeCount * d).map { _ in Float(rng.normal()) }
        // One layer: (x + Âx)/2, where halving is exact.
        var expected = x
        for r in 0..<graph.nodeCount {
            for k in 0..<d {
                var value: Float = 0
                for e in graph.rowStart[r] ..< graph.rowStart[r + 1] {
                    value += graph.weights[e] * x[Int(graph.columns[e]) * d + k]
                }
                expected[r * d + k] = (expected[r * d + k] + value) * 0.5
            }
        }
        for threads in [1, 2] {
            let smoothed = graph.smooth(x, dimension: d, layers: 1, threads: threads)
            let mismatches = zip(smoothed, expected).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(mismatches == 0, "d = \(d), \(threads) thread(s): \(mismatches) components differ")
        }
    }

    @Test("LightGCN's Â = D^{-1/2} A D^{-1/2} and its 3-layer mean agree with dense brute force")
    func lightGCNPropagationAgreesWithDense() throws {
        for data in [Self.tiny, try .synthetic(users: 15, items: 25, interactionsPerUser: 6, dimension: 4, seed: 9)] {
            let graph = NormalizedGraph(data)
            let dense = Self.denseNormalizedAdjacency(data)
            let n = graph.nodeCount, d = 3
            for r in 0..<n {
                var row = [Double](repeating: 0, count: n)
                for e in graph.rowStart[r] ..< graph.rowStart[r + 1] { row[Int(graph.columns[e])] = Double(graph.weights[e]) }
                for c in 0..<n {
                    // Each weight is one binary64 value rounded to binary32: half an ulp.
                    #expect(abs(row[c] - dense[r][c]) <= 0x1p-24 * dense[r][c], "Â[\(r)][\(c)]")
                }
            }
            var rng = SeededGenerator(seed: 4)
            let x = (0 ..< n * d).map { _ in rng.normal() }
            var layer = x, total = x
            for _ in 0..<3 {
                layer = (0 ..< n * d).map { k in (0..<n).reduce(0) { $0 + dense[k / d][$1] * layer[$1 * d + k % d] } }
                total = zip(total, layer).map(+)
            }
            let expected = total.map { $0 / 4 }
            let smoothed = graph.smooth(x.map(Float.init), dimension: d, layers: 3, threads: 2)
            // |Â| has row sums ≤ 1 in the 1-norm of √(deg) weights, |x| ≲ 4: binary32 sums of
            // at most ~30 terms over 3 layers stay far below 1e-5.
            let worst = zip(smoothed, expected).map { abs(Double($0) - $1) }.max()!
            #expect(worst < 1e-5, "max |error| \(worst)")
        }
    }

    // MARK: Gradients against finite differences

    /// Checks `lossAndGradient`'s gradient against GSL's central difference on every parameter.
    /// ADAR's loss is piecewise smooth: its timesteps and statuses jump where `ᾱ*` crosses a table
    /// entry. Parameters whose difference stencil (x ± h, GSL's widest) changes any row's timestep
    /// or status are skipped and counted; a coarse schedule keeps them rare.
    func expectGradientMatchesFiniteDifferences(
        _ configuration: TrainingConfiguration, data: ImplicitFeedback, maximumSkipped: Int = 0,
        generator: SynthesisGenerator32 = .forward
    ) throws {
        let trainer = try Trainer(data: data, configuration: configuration, seed: 8)
        let users: [Int32] = [0, 1, 1, 2, 0, 2], items: [Int32] = [0, 2, 3, 0, 1, 0]
        let candidates = trainer.drawCandidates(users: users, epoch: 1, rowOffset: 0, threads: 1)
        func evaluate() throws -> BatchGradient {
            try trainer.lossAndGradient(users: users, items: items, candidates: candidates, generator: generator, threads: 1)
        }
        let base = try evaluate()
        if configuration.sampler == .adar {
            // Both branches of S7 are exercised: an S6 row and a fallback row.
            #expect(base.statuses.contains { !$0.isFallback } && base.statuses.contains { $0.isFallback }, "\(base.statuses)")
        }
        let original = trainer.parameters
        let step = 1e-2
        var worst = 0.0, worstIndex = 0, skipped = 0
        for k in original.indices {
            let stable = try [-step, step].allSatisfy { offset in
                trainer.parameters[k] = Float(Double(original[k]) + offset)
                defer { trainer.parameters = original }
                let moved = try evaluate()
                return moved.statuses == base.statuses && moved.timesteps == base.timesteps && moved.choices == base.choices
            }
            guard stable else { skipped += 1; continue }
            let numeric = try GSL.centralDerivative(at: Double(original[k]), step: step) { value in
                trainer.parameters[k] = Float(value)
                defer { trainer.parameters = original }
                return (try? evaluate().loss) ?? .nan
            }
            let error = abs(numeric.value - Double(base.gradient[k]))
            if error > worst { worst = error; worstIndex = k }
        }
        // The loss (≈ 1) is summed in binary32: roundoff ≈ 1e-7 per evaluation, divided by GSL's
        // final step (≥ 1e-3 here) gives ≲ 1e-4 in the difference; the analytic gradient is exact to ~1e-6.
        #expect(worst < 2e-4, "worst |∂L/∂θ − FD| = \(worst) at parameter \(worstIndex)")
        #expect(skipped <= maximumSkipped, "\(skipped) of \(original.count) parameters straddle a timestep jump")
    }

    @Test("MF BPR + L2 gradient matches finite differences")
    func mfGradient() throws {
        try expectGradientMatchesFiniteDifferences(
            TrainingConfiguration(backbone: .mf, sampler: .uniform, dimension: 3, l2: 0.05, initialScale: 0.5), data: Self.tiny)
    }

    @Test("LightGCN BPR + L2 gradient (through 3 layers of propagation) matches finite differences")
    func lightGCNGradient() throws {
        try expectGradientMatchesFiniteDifferences(
            TrainingConfiguration(backbone: .lightgcn, sampler: .uniform, dimension: 3, l2: 0.05, initialScale: 0.5), data: Self.tiny)
    }

    @Test("LightGCN + ADAR (gradient through x⁻, hardest fallback) matches finite differences")
    func lightGCNADARGradient() throws {
        let adar = try ADARConfiguration(rho: 0.5, sigma: 0.3, fallback: .hardest, augmentationWeight: 0.7, gradientFlow: .through)
        // T = 2: widely spaced ᾱ_t, so the timesteps rarely move under the difference steps.
        let schedule = try NoiseSchedule(.custom(betas: [0.3, 0.6]), steps: 2)
        try expectGradientMatchesFiniteDifferences(
            TrainingConfiguration(backbone: .lightgcn, sampler: .adar, poolSize: 2, adar: adar, schedule: schedule,
                                  dimension: 3, l2: 0.05, initialScale: 0.5), data: Self.tiny, maximumSkipped: 5)
    }

    @Test("LightGCN + ADAR, denoised generator under through (∂x⁻/∂x_0 = I, S9) matches finite differences")
    func lightGCNDenoisedThroughGradient() throws {
        let adar = try ADARConfiguration(rho: 0.5, sigma: 0.3, fallback: .hardest, augmentationWeight: 0.7, gradientFlow: .through)
        let schedule = try NoiseSchedule(.custom(betas: [0.3, 0.6]), steps: 2)
        // τ with W₁ = 0 predicts the same ε̂ = W₂·SiLU(b₁) + b₂ ≠ 0 for every input, so S9's
        // convention (t, ε, ε̂ constant) is the true derivative and differences can check it.
        let d = 3
        var rng = SeededGenerator(seed: 17)
        var parameters = [Float](repeating: 0, count: 16 * d * d + 5 * d)
        for k in 12 * d * d ..< parameters.count { parameters[k] = Float(rng.normal()) }
        let tau = try TauNetwork32(dimension: d, steps: 2, parameters: parameters)
        let configuration = try TrainingConfiguration(
            backbone: .lightgcn, sampler: .adar, poolSize: 2, adar: adar, schedule: schedule, dimension: d, l2: 0.05, initialScale: 0.5)
        try expectGradientMatchesFiniteDifferences(configuration, data: Self.tiny, maximumSkipped: 5, generator: .denoised(tau, rMax: 10))
        // The rows are denoised, and ∂L/∂e_i differs from forward's √ᾱ_t flow (the check can tell them apart).
        let trainer = try Trainer(data: Self.tiny, configuration: configuration, seed: 8)
        let users: [Int32] = [0, 1, 1, 2, 0, 2], items: [Int32] = [0, 2, 3, 0, 1, 0]
        let candidates = trainer.drawCandidates(users: users, epoch: 1, rowOffset: 0, threads: 1)
        let denoised = try trainer.lossAndGradient(users: users, items: items, candidates: candidates,
                                                   generator: .denoised(tau, rMax: 10), threads: 1)
        #expect((denoised.synthesis?.denoisedRows ?? 0) > 0)
        let detached = try Trainer(data: Self.tiny, configuration: try TrainingConfiguration(
            backbone: .lightgcn, sampler: .adar, poolSize: 2, adar: try ADARConfiguration(
                rho: 0.5, sigma: 0.3, fallback: .hardest, augmentationWeight: 0.7, gradientFlow: .detach),
            schedule: schedule, dimension: d, l2: 0.05, initialScale: 0.5), seed: 8)
        let withoutFlow = try detached.lossAndGradient(users: users, items: items, candidates: candidates,
                                                       generator: .denoised(tau, rMax: 10), threads: 1)
        #expect(withoutFlow.gradient != denoised.gradient, "through moves the gradient")
    }

    // MARK: Learning and determinism

    @Test("training improves Recall@20 over the untrained model, for every sampler and both backbones")
    func trainingImprovesRecall() throws {
        let data = try Self.synthetic()
        let cases = SamplerKind.allCases.map { (Backbone.mf, $0) } + [(.lightgcn, .uniform), (.lightgcn, .adar), (.lightgcn, .mixgcf)]
        for (backbone, sampler) in cases {
            let configuration = try TrainingConfiguration(
                backbone: backbone, sampler: sampler, poolSize: 8, dimension: 16, batchSize: 256, epochs: 8,
                adam: AdamParameters(learningRate: 0.01))
            let trainer = try Trainer(data: data, configuration: configuration, seed: 1)
            let history = try trainEpochs(trainer, epochs: configuration.epochs, evaluateEvery: configuration.epochs, threads: 2)
            let before = history.first!.metrics!.recall(at: 20), after = history.last!.metrics!.recall(at: 20)
            #expect(after > 1.5 * before + 0.02, "\(backbone) + \(sampler): Recall@20 \(before) → \(after)")
        }
    }

    @Test("same seed gives identical runs; the thread count does not change them")
    func determinism() throws {
        let data = try Self.synthetic()
        let denoised = ADARGenerator.denoised(DenoisedGenerator(tauWarmup: 1))
        for (backbone, sampler, generator) in [(Backbone.mf, SamplerKind.adar, ADARGenerator.forward), (.lightgcn, .dns, .forward),
                                               (.mf, .ahns, .forward), (.lightgcn, .mixgcf, .forward), (.lightgcn, .adar, denoised)] {
            let configuration = try TrainingConfiguration(
                backbone: backbone, sampler: sampler, poolSize: 4, generator: generator, dimension: 8, batchSize: 300, epochs: 2)
            func train(threads: Int) throws -> ([Float], [UInt64]) {
                let trainer = try Trainer(data: data, configuration: configuration, seed: 42)
                let history = try trainEpochs(trainer, epochs: configuration.epochs, evaluateEvery: 1, threads: threads)
                // Under denoised also τ's parameters, its losses and the denoised rows' mean distance.
                let tau = (trainer.tau?.network.parameters ?? []).map { Double($0) }
                let statistics = history.compactMap { $0.statistics?.adar?.tau }.flatMap { [$0.meanLoss, $0.meanDenoisedDistance] }
                let values = history.compactMap { $0.statistics?.meanLoss } + history.compactMap { $0.metrics?.ndcg(at: 20) } + tau + statistics
                return (trainer.parameters, values.map(\.bitPattern))   // bit patterns: a NaN (no denoised rows) equals itself
            }
            let serial = try train(threads: 1), again = try train(threads: 1), parallel = try train(threads: 4)
            #expect(serial.0 == again.0 && serial.1 == again.1, "\(backbone) + \(sampler): repeat differs")
            #expect(serial.0 == parallel.0 && serial.1 == parallel.1, "\(backbone) + \(sampler): threads change the result")
            let otherSeed = try Trainer(data: data, configuration: configuration, seed: 43)
            #expect(otherSeed.parameters != serial.0)
        }
    }
}
