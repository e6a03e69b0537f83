import ADARCore

/// What the synthetic negative is on `transition`/`saturated` rows (spec S9).
public enum SynthesisGenerator32: Sendable {
    /// S6: `x⁻ = x_t`, the corrupted positive.
    case forward
    /// `x⁻ = x̂_0 = x_0 + σ·r_t·(ε − ε̂)`, `ε̂ = τ(x_t, PE(t), e_u)`; rows with
    /// `r_t > rMax` (S9's `r_max`, ≥ 0; decided in binary64) use `forward`
    /// and are flagged in `SynthesisBuffers.forwardFallbacks`.
    case denoised(TauNetwork32, rMax: Double = 10)

    var isDenoised: Bool {
        if case .denoised = self { true } else { false }
    }

    /// binary32 scratch one row needs: ε (`d`), then for `denoised` τ's
    /// input `V` (`3d`), hidden layer (`4d`) and output `ε̂` (`d`).
    func scratchPerRow(dimension d: Int) -> Int {
        switch self {
        case .forward: d
        case .denoised: 9 * d
        }
    }
}

/// τ's prepared state for one `synthesize` call, as raw pointers the row
/// loop reads: parameters, `PE`, the reconstruction scale `σ·r_t` per step
/// (binary32, formed as the row would form it), and the last step whose
/// binary64 `r_t ≤ r_max` (`r_t` increases with `t`).
struct DenoisingPass32: @unchecked Sendable {
    let parameters: UnsafePointer<Float>, positionalEncoding: UnsafePointer<Float>, reconstructionScale: UnsafePointer<Float>
    let layout: TauLayout
    let lastDenoisedStep: Int
}

extension ADARSynthesizer {
    func withDenoiser(_ generator: SynthesisGenerator32, _ body: (DenoisingPass32?) -> Void) {
        guard case let .denoised(network, rMax) = generator else { return body(nil) }
        let lastDenoisedStep = Self.noiseRatios(schedule).lastIndex { $0 <= rMax } ?? 0
        let scale = noiseRatio.map { sigma * $0 }
        network.parameters.withUnsafeBufferPointer { p in
            network.positionalEncoding.withUnsafeBufferPointer { pe in
                scale.withUnsafeBufferPointer { s in
                    body(DenoisingPass32(
                        parameters: p.baseAddress!, positionalEncoding: pe.baseAddress!, reconstructionScale: s.baseAddress!,
                        layout: network.layout, lastDenoisedStep: lastDenoisedStep))
                }
            }
        }
    }

    /// S9's `denoised` `x⁻` for one row: `x_t` into `V`, τ's forward, then
    /// `x̂_0 = x_0 + (σ·r_t)·(ε − ε̂)` as S9 writes it, returning `⟨e_u, x̂_0⟩`
    /// from the same pass. `scratch` holds `8d` values.
    @inline(__always)
    func denoisedSample(
        timestep t: Int, x0: UnsafePointer<Float>, epsilon: UnsafePointer<Float>, user u: UnsafePointer<Float>,
        denoiser: DenoisingPass32, scratch: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, dimension d: Int
    ) -> Float {
        let v = scratch, hidden = scratch + 3 * d, epsilonHat = scratch + 7 * d
        _ = noisedSample(timestep: t, x0: x0, epsilon: epsilon, user: u, into: v, dimension: d)
        (v + d).update(from: denoiser.positionalEncoding + t * d, count: d)
        (v + 2 * d).update(from: u, count: d)
        let p = denoiser.parameters, layout = denoiser.layout
        TauKernels32.linearRow(v, p + layout.w1, bias: p + layout.b1, outputs: 4 * d, inputs: 3 * d, into: hidden)
        for i in 0 ..< 4 * d { hidden[i] = TauKernels32.silu(hidden[i]) }
        TauKernels32.linearRow(hidden, p + layout.w2, bias: p + layout.b2, outputs: d, inputs: 4 * d, into: epsilonHat)
        return TauKernels32.reconstructAndScore(
            x0, denoiser.reconstructionScale[t], epsilon, epsilonHat, user: u, into: out, d)
    }
}

extension TauKernels32 {
    /// `out = x + c·(ε − ε̂)` and returns `⟨u, out⟩` in the same pass
    /// (eight lanes, then the tail in order, as `Kernels32.dot`).
    @inlinable @inline(__always)
    package static func reconstructAndScore(
        _ x: UnsafePointer<Float>, _ c: Float, _ epsilon: UnsafePointer<Float>, _ epsilonHat: UnsafePointer<Float>,
        user u: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, _ d: Int
    ) -> Float {
        var acc = SIMD8<Float>()
        var k = 0
        while k + 8 <= d {
            let v = Kernels32.load8(x + k) + c * (Kernels32.load8(epsilon + k) - Kernels32.load8(epsilonHat + k))
            Kernels32.store8(v, out + k)
            acc += Kernels32.load8(u + k) * v
            k += 8
        }
        var sum = acc.sum()
        while k < d {
            let v = x[k] + c * (epsilon[k] - epsilonHat[k])
            out[k] = v
            sum += u[k] * v
            k += 1
        }
        return sum
    }
}
