/// Box–Muller in binary32 on eight pairs of Philox words (S8's lower-precision
/// option). `ln u` and `sin/cos θ` are evaluated by the reductions below, in
/// SIMD and without libm; Proofs/S8-binary32-noise.md derives the error bound.
///
/// - `ln u`, `u = (w + ½)·2⁻³²`: for `u < ¾`, `u = 2^e·m` with
///   `m ∈ [√½, √2)` and `ln m = 2·atanh((m − 1)/(m + 1))`; for `u ≥ ¾` the
///   distance to 1, `v = (~w + ½)·2⁻³²`, is formed from the integer so no
///   digits are lost, and `ln u = ln(1 − v) = 2·atanh(−v/(2 − v))`. Both
///   atanh arguments lie in `[−0.1716, 0.1716]`, so one odd polynomial serves.
/// - `θ = 2π·u₁`: the quadrant and the reduced angle `φ ∈ [−π/4, π/4]` come
///   from the integer `w₁` itself, so the reduction is exact.
@usableFromInline
enum BoxMuller32 {
    @inlinable @inline(__always)
    static func normals(_ w0: SIMD8<UInt32>, _ w1: SIMD8<UInt32>) -> (SIMD8<Float>, SIMD8<Float>) {
        let r = (-2 * logUnit(w0)).squareRoot()
        let (sine, cosine) = sinCosTurn(w1)
        return (r * cosine, r * sine)
    }

    /// `ln((w + ½)·2⁻³²)` in binary32.
    @inlinable @inline(__always)
    static func logUnit(_ w: SIMD8<UInt32>) -> SIMD8<Float> {
        let nearOne = w .>= SIMD8(repeating: 0xC000_0000)
        // Lower branch: u = (w + ½)·2⁻³², split into exponent and mantissa.
        let u = (SIMD8<Float>(w) + 0.5) * 0x1p-32
        var bits = unsafeBitCast(u, to: SIMD8<UInt32>.self)
        var exponent = SIMD8<Int32>(truncatingIfNeeded: bits &>> 23) &- 127
        bits = (bits & 0x007F_FFFF) | 0x3F80_0000                 // m ∈ [1, 2)
        var m = unsafeBitCast(bits, to: SIMD8<Float>.self)
        let high = m .> 1.414_213_56
        m.replace(with: m * 0.5, where: high)
        exponent.replace(with: exponent &+ 1, where: high)
        var s = (m - 1) / (m + 1)
        // Upper branch: v = 1 − u exactly from the complement of w.
        let v = (SIMD8<Float>(~w) + 0.5) * 0x1p-32
        s.replace(with: -v / (2 - v), where: nearOne)
        exponent.replace(with: 0, where: nearOne)
        let e = SIMD8<Float>(exponent)
        return e * ln2High + (e * ln2Low + atanhTwice(s))
    }

    /// ln 2 split so that `e·ln2High` is exact for every binary32 exponent.
    @usableFromInline static let ln2High: Float = 0.693_145_751_953_125
    @usableFromInline static let ln2Low: Float = 1.428_606_765_330_187e-06

    /// `2·atanh(s) = 2s(1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9 + …)` for `|s| ≤ 0.1716`;
    /// the omitted tail is below `2|s|¹¹/(11(1 − s²))` ≤ 7.7e-10.
    @inlinable @inline(__always)
    static func atanhTwice(_ s: SIMD8<Float>) -> SIMD8<Float> {
        let s2 = s * s
        var p = SIMD8<Float>(repeating: 1.0 / 9)
        p = p * s2 + 1.0 / 7
        p = p * s2 + 1.0 / 5
        p = p * s2 + 1.0 / 3
        p = p * s2
        return 2 * s + 2 * s * p
    }

    /// `(sin θ, cos θ)` for `θ = 2π·(w + ½)·2⁻³²`.
    @inlinable @inline(__always)
    static func sinCosTurn(_ w: SIMD8<UInt32>) -> (SIMD8<Float>, SIMD8<Float>) {
        // Round w to the nearest quarter turn: θ = q·π/2 + φ.
        let shifted = w &+ 0x2000_0000
        let quadrant = shifted &>> 30
        let offset = SIMD8<Int32>(truncatingIfNeeded: shifted & 0x3FFF_FFFF) &- 0x2000_0000
        let phi = (SIMD8<Float>(offset) + 0.5) * (2 * Float.pi * 0x1p-32)
        let p2 = phi * phi
        // Taylor polynomials on |φ| ≤ π/4: truncation below 7e-9 (sin) and 2.5e-9 (cos).
        var sp = SIMD8<Float>(repeating: 1.0 / 362_880)
        sp = sp * p2 - 1.0 / 5040
        sp = sp * p2 + 1.0 / 120
        sp = sp * p2 - 1.0 / 6
        let sinPhi = phi + phi * p2 * sp
        var cp = SIMD8<Float>(repeating: -1.0 / 3_628_800)
        cp = cp * p2 + 1.0 / 40320
        cp = cp * p2 - 1.0 / 720
        cp = cp * p2 + 1.0 / 24
        cp = cp * p2 - 0.5
        let cosPhi = 1 + p2 * cp
        // Rotate by the quadrant: q = 1 → (cos, −sin), 2 → (−sin, −cos), 3 → (−cos, sin).
        let odd = (quadrant & 1) .== 1
        var sine = cosPhi, cosine = sinPhi
        sine.replace(with: sinPhi, where: .!odd)
        cosine.replace(with: cosPhi, where: .!odd)
        let negateSine = quadrant .>= 2
        let negateCosine = (quadrant .== 1) .| (quadrant .== 2)
        sine.replace(with: -sine, where: negateSine)
        cosine.replace(with: -cosine, where: negateCosine)
        return (sine, cosine)
    }
}
