#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Philox4x32-10 (S8) on eight counters at once: lane i of each word is
/// block i. Same rounds, multipliers and key schedule as `Philox4x32.block`;
/// the constants are literals here (S8 fixes them) so that the optimizer sees
/// them — `Philox4x32`'s are resilient `static let`s of another module, read
/// through accessors. `S8/B3`'s tests check the words against `Philox4x32.block`.
@inlinable @inline(__always)
func philox8(
    _ c0: SIMD8<UInt32>, _ c1: SIMD8<UInt32>, _ c2: SIMD8<UInt32>, _ c3: SIMD8<UInt32>,
    key: SIMD2<UInt32>
) -> (SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>) {
    let low = philox4(c0.lowHalf, c1.lowHalf, c2.lowHalf, c3.lowHalf, key: key)
    let high = philox4(c0.highHalf, c1.highHalf, c2.highHalf, c3.highHalf, key: key)
    return (SIMD8(lowHalf: low.0, highHalf: high.0), SIMD8(lowHalf: low.1, highHalf: high.1),
            SIMD8(lowHalf: low.2, highHalf: high.2), SIMD8(lowHalf: low.3, highHalf: high.3))
}

/// Four blocks. On x86-64 each word lives in the low half of a 64-bit lane
/// (two blocks per register) and only low halves are ever read: the
/// 32 × 32 → 64 product is one `pmuludq`, its high word one shift, and its
/// low word the product itself (the bits above it are never used). Written
/// with intrinsics because LLVM narrows the portable form and re-widens it
/// every round.
@inlinable @inline(__always)
func philox4(
    _ c0: SIMD4<UInt32>, _ c1: SIMD4<UInt32>, _ c2: SIMD4<UInt32>, _ c3: SIMD4<UInt32>,
    key: SIMD2<UInt32>
) -> (SIMD4<UInt32>, SIMD4<UInt32>, SIMD4<UInt32>, SIMD4<UInt32>) {
    #if arch(x86_64)
    typealias Pair = __m128i
    let zero = _mm_setzero_si128()
    func pairs(_ c: SIMD4<UInt32>) -> (Pair, Pair) {
        let v = unsafeBitCast(c, to: Pair.self)
        return (_mm_unpacklo_epi32(v, zero), _mm_unpackhi_epi32(v, zero))
    }
    var (x0a, x0b) = pairs(c0), (x1a, x1b) = pairs(c1), (x2a, x2b) = pairs(c2), (x3a, x3b) = pairs(c3)
    let m0 = _mm_set1_epi64x(0xD251_1F53), m1 = _mm_set1_epi64x(0xCD9E_8D57)
    var k0 = key.x, k1 = key.y
    for _ in 0..<10 {
        let key0 = _mm_set1_epi32(Int32(bitPattern: k0)), key1 = _mm_set1_epi32(Int32(bitPattern: k1))
        let p0a = _mm_mul_epu32(x0a, m0), p0b = _mm_mul_epu32(x0b, m0)
        let p1a = _mm_mul_epu32(x2a, m1), p1b = _mm_mul_epu32(x2b, m1)
        x0a = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi64(p1a, 32), x1a), key0)
        x0b = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi64(p1b, 32), x1b), key0)
        x2a = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi64(p0a, 32), x3a), key1)
        x2b = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi64(p0b, 32), x3b), key1)
        x1a = p1a; x1b = p1b
        x3a = p0a; x3b = p0b
        k0 &+= 0x9E37_79B9
        k1 &+= 0xBB67_AE85
    }
    func words(_ a: Pair, _ b: Pair) -> SIMD4<UInt32> {
        SIMD4(truncatingIfNeeded: SIMD4<UInt64>(lowHalf: unsafeBitCast(a, to: SIMD2<UInt64>.self),
                                                highHalf: unsafeBitCast(b, to: SIMD2<UInt64>.self)))
    }
    return (words(x0a, x0b), words(x1a, x1b), words(x2a, x2b), words(x3a, x3b))
    #else
    return philox4Portable(c0, c1, c2, c3, key: key)
    #endif
}

/// `philox4` in portable SIMD.
@inlinable @inline(__always)
func philox4Portable(
    _ c0: SIMD4<UInt32>, _ c1: SIMD4<UInt32>, _ c2: SIMD4<UInt32>, _ c3: SIMD4<UInt32>,
    key: SIMD2<UInt32>
) -> (SIMD4<UInt32>, SIMD4<UInt32>, SIMD4<UInt32>, SIMD4<UInt32>) {
    var x0 = SIMD4<UInt64>(truncatingIfNeeded: c0), x1 = SIMD4<UInt64>(truncatingIfNeeded: c1)
    var x2 = SIMD4<UInt64>(truncatingIfNeeded: c2), x3 = SIMD4<UInt64>(truncatingIfNeeded: c3)
    var k0 = key.x, k1 = key.y
    for _ in 0..<10 {
        let p0 = (x0 & 0xFFFF_FFFF) &* 0xD251_1F53
        let p1 = (x2 & 0xFFFF_FFFF) &* 0xCD9E_8D57
        x0 = (p1 &>> 32) ^ x1 ^ SIMD4(repeating: UInt64(k0))
        x1 = p1
        x2 = (p0 &>> 32) ^ x3 ^ SIMD4(repeating: UInt64(k1))
        x3 = p0
        k0 &+= 0x9E37_79B9
        k1 &+= 0xBB67_AE85
    }
    return (SIMD4(truncatingIfNeeded: x0), SIMD4(truncatingIfNeeded: x1),
            SIMD4(truncatingIfNeeded: x2), SIMD4(truncatingIfNeeded: x3))
}
