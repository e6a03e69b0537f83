import Foundation
import Testing
import ADARCore
@testable import ADARLayers

/// Every layer of the SASRec backbone (module `ADARLayers`, docs/LAYERS.md):
/// its backward pass against central differences of its forward pass, both
/// evaluated in binary64 by the same generic code; then the whole block
/// stack with S10's loss end to end, and binary32 against binary64.
///
/// **Tolerance of the binary64 checks.** For an objective `f` (the layer's
/// output paired with a fixed upstream gradient `G`, or the loss) the
/// central difference `D_h = (f(θ + h) − f(θ − h))/2h`, `h = 2⁻²⁰`, differs
/// from `f′` by its truncation `h²/6·f‴ + O(h⁴)` and by the rounding of the
/// two evaluations divided by `2h`. Each evaluation sums terms of absolute
/// sum `M` (`Σ|G_i·y_i|`, or the loss itself: its terms are positive), each
/// term at most `k = 64` rounded operations deep, so it is within
/// `k·ε₆₄·M` of exact (`ε₆₄ = 2⁻⁵³`, first order), and rounding moves `D_h`
/// by at most `R = k·ε₆₄·M/h`. Truncation is measured, not assumed:
/// `D_{2h} − D_h = h²/2·f‴ + O(h⁴)` is three times `D_h`'s truncation, so
/// `T = |D_{2h} − D_h|/3 + R` bounds it. The analytic binary64 gradient is
/// within `k·ε₆₄·M/h`-sized error too at most (it sums the same terms'
/// derivatives, of absolute sum far below `M/h`). The check is
/// `|g − D_h| ≤ 2R + T`, per coordinate; for the cases here that is
/// `10⁻⁹ … 10⁻⁶`, while the planted bugs move gradients by `10⁻³ … 1`.
/// ReLU's kink is the one non-smooth point met: every FFN pre-activation is
/// checked to stay `≥ 10⁻⁴` from 0, far beyond `2h·|∂z/∂θ|`.
///
/// **binary32 against binary64** (same parameters, exactly representable in
/// both): not a correctness check of the formulas (the binary64 checks are)
/// but of the precision. A first-order rounding estimate: each gradient
/// entry is a sum over at most `n = 40` products along a path of at most
/// `k ≈ 60` rounded operations whose local condition numbers (LayerNorm's
/// `1/σ`, softmax, `√d`) stay below `κ = 10` on these inputs, so
/// `|g₃₂ − g₆₄| ≲ (n + k)·κ·u₃₂·‖g‖∞ ≈ 6·10⁻⁵·‖g‖∞` with `u₃₂ = 2⁻²⁴`; the
/// check uses `10⁻⁴·‖g‖∞`, and a planted bug in binary32 alone exceeds it.
@Suite("Layers: gradients against numerical differentiation")
struct LayersGradientTests {
    static let step = 0x1p-20

    /// Deterministic values in `±scale` (S8 normals, fixed seed).
    static func values(_ count: Int, seed: UInt64, scale: Double = 1) -> [Double] {
        let noise = GaussianNoise(seed: seed, stream: 77)
        return (0..<count).map { scale * noise.normal(row: UInt64($0 / 64), component: $0 % 64) }
    }

    /// `|analytic − D_h| ≤ 2R + T` (see the suite's comment) over every
    /// coordinate of `point` for the scalar `objective`, whose terms have
    /// absolute sum `magnitude` at `point`; the failures, named, as strings.
    static func compare(
        _ label: String, point: [Double], analytic: [Double], magnitude: Double, objective: ([Double]) -> Double
    ) -> [String] {
        var failures: [String] = []
        let h = step, rounding = 64 * 0x1p-53 * magnitude / h
        func difference(_ k: Int, _ h: Double) -> Double {
            var plus = point, minus = point
            plus[k] += h
            minus[k] -= h
            return (objective(plus) - objective(minus)) / (2 * h)
        }
        for k in point.indices {
            let dh = difference(k, h), d2h = difference(k, 2 * h)
            let truncation = abs(d2h - dh) / 3 + rounding
            if !(abs(analytic[k] - dh) <= 2 * rounding + truncation) {
                failures.append("\(label)[\(k)]: analytic \(analytic[k]) vs central difference \(dh) (bound \(2 * rounding + truncation))")
            }
        }
        return failures
    }

