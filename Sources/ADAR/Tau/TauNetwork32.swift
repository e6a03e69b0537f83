import Foundation
import ADARCore

/// The noise-prediction network τ_θ of spec S9 in binary32:
/// `y = W₂·SiLU(W₁·v + b₁) + b₂`, `v = [x_t ; PE(t) ; e_u]` (`3d` values),
/// `W₁ ∈ R^{4d×3d}`, `W₂ ∈ R^{d×4d}`, row-major `[out][in]`.
///
/// The parameters live in one flat array, `W₁ | b₁ | W₂ | b₂`, so that
/// gradients and Adam's moments share the layout. `PE(t)` is tabulated for
/// `t = 0…T` of one schedule at `init` (binary64, rounded once): τ is bound
/// to the schedule it was created for.
public struct TauNetwork32: Sendable {
    public let dimension: Int
    /// `T` of the schedule `positionalEncoding` was tabulated for.
    public let steps: Int
    /// `W₁ | b₁ | W₂ | b₂`, row-major.
    public internal(set) var parameters: [Float]
    /// `PE(t)` for `t = 0…T`, `(T + 1) × d`, row-major.
    @usableFromInline var positionalEncoding: [Float]

    /// S9's initialisation: biases 0, `W_ℓ[r][c] = bound_ℓ·(2u − 1)` with `u`
    /// from lane `k mod 4` of Philox on counter `(⌊k/4⌋, ℓ, 0, 2³² − 2)`,
    /// `k = r·fan_in + c`, key `(low32(seed), high32(seed))`; binary64, rounded once.
    public init(dimension d: Int, steps: Int, seed: UInt64) throws(ADARError) {
        try Self.checkShape(dimension: d, steps: steps)
        let layout = TauLayout(dimension: d)
        var parameters = [Float](repeating: 0, count: layout.count)
        let key = SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        for (layer, offset, count, fanIn, fanOut) in [(1, layout.w1, 12 * d * d, 3 * d, 4 * d), (2, layout.w2, 4 * d * d, 4 * d, d)] {
            let bound = (6.0 / Double(fanIn + fanOut)).squareRoot()
            var block = SIMD4<UInt32>()
            for k in 0..<count {
                if k % 4 == 0 {
                    block = Philox4x32.block(counter: SIMD4(UInt32(k / 4), UInt32(layer), 0, UInt32.max - 1), key: key)
                }
                parameters[offset + k] = Float(bound * (2 * GaussianNoise.unitInterval(block[k % 4]) - 1))
            }
        }
        self.init(checkedDimension: d, steps: steps, parameters: parameters)
    }

    /// A network with the given parameters (`W₁ | b₁ | W₂ | b₂`), e.g. for
    /// equivalence checks or a restored run.
    public init(dimension d: Int, steps: Int, parameters: [Float]) throws(ADARError) {
        try Self.checkShape(dimension: d, steps: steps)
        let count = TauLayout(dimension: d).count
        guard parameters.count == count else { throw .shapeMismatch(field: "parameters", expected: count, actual: parameters.count) }
        if let i = parameters.firstIndex(where: { !$0.isFinite }) {
            throw .nonFinite(row: 0, field: "parameters", component: i)
        }
        self.init(checkedDimension: d, steps: steps, parameters: parameters)
    }

    private init(checkedDimension d: Int, steps: Int, parameters: [Float]) {
        dimension = d
        self.steps = steps
        self.parameters = parameters
        positionalEncoding = Self.positionalTable(dimension: d, steps: steps).map(Float.init)
    }

    private static func checkShape(dimension d: Int, steps: Int) throws(ADARError) {
        guard d >= 1 else { throw .shapeMismatch(field: "dimension", expected: 1, actual: d) }
        guard steps >= 1 else { throw .shapeMismatch(field: "steps", expected: 1, actual: steps) }
        try ADARLimits.check("dimension", d, atMost: ADARLimits.maxDimension)
        // S9's counter word ⌊k/4⌋, k < 12d², must fit in 32 bits: 3d² ≤ 2³².
        try ADARLimits.check("tau.dimension", d, atMost: maxDimension)
        try ADARLimits.check("steps", steps, atMost: ADARLimits.maxSteps)
        try ADARLimits.checkArrayCount("12·d²", 12 * d, d)
        try ADARLimits.checkArrayCount("(T + 1)·d", steps + 1, d)
    }

    /// `PE(t)_k` for `t = 0…T` in binary64 (S9): `sin` of
    /// `t·exp(−(k − k mod 2)/d·ln 10⁴)` for even `k`, `cos` for odd `k`.
    public static func positionalTable(dimension d: Int, steps: Int) -> [Double] {
        var table = [Double](repeating: 0, count: (steps + 1) * d)
        for t in 0...steps {
            for k in 0..<d {
                let angle = Double(t) * exp(-Double(k - k % 2) / Double(d) * log(10_000.0))
                table[t * d + k] = k % 2 == 0 ? sin(angle) : cos(angle)
            }
        }
        return table
    }

    /// `PE(t)` rounded once to binary32, the row τ reads.
    public func positionalEncoding(at t: Int) -> ArraySlice<Float> {
        precondition((0...steps).contains(t))
        return positionalEncoding[t * dimension ..< (t + 1) * dimension]
    }

    var layout: TauLayout { TauLayout(dimension: dimension) }

    /// The largest `d` whose initialisation counters fit in 32 bits (`3d² ≤ 2³²`).
    public static let maxDimension = 37_837
}

/// Offsets of `W₁ | b₁ | W₂ | b₂` in the flat parameter array.
@usableFromInline
struct TauLayout: Sendable {
    @usableFromInline let d: Int
    @usableFromInline init(dimension: Int) { d = dimension }
    @usableFromInline var w1: Int { 0 }
    @usableFromInline var b1: Int { 12 * d * d }
    @usableFromInline var w2: Int { 12 * d * d + 4 * d }
    @usableFromInline var b2: Int { 16 * d * d + 4 * d }
    @usableFromInline var count: Int { 16 * d * d + 5 * d }
}
