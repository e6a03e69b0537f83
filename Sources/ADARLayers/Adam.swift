import ADARCore
import Foundation

/// Adam (Kingma & Ba 2015) with bias correction over a flat parameter array,
/// whatever layers the parameters belong to; elementwise and dense (as
/// PyTorch's `Adam` on dense gradients: every entry moves each step, also
/// those whose gradient is 0). Per entry, with `t` the step count:
/// `m ← β₁·m + (1 − β₁)·g`, `v ← β₂·v + (1 − β₂)·g·g`,
/// `p ← p − (lr/(1 − β₁ᵗ))·m/(√(v·(1/(1 − β₂ᵗ))) + ε)`; both corrections
/// formed in binary64 and rounded once. Elementwise, hence bit-identical for
/// any thread count.
///
/// SASRec.pytorch uses `betas = (0.9, 0.98)`; the defaults here are Adam's.
public struct Adam<S: LayerScalar>: Sendable {
    public let learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double
    public private(set) var steps = 0
    public private(set) var firstMoment: [S]
    public private(set) var secondMoment: [S]

    public init(count: Int, learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8)
        throws(ADARError)
    {
        guard learningRate.isFinite, learningRate > 0 else {
            throw .invalidConfiguration(field: "learningRate", reason: "must be finite and > 0, got \(learningRate)")
        }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2), epsilon.isFinite, epsilon > 0 else {
            throw .invalidConfiguration(field: "adam", reason: "β₁ and β₂ must be in [0, 1) and ε > 0, got \(beta1), \(beta2), \(epsilon)")
        }
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoment = [S](repeating: 0, count: count)
        secondMoment = [S](repeating: 0, count: count)
    }

    /// One step on `parameters` with `gradient` (both `count` values).
    @_specialize(exported: true, where S == Float)
    public mutating func step(
        _ parameters: inout [S], gradient: [S], threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws(ADARError) {
        let count = firstMoment.count
        guard parameters.count == count else { throw .shapeMismatch(field: "parameters", expected: count, actual: parameters.count) }
        guard gradient.count == count else { throw .shapeMismatch(field: "gradient", expected: count, actual: gradient.count) }
        steps += 1
        let b1 = S(beta1), b2 = S(beta2), eps = S(epsilon)
        let stepSize = S(learningRate / (1 - pow(beta1, Double(steps))))
        let inverseCorrection2 = S(1 / (1 - pow(beta2, Double(steps))))
        gradient.withUnsafeBufferPointer { g in
            parameters.withUnsafeMutableBufferPointer { p in
                firstMoment.withUnsafeMutableBufferPointer { m in
                    secondMoment.withUnsafeMutableBufferPointer { v in
                        nonisolated(unsafe) let (g, p, m, v) = (g.baseAddress!, p.baseAddress!, m.baseAddress!, v.baseAddress!)
                        let chunks = LayerChunks.count(count)
                        forEachChunk(chunks, threads: threads) { chunk in
                            for k in chunkRange(chunk, of: chunks, count: count) {
                                let gk = g[k]
                                let mk = b1 * m[k] + (1 - b1) * gk
                                let vk = b2 * v[k] + (1 - b2) * gk * gk
                                m[k] = mk
                                v[k] = vk
                                p[k] -= stepSize * mk / ((vk * inverseCorrection2).squareRoot() + eps)
                            }
                        }
                    }
                }
            }
        }
    }
}