    /// `Σ|G_i·y_i|`, the magnitude of the objective `⟨G, y⟩`.
    static func magnitude(_ upstream: [Double], _ y: [Double]) -> Double { zip(upstream, y).reduce(0) { $0 + abs($1.0 * $1.1) } }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    // MARK: Layers one by one

    /// Linear: `⟨G, x·Wᵀ + b⟩` against `dx`, `dW`, `db`.
    static func linearFailures() -> [String] {
        let layer = Linear(inputs: 3, outputs: 4, at: 0), rows = 5
        let x0 = values(rows * 3, seed: 1), p0 = values(layer.parameterCount, seed: 2), upstream = values(rows * 4, seed: 3)
        func forward(_ x: [Double], _ p: [Double]) -> [Double] {
            var y = [Double](repeating: 0, count: rows * 4)
            layer.forward(x, rows: rows, parameters: p, into: &y, threads: 1)
            return y
        }
        var g = [Double](repeating: 0, count: layer.parameterCount), dx = [Double](repeating: 0, count: rows * 3)
        layer.backward(x0, outputGradient: upstream, rows: rows, parameters: p0, gradient: &g, inputGradient: &dx, threads: 1)
        let m = magnitude(upstream, forward(x0, p0))
        return compare("Linear dx", point: x0, analytic: dx, magnitude: m) { dot(upstream, forward($0, p0)) }
            + compare("Linear dθ", point: p0, analytic: g, magnitude: m) { dot(upstream, forward(x0, $0)) }
    }

