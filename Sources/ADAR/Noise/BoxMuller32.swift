#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Box–Muller in binary32 on eight pairs of Philox words (S8's lower-precision
/// option), branch-free SIMD without libm; Proofs/S8-binary32-noise.md derives
/// the error bound (`S8/B1` ln u, `S8/B2` sin/cos, `S8/B3` the normals).
///
/// - `ln u`, `u = (w + ½)·2⁻³²`: for `u < ¾`, `u = 2^e·m` with
///   `m ∈ [√½, √2)` and `ln m = 2·atanh((m − 1)/(m + 1))`; for `u ≥ ¾` the
///   distance to 1, `v = (~w + ½)·2⁻³²`, is formed from the integer so no
///   digits are lost, and `ln u = ln(1 − v) = 2·atanh(−v/(2 − v))`. Both
///   atanh arguments lie in `[−0.1716, 0.1716]`, so one odd polynomial serves.
/// - `θ = 2π·u₁`: the quadrant and the reduced angle `φ ∈ (−π/4, π/4)` come
///   from the integer `w₁` itself, so the reduction is exact.
///
/// Branches are bit-selects on all-ones/all-zeros masks (no `SIMDMask`);
/// on x86-64 the integer → float conversions are `cvtdq2ps` (the generic SIMD
/// initialiser is an out-of-line call, and lane loops vectorise only in
/// part) and the square root is `sqrtps` (`Float.squareRoot()` is a libm
/// call that keeps `errno`, so it does not vectorise).
public enum BoxMuller32 {
    public typealias Words = SIMD8<UInt32>
    public typealias Values = SIMD8<Float>

    /// The normals `(r·cos θ, r·sin θ)` of the word pairs `(w0, w1)`.
    @inlinable @inline(__always)
    public static func normals(_ w0: Words, _ w1: Words) -> (Values, Values) {
        let r = squareRoot(-2 * logUnit(w0))
        let (sine, cosine) = sinCosTurn(w1)
        return (r * cosine, r * sine)
    }

    /// `ln((w + ½)·2⁻³²)` in binary32.
    @inlinable @inline(__always)
    public static func logUnit(_ w: Words) -> Values {
        // All ones where w ≥ 0xC000_0000 (u ≥ ¾): bits 31 and 30 both set.
        let upper = Words(truncatingIfNeeded: SIMD8<Int32>(truncatingIfNeeded: w & (w &<< 1)) &>> 31)
        // t = u on the lower branch, t = v = 1 − u on the upper one; both
        // (z + ½)·2⁻³² with z < 0xC000_0000, rounded once.
        let t = halfUp(w ^ upper) * 0x1p-32
        // u = 2^e·m with m ∈ [√½, √2): shift the bits so that m ≥ √2 carries
        // into the exponent, then put the mantissa back above √½.
        let shifted = bits(t) &+ (0x3F80_0000 &- 0x3F35_04F3)
        let exponent = (SIMD8<Int32>(truncatingIfNeeded: shifted &>> 23) &- 127) & SIMD8<Int32>(truncatingIfNeeded: ~upper)
        let m = float((shifted & 0x007F_FFFF) &+ 0x3F35_04F3)
        // s = (m − 1)/(m + 1) (m − 1 is exact), or −v/(2 − v).
        let s = select(upper, -t, m - 1) / select(upper, 2 - t, m + 1)
        let e = float(exponent)
        return e * ln2High + (e * ln2Low + atanhTwice(s))
    }

    /// `(z + ½)` rounded once to binary32, for `z < 2³¹ + 2³⁰`: the high and
    /// low 16 bits convert exactly, so only the sum rounds.
    @inlinable @inline(__always)
    static func halfUp(_ z: Words) -> Values {
        let high = float(SIMD8<Int32>(truncatingIfNeeded: z &>> 16))
        let low = float(SIMD8<Int32>(truncatingIfNeeded: z & 0xFFFF))
        return high * 65536 + (low + 0.5)
    }

    /// ln 2 split so that `e·ln2High` is exact for every `|e| ≤ 2⁸`
    /// (ln2High has 16 significant bits).
    @inlinable static var ln2High: Float { 0.693_145_751_953_125 }
    @inlinable static var ln2Low: Float { 1.428_606_765_330_187e-06 }

