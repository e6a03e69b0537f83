import ADARCore

/// The parameters of S9's noise-prediction network τ_θ for dimension `d`,
/// row-major `[out][in]`: `W₁` is `4d × 3d`, `b₁` has `4d` values, `W₂` is
/// `d × 4d`, `b₂` has `d` values. Also the shape of τ's gradient and of
/// Adam's moments.
public struct TauParameters: Equatable, Sendable {
    public let dimension: Int
    public var w1: [Double]
    public var b1: [Double]
    public var w2: [Double]
    public var b2: [Double]

    public init(dimension d: Int, w1: [Double], b1: [Double], w2: [Double], b2: [Double]) {
        precondition(d >= 1 && w1.count == 12 * d * d && b1.count == 4 * d && w2.count == 4 * d * d && b2.count == d,
                     "τ's parameters for d = \(d) have shapes 4d×3d, 4d, d×4d, d")
        dimension = d
        self.w1 = w1
        self.b1 = b1
        self.w2 = w2
        self.b2 = b2
    }

    /// All zeros (a gradient accumulator, Adam's initial moments).
    public static func zeros(dimension d: Int) -> TauParameters {
        TauParameters(
            dimension: d, w1: Array(repeating: 0, count: 12 * d * d), b1: Array(repeating: 0, count: 4 * d),
            w2: Array(repeating: 0, count: 4 * d * d), b2: Array(repeating: 0, count: d))
    }

    /// `3d`, the length of τ's input `v = [x_t ; PE(t) ; e_u]`.
    public var inputWidth: Int { 3 * dimension }
    /// `4d`, the hidden width.
    public var hiddenWidth: Int { 4 * dimension }

    /// Every parameter in the order `W₁, b₁, W₂, b₂` (the layout Adam walks).
    public var flattened: [Double] { w1 + b1 + w2 + b2 }

    /// The inverse of `flattened`.
    public init(dimension d: Int, flattened values: [Double]) {
        let w1End = 12 * d * d, b1End = w1End + 4 * d, w2End = b1End + 4 * d * d
        precondition(values.count == w2End + d, "τ for d = \(d) has \(w2End + d) parameters, got \(values.count)")
        self.init(
            dimension: d, w1: Array(values[..<w1End]), b1: Array(values[w1End..<b1End]),
            w2: Array(values[b1End..<w2End]), b2: Array(values[w2End...]))
    }
}

extension ReferenceADAR {
    /// S9: the Philox stream word `2³² − 2` that τ's initialisation draws from.
    public static let tauInitialisationStream: UInt32 = 0xFFFF_FFFE

    /// The largest `d` whose `W₁` index `k < 12d²` keeps `⌊k/4⌋` within the
    /// 32-bit counter word of S9's initialisation (`3d² ≤ 2³²`).
    public static let tauMaxDimension = 37_837

    /// S9: Xavier-uniform (gain 1) bounds `bound₁ = √(6/(7d))`, `bound₂ = √(6/(5d))`.
    public static func xavierBound(layer: Int, dimension d: Int) -> Double {
        precondition(layer == 1 || layer == 2)
        return (6 / (Double(layer == 1 ? 7 : 5) * Double(d))).squareRoot()
    }

    /// S9: entry `k = r·fan_in + c` of `W_ℓ`: `bound_ℓ·(2u − 1)`, `u = (w + ½)·2⁻³²`,
    /// `w` lane `k mod 4` of Philox on counter `(⌊k/4⌋, ℓ, 0, 2³² − 2)` with S8's key.
    public static func xavierEntry(seed: UInt64, layer: Int, index k: Int, dimension d: Int) -> Double {
        let noise = GaussianNoise(seed: seed, stream: tauInitialisationStream)
        let counter = SIMD4<UInt32>(UInt32(k / 4), UInt32(layer), 0, tauInitialisationStream)
        let w = Philox4x32.block(counter: counter, key: noise.key)[k % 4]
        return xavierBound(layer: layer, dimension: d) * (2 * GaussianNoise.unitInterval(w) - 1)
    }

    /// S9: τ's initial parameters for `seed`: `W₁`, `W₂` Xavier-uniform from
    /// Philox, biases 0, all in binary64.
    public static func tauInitialParameters(seed: UInt64, dimension d: Int) -> TauParameters {
        precondition((1...tauMaxDimension).contains(d), "τ's initialisation needs 1 ≤ d ≤ \(tauMaxDimension)")
        var parameters = TauParameters.zeros(dimension: d)
        for k in parameters.w1.indices { parameters.w1[k] = xavierEntry(seed: seed, layer: 1, index: k, dimension: d) }
        for k in parameters.w2.indices { parameters.w2[k] = xavierEntry(seed: seed, layer: 2, index: k, dimension: d) }
        return parameters
    }

    /// `SiLU(z) = z·σ(z)`, with the overflow-free logistic of S7.
    public static func silu(_ z: Double) -> Double { z * logistic(z) }

    /// `d SiLU(z)/dz = σ(z)·(1 + z·(1 − σ(z)))`.
    public static func siluDerivative(_ z: Double) -> Double {
        let s = logistic(z)
        return s * (1 + z * (1 - s))
    }

    /// S9: τ's input `v = [x_t ; PE(t) ; e_u]`, `3d` values in that order.
    public static func tauInput(noisy xt: [Double], timestep t: Int, user: [Double]) -> [Double] {
        precondition(xt.count == user.count)
        return xt + positionalEncoding(timestep: t, dimension: xt.count) + user
    }

    /// τ's forward pass with its intermediate values, for backpropagation.
    public struct TauActivations: Equatable, Sendable {
        /// `v`, `3d` values.
        public var input: [Double]
        /// `z = W₁·v + b₁`, `4d` values.
        public var preActivation: [Double]
        /// `h = SiLU(z)`.
        public var hidden: [Double]
        /// `y = W₂·h + b₂ = ε̂`, `d` values.
        public var output: [Double]
    }

    /// S9: `y = W₂·SiLU(W₁·v + b₁) + b₂` with every intermediate; each dot
    /// product summed left to right, then its bias added.
    public static func tauForward(_ p: TauParameters, input v: [Double]) -> TauActivations {
        precondition(v.count == p.inputWidth)
        let inputs = p.inputWidth, hidden = p.hiddenWidth
        var z = [Double](), h = [Double](), y = [Double]()
        for i in 0..<hidden {
            z.append(dot(p.w1[i * inputs ..< (i + 1) * inputs], v[...]) + p.b1[i])
            h.append(silu(z[i]))
        }
        for k in 0..<p.dimension { y.append(dot(p.w2[k * hidden ..< (k + 1) * hidden], h[...]) + p.b2[k]) }
        return TauActivations(input: v, preActivation: z, hidden: h, output: y)
    }

    /// S9: `ε̂ = τ_θ(x_t, PE(t), e_u)`.
    public static func predictNoise(_ p: TauParameters, noisy xt: [Double], timestep t: Int, user: [Double]) -> [Double] {
        tauForward(p, input: tauInput(noisy: xt, timestep: t, user: user)).output
    }
}