    @Test("Linear: dx, dW, db against central differences")
    func linear() { #expect(Self.linearFailures() == []) }

    /// LayerNorm with ε = 1e-8: `dx`, `dγ`, `dβ`.
    static func layerNormFailures() -> [String] {
        let d = 6, rows = 4, norm = LayerNorm(dimension: d, at: 0)
        let x0 = values(rows * d, seed: 4, scale: 2), upstream = values(rows * d, seed: 6)
        let p0 = (0 ..< 2 * d).map { $0 < d ? 1 + 0.3 * values(2 * d, seed: 5)[$0] : values(2 * d, seed: 5)[$0] }
        var xhat = [Double](repeating: 0, count: rows * d), inv = [Double](repeating: 0, count: rows)
        func forward(_ x: [Double], _ p: [Double]) -> [Double] {
            var y = [Double](repeating: 0, count: rows * d)
            norm.forward(x, rows: rows, parameters: p, normalised: &xhat, inverseDeviation: &inv, into: &y, threads: 1)
            return y
        }
        let m = magnitude(upstream, forward(x0, p0))
        var g = [Double](repeating: 0, count: 2 * d), dx = [Double](repeating: 0, count: rows * d)
        norm.backward(outputGradient: upstream, rows: rows, normalised: xhat, inverseDeviation: inv, parameters: p0,
                      gradient: &g, inputGradient: &dx, accumulate: false, threads: 1)
        return compare("LayerNorm dx", point: x0, analytic: dx, magnitude: m) { dot(upstream, forward($0, p0)) }
            + compare("LayerNorm dθ", point: p0, analytic: g, magnitude: m) { dot(upstream, forward(x0, $0)) }
    }

    @Test("LayerNorm: dx, dγ, dβ against central differences")
    func layerNorm() { #expect(Self.layerNormFailures() == []) }

    /// The attention case: 3 sequences of L = 5 with first items at slots 2,
    /// 0 and 5 (the last all padding), d = 6, dropout 0.3 on the weights.
    struct AttentionCase {
        let configuration: SASRecConfiguration
        let layer: CausalSelfAttention
        let workspace: SASRecWorkspace<Double>
        let starts: [Int] = [2, 0, 5]
        let dropout = try! Dropout(seed: 11, epoch: 3, rate: 0.3, rowOffset: 40)
        var rows: Int { 3 * configuration.length }

        init(heads: Int) {
            configuration = try! SASRecConfiguration(items: 5, dimension: 6, length: 5, blocks: 1, heads: heads, dropout: 0.3)
            layer = CausalSelfAttention(dimension: 6, heads: heads, at: 0)
            workspace = SASRecWorkspace(configuration: configuration, sequences: 3)
        }

        func forward(_ a: [Double], _ p: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: rows * 6)
            layer.forward(a, sequences: 3, length: 5, starts: starts, parameters: p, buffers: workspace.blocks[0].attention,
                          dropout: dropout, site: 1, into: &out, threads: 1)
            return out
        }

        func backward(_ a: [Double], _ p: [Double], upstream: [Double]) -> (input: [Double], parameters: [Double]) {
            _ = forward(a, p)
            var g = [Double](repeating: 0, count: layer.parameterCount), da = [Double](repeating: 0, count: rows * 6)
            layer.backward(a, outputGradient: upstream, sequences: 3, length: 5, starts: starts, parameters: p,
                           buffers: workspace.blocks[0].attention, dropout: dropout, gradient: &g, inputGradient: &da, threads: 1)
            return (da, g)
        }
    }

    static func attentionFailures(heads: Int) -> [String] {
        let c = AttentionCase(heads: heads)
        let a0 = values(c.rows * 6, seed: 7), p0 = values(c.layer.parameterCount, seed: 8, scale: 0.5)
        let upstream = values(c.rows * 6, seed: 9)
        let m = magnitude(upstream, c.forward(a0, p0))
        let (da, g) = c.backward(a0, p0, upstream: upstream)
        return compare("attention(\(heads) heads) dA", point: a0, analytic: da, magnitude: m) { dot(upstream, c.forward($0, p0)) }
            + compare("attention(\(heads) heads) dθ", point: p0, analytic: g, magnitude: m) { dot(upstream, c.forward(a0, $0)) }
    }

    @Test("Causal self-attention with padding and causal masks, 1 and 2 heads, dropout on the weights", arguments: [1, 2])
    func attention(heads: Int) { #expect(Self.attentionFailures(heads: heads) == []) }

    @Test("Attention: masked positions get exactly zero gradient; padding rows pass none")
    func attentionMasks() {
        let c = AttentionCase(heads: 2)
        let a0 = Self.values(c.rows * 6, seed: 7), p0 = Self.values(c.layer.parameterCount, seed: 8, scale: 0.5)
        // The loss reads query row p = 3 of sequence 0 only (its visible keys: slots 2, 3).
        for query in [2, 3] {
            var upstream = [Double](repeating: 0, count: c.rows * 6)
            for k in 0..<6 { upstream[query * 6 + k] = 1 + Double(k) }
            let (da, _) = c.backward(a0, p0, upstream: upstream)
            for slot in 0..<c.rows {
                let row = Array(da[slot * 6 ..< slot * 6 + 6])
                let visible = slot >= 2 && slot <= query
                if visible {
                    #expect(row.contains { $0 != 0 }, "slot \(slot) is a visible key of query \(query) but got no gradient")
                } else {
                    #expect(row == [0, 0, 0, 0, 0, 0], "slot \(slot) is masked for query \(query) (padding or future) but got \(row)")
                }
            }
        }
        // Padding query rows (slots 0, 1 and all of sequence 2) receive b_out only: their upstream passes nothing.
        var upstream = [Double](repeating: 0, count: c.rows * 6)
        for slot in [0, 1, 10, 11, 12, 13, 14] { for k in 0..<6 { upstream[slot * 6 + k] = 1 } }
        let (da, g) = c.backward(a0, p0, upstream: upstream)
        #expect(da.allSatisfy { $0 == 0 }, "padding queries passed gradient to the inputs")
        let outputBias = c.layer.outputProjection.bias
        for (k, value) in g.enumerated() where !(outputBias ..< outputBias + 6).contains(k) {
            #expect(value == 0, "parameter \(k) got gradient \(value) from padding queries")
        }
    }

    /// FFN with dropout 0.25 on both sites; pre-activations kept off ReLU's kink.
    static func feedForwardFailures() -> [String] {
        let configuration = try! SASRecConfiguration(items: 3, dimension: 4, length: 3, blocks: 1, dropout: 0.25)
        let workspace = SASRecWorkspace<Double>(configuration: configuration, sequences: 2)
        let layer = PointwiseFeedForward(dimension: 4, at: 0), rows = 6, buffers = workspace.blocks[0].feedForward
        let dropout = try! Dropout(seed: 5, epoch: 2, rate: 0.25, rowOffset: 9)
        let x0 = values(rows * 4, seed: 12), p0 = values(layer.parameterCount, seed: 13), upstream = values(rows * 4, seed: 14)
        func forward(_ x: [Double], _ p: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: rows * 4)
            layer.forward(x, rows: rows, parameters: p, buffers: buffers, dropout: dropout, sites: (2, 3), into: &out, threads: 1)
            return out
        }
        let m = magnitude(upstream, forward(x0, p0))
        let nearestKink = (0 ..< rows * 4).map { abs(buffers.preActivation[$0]) }.min()!
        var failures = nearestKink >= 1e-4 ? [] : ["FFN: a pre-activation \(nearestKink) is too close to ReLU's kink for the check"]
        var g = [Double](repeating: 0, count: layer.parameterCount), dx = [Double](repeating: 0, count: rows * 4)
        var dOut = upstream
        layer.backward(x0, outputGradient: &dOut, rows: rows, parameters: p0, buffers: buffers, dropout: dropout, gradient: &g,
                       inputGradient: &dx, threads: 1)
        failures += compare("FFN dx", point: x0, analytic: dx, magnitude: m) { dot(upstream, forward($0, p0)) }
        failures += compare("FFN dθ", point: p0, analytic: g, magnitude: m) { dot(upstream, forward(x0, $0)) }
        return failures
    }

    @Test("Point-wise feed-forward (ReLU, two dropouts) against central differences")
    func feedForward() { #expect(Self.feedForwardFailures() == []) }

    /// Embedding (√d scale, positions, padding): `dE`, `dP`; row 0 of `E` gets none.
    static func embeddingFailures() -> [String] {
        let embedding = Embedding(items: 4, dimension: 3, length: 4, at: 0)
        let ids: [Int32] = [0, 0, 2, 4, 1, 2, 2, 3], rows = 8
        var p0 = values(embedding.parameterCount, seed: 15)
        for k in 0..<3 { p0[k] = 0 }
        let upstream = values(rows * 3, seed: 16)
        func forward(_ p: [Double]) -> [Double] {
            var x = [Double](repeating: 0, count: rows * 3)
            embedding.forward(ids, rows: rows, parameters: p, into: &x)
            return x
        }
        var g = [Double](repeating: 0, count: embedding.parameterCount)
        embedding.backward(ids, inputGradient: upstream, rows: rows, gradient: &g)
        var failures = compare("embedding dθ", point: p0, analytic: g, magnitude: magnitude(upstream, forward(p0))) {
            dot(upstream, forward($0))
        }
        if g[0..<3] != [0, 0, 0] { failures.append("embedding: the padding row got gradient \(Array(g[0..<3]))") }
        return failures
    }

    @Test("Embedding with √d scale, positions and padding index 0 against central differences")
    func embedding() { #expect(Self.embeddingFailures() == []) }

    // MARK: The loss and the whole stack

    /// A tiny model: 7 items, `d`, L = 5, 2 blocks, dropout 0.2, three
    /// left-padded sequences (one all but full, one full, one with a single
    /// item); row 1 of sequence 0 has a padding input but a positive (S10's
    /// first training row).
    struct StackCase {
        let configuration: SASRecConfiguration
        let ids: [Int32] = [0, 0, 3, 5, 2, 1, 4, 6, 7, 2, 0, 0, 0, 0, 6]
        let positives: [Int32] = [0, 3, 5, 2, 4, 4, 6, 7, 2, 5, 0, 0, 0, 0, 3]
        let negatives: [Int32] = [0, 6, 1, 7, 3, 2, 2, 3, 1, 6, 0, 0, 0, 0, 1]
        let dropout = try! Dropout(seed: 21, epoch: 4, rate: 0.2, rowOffset: 15)
        let l2 = 0.01

        init(dimension: Int, heads: Int) {
            configuration = try! SASRecConfiguration(items: 7, dimension: dimension, length: 5, blocks: 2, heads: heads, dropout: 0.2)
        }

        /// The loss and (when asked) its full gradient.
        func evaluate<S: LayerScalar>(_ parameters: [S], threads: Int = 1, gradient wanted: Bool = true) -> (loss: S, gradient: [S], workspace: SASRecWorkspace<S>) {
            let encoder = try! SASRecEncoder(configuration: configuration, parameters: parameters)
            let workspace = SASRecWorkspace<S>(configuration: configuration, sequences: 3)
            var gradient = [S](repeating: 0, count: encoder.layout.count)
            try! encoder.forward(ids, sequences: 3, dropout: dropout, workspace: workspace, threads: threads)
            let (loss, _) = try! SequenceBCELoss.lossAndGradient(encoder: encoder, workspace: workspace, sequences: 3,
                                                                  positives: positives, negatives: negatives, l2: l2, gradient: &gradient)
            if wanted { try! encoder.backward(ids, sequences: 3, dropout: dropout, workspace: workspace, gradient: &gradient, threads: threads) }
            return (loss, gradient, workspace)
        }

        /// Initial parameters with every bias and LayerNorm shift non-zero, so all of them are exercised.
        func parameters(seed: UInt64) -> [Double] {
            var p = SASRecEncoder<Double>(configuration: configuration, seed: seed).parameters
            let noise = LayersGradientTests.values(p.count, seed: seed &+ 1, scale: 0.1)
            for k in configuration.dimension ..< p.count { p[k] += noise[k] }
            return p
        }
    }

    static func stackFailures(dimension: Int, heads: Int) -> [String] {
        let c = StackCase(dimension: dimension, heads: heads), p0 = c.parameters(seed: 3)
        let (loss, analytic, workspace) = c.evaluate(p0)
        var failures: [String] = []
        for block in workspace.blocks {
            let nearest = (0 ..< 15 * dimension).map { abs(block.feedForward.preActivation[$0]) }.min()!
            if nearest < 1e-4 { failures.append("stack: an FFN pre-activation \(nearest) is too close to ReLU's kink") }
        }
        // Row 0 of the item table is padding: never trained, not a coordinate.
        var point = p0
        let padding = 0 ..< dimension
        failures += compare("stack(d \(dimension), \(heads) heads) dθ", point: Array(point[dimension...]),
                            analytic: Array(analytic[dimension...]), magnitude: abs(loss)) { rest in
            point.replaceSubrange(dimension..., with: rest)
            return c.evaluate(point, gradient: false).loss
        }
        if analytic[padding] != ArraySlice(repeating: 0, count: dimension) { failures.append("stack: the padding row got gradient") }
        return failures
    }

    @Test("Block stack + S10 BCE end to end: 2 blocks, L = 5, padded sequences, dropout", arguments: [(8, 2), (4, 1)])
    func stack(dimension: Int, heads: Int) { #expect(Self.stackFailures(dimension: dimension, heads: heads) == []) }

    /// binary32 gradient within `10⁻⁴·‖g‖∞` of binary64's at the same parameters.
    static func precisionFailures() -> [String] {
        let c = StackCase(dimension: 8, heads: 2)
        let p32 = c.parameters(seed: 3).map { Float($0) }
        let g32 = c.evaluate(p32).gradient, g64 = c.evaluate(p32.map { Double($0) }).gradient
        let scale = g64.map(abs).max()!
        return g64.indices.compactMap { k in
            abs(Double(g32[k]) - g64[k]) <= 1e-4 * scale ? nil : "binary32 gradient[\(k)] \(g32[k]) vs binary64 \(g64[k])"
        }
    }

    @Test("binary32 gradient of the stack within the rounding estimate of binary64's")
    func precision() { #expect(Self.precisionFailures() == []) }

    // MARK: Planted bugs

    @Test("Each checker rejects its planted bug", arguments: LayerMutation.allCases)
    func plantedBug(_ mutation: LayerMutation) {
        let failures = LayerMutation.$active.withValue(mutation) { () -> [String] in
            switch mutation {
            case .embeddingWithoutScale: Self.embeddingFailures()
            case .causalMaskOffByOne: Self.attentionFailures(heads: 2)
            case .layerNormUnbiasedVariance: Self.layerNormFailures()
            case .leakyFeedForward: Self.feedForwardFailures()
            case .negativeTermSignFlipped: Self.stackFailures(dimension: 4, heads: 1)
            }
        }
        #expect(!failures.isEmpty, "the check accepted the planted bug \(mutation)")
    }

    @Test("The whole-stack check rejects every planted bug")
    func stackRejectsEveryBug() {
        for mutation in LayerMutation.allCases {
            let failures = LayerMutation.$active.withValue(mutation) { Self.stackFailures(dimension: 4, heads: 1) }
            #expect(!failures.isEmpty, "the stack check accepted \(mutation)")
        }
    }

    @Test("The binary32 check rejects a bug in binary32 alone")
    func precisionRejectsBug() {
        let c = StackCase(dimension: 8, heads: 2)
        let p32 = c.parameters(seed: 3).map { Float($0) }
        let g32 = LayerMutation.$active.withValue(.layerNormUnbiasedVariance) { c.evaluate(p32).gradient }
        let g64 = c.evaluate(p32.map { Double($0) }).gradient
        let scale = g64.map(abs).max()!
        #expect(g64.indices.contains { abs(Double(g32[$0]) - g64[$0]) > 1e-4 * scale })
    }
}