    /// `2·atanh(s) = 2s(1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9 + …)` for `|s| ≤ 0.1716`;
    /// the omitted tail is below `2|s|¹¹/(11(1 − s²))` ≤ 7.2e-10.
    @inlinable @inline(__always)
    static func atanhTwice(_ s: Values) -> Values {
        let s2 = s * s
        var p = Values(repeating: 1.0 / 9)
        p = p * s2 + 1.0 / 7
        p = p * s2 + 1.0 / 5
        p = p * s2 + 1.0 / 3
        let twice = s + s
        return twice + twice * (s2 * p)
    }

    /// `(sin θ, cos θ)` for `θ = 2π·(w + ½)·2⁻³²`.
    @inlinable @inline(__always)
    public static func sinCosTurn(_ w: Words) -> (Values, Values) {
        // Round w to the nearest quarter turn: θ = q·π/2 + φ, exactly.
        let shifted = w &+ 0x2000_0000
        let quadrant = shifted &>> 30
        let offset = SIMD8<Int32>(truncatingIfNeeded: shifted & 0x3FFF_FFFF) &- 0x2000_0000
        // φ = 2π(offset + ½)·2⁻³² = (2·offset + 1)·π·2⁻³², |2·offset + 1| < 2³⁰.
        let phi = float(offset &+ offset &+ 1) * piTimes2ToMinus32
        let p2 = phi * phi
        // Taylor polynomials on |φ| < π/4: truncation below 1.8e-9 (sin) and 1.2e-10 (cos).
        var sp = Values(repeating: 1.0 / 362_880)
        sp = sp * p2 - 1.0 / 5040
        sp = sp * p2 + 1.0 / 120
        sp = sp * p2 - 1.0 / 6
        let sinPhi = phi + phi * (p2 * sp)
        var cp = Values(repeating: -1.0 / 3_628_800)
        cp = cp * p2 + 1.0 / 40320
        cp = cp * p2 - 1.0 / 720
        cp = cp * p2 + 1.0 / 24
        cp = cp * p2 - 0.5
        let cosPhi = 1 + p2 * cp
        // Rotate by the quadrant: q = 1 → (cos, −sin), 2 → (−sin, −cos), 3 → (−cos, sin).
        let odd = Words(repeating: 0) &- (quadrant & 1)
        let sine = select(odd, cosPhi, sinPhi), cosine = select(odd, sinPhi, cosPhi)
        let sineSign = (quadrant &>> 1) &<< 31
        let cosineSign = ((quadrant ^ (quadrant &>> 1)) & 1) &<< 31
        return (float(bits(sine) ^ sineSign), float(bits(cosine) ^ cosineSign))
    }

    /// π·2⁻³², π rounded to nearest binary32 (`Float.pi` rounds toward zero).
    @inlinable static var piTimes2ToMinus32: Float { 0x1.921FB6p-31 }

    /// `mask ? a : b` lane-wise, for masks of all ones or all zeros.
    @inlinable @inline(__always)
    static func select(_ mask: Words, _ a: Values, _ b: Values) -> Values {
        float((bits(a) & mask) | (bits(b) & ~mask))
    }

    /// `Float(x)` lane-wise, rounded to nearest.
    @inlinable @inline(__always)
    static func float(_ x: SIMD8<Int32>) -> Values {
        #if arch(x86_64)
        Values(lowHalf: _mm_cvtepi32_ps(unsafeBitCast(x.lowHalf, to: __m128i.self)),
               highHalf: _mm_cvtepi32_ps(unsafeBitCast(x.highHalf, to: __m128i.self)))
        #else
        var result = Values()
        for i in 0..<8 { result[i] = Float(x[i]) }
        return result
        #endif
    }

    /// Correctly rounded `√x` lane-wise.
    @inlinable @inline(__always)
    static func squareRoot(_ x: Values) -> Values {
        #if arch(x86_64)
        Values(lowHalf: _mm_sqrt_ps(x.lowHalf), highHalf: _mm_sqrt_ps(x.highHalf))
        #else
        x.squareRoot()
        #endif
    }

    @inlinable @inline(__always)
    static func bits(_ x: Values) -> Words { unsafeBitCast(x, to: Words.self) }

    @inlinable @inline(__always)
    static func float(_ x: Words) -> Values { unsafeBitCast(x, to: Values.self) }
}
