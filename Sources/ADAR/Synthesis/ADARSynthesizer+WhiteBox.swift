import ADARCore

/// White-box entry points (package access, not public API): one row of the
/// per-row code paths of `synthesize` and `loss`, on arrays, so that the
/// conformance port (`adar port-server`, docs/PORTING.md) and the tolerance
/// claim S6/F1 answer with the product itself rather than a re-derivation.
/// Each calls the very function the batched passes call per row.
extension ADARSynthesizer {
    /// The binary32 schedule tables (S1), indexed by `t` with 0 = clean.
    package struct ScheduleTables32: Sendable {
        package let beta: [Float], alphaBar: [Float], sqrtAlphaBar: [Float], sqrtOneMinusAlphaBar: [Float]
    }

    /// The tables `synthesize` and `loss` read — S1's binary64 tables rounded
    /// once by `init` — and `β_t` rounded the same way (the passes never read it).
    package var scheduleTables: ScheduleTables32 {
        ScheduleTables32(
            beta: schedule.beta.map(Float.init), alphaBar: alphaBar, sqrtAlphaBar: sqrtAlphaBar,
            sqrtOneMinusAlphaBar: sqrtOneMinusAlphaBar)
    }

    /// S2: `x_t = √ᾱ_t·x_0 + (√(1 − ᾱ_t)·σ)·ε` by `noisedSample`, the step
    /// that forms `x⁻` in `synthesize`.
    package func forwardSample(x0: [Float], epsilon: [Float], timestep t: Int) -> [Float] {
        precondition(x0.count == epsilon.count && (0...schedule.steps).contains(t))
        guard !x0.isEmpty else { return [] }
        return [Float](unsafeUninitializedCapacity: x0.count) { out, count in
            x0.withUnsafeBufferPointer { x in
                epsilon.withUnsafeBufferPointer { e in
                    // The score ⟨x_0, x_t⟩ the kernel also forms is not wanted here.
                    _ = noisedSample(
                        timestep: t, x0: x.baseAddress!, epsilon: e.baseAddress!, user: x.baseAddress!,
                        into: out.baseAddress!, dimension: x0.count)
                }
            }
            count = x0.count
        }
    }

    /// S4 + S5 from bare scores and `‖e_u‖`: `noiseScale` then `transition`,
    /// as `synthesize` runs them per row.
    package func transition(s0: Float, sNeg: Float, userNorm: Float) -> RowTransition32 {
        transition(s0: s0, sNeg: sNeg, noiseScale: noiseScale(userNorm: userNorm))
    }

    /// One row's S7 loss and gradients (`lossRow`).
    package struct LossRow32: Sendable {
        package let loss: Float
        /// `∂L/∂e_u`, `∂L/∂e_i`, `∂L/∂e_{j_1}`, and `∂L/∂e_{j_h}` for the fallback candidate `h`.
        package let userGradient: [Float], positiveGradient: [Float], negativeGradient: [Float], fallbackGradient: [Float]
    }

    /// S7 for one row from its vectors and a given `forward` outcome (status, timestep,
    /// `x⁻`). The scores `s_0 = ⟨e_u, e_i⟩` and `⟨e_u, x⁻⟩` are formed by
    /// `Kernels32.dot`, which sums exactly as the synthesis pass that records
    /// them (`dot4` and `combineAndScore` are bit-identical to `dot`).
    package func lossRow(
        user: [Float], positive: [Float], negative: [Float], status: RowStatus, timestep: Int, syntheticNegative: [Float]
    ) -> LossRow32 {
        let d = user.count
        precondition(d >= 1 && [positive, negative, syntheticNegative].allSatisfy { $0.count == d })
        precondition((0...schedule.steps).contains(timestep))
        var gradients = [Float](repeating: 0, count: 4 * d)
        let loss = user.withUnsafeBufferPointer { u in
            positive.withUnsafeBufferPointer { x0 in
                negative.withUnsafeBufferPointer { j in
                    syntheticNegative.withUnsafeBufferPointer { xNeg in
                        gradients.withUnsafeMutableBufferPointer { g in
                            let u = u.baseAddress!, x0 = x0.baseAddress!, xNeg = xNeg.baseAddress!, g = g.baseAddress!
                            return lossRow(
                                user: u, positive: x0, negative: j.baseAddress!,
                                positiveScore: Kernels32.dot(u, x0, d), status: status, timestep: timestep,
                                syntheticScore: Kernels32.dot(u, xNeg, d), syntheticNegative: xNeg, denoised: false, dimension: d,
                                userGradient: g, positiveGradient: g + d, negativeGradient: g + 2 * d, fallbackGradient: g + 3 * d)
                        }
                    }
                }
            }
        }
        return LossRow32(
            loss: loss, userGradient: Array(gradients[0..<d]), positiveGradient: Array(gradients[d..<2 * d]),
            negativeGradient: Array(gradients[2 * d..<3 * d]), fallbackGradient: Array(gradients[3 * d..<4 * d]))
    }
}
