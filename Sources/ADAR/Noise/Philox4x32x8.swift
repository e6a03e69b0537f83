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
    var x0 = c0, x1 = c1, x2 = c2, x3 = c3
    var k0 = key.x, k1 = key.y
    for _ in 0..<10 {
        let p0 = SIMD8<UInt64>(truncatingIfNeeded: x0) &* 0xD251_1F53
        let p1 = SIMD8<UInt64>(truncatingIfNeeded: x2) &* 0xCD9E_8D57
        x0 = SIMD8<UInt32>(truncatingIfNeeded: p1 &>> 32) ^ x1 ^ SIMD8(repeating: k0)
        x1 = SIMD8<UInt32>(truncatingIfNeeded: p1)
        x2 = SIMD8<UInt32>(truncatingIfNeeded: p0 &>> 32) ^ x3 ^ SIMD8(repeating: k1)
        x3 = SIMD8<UInt32>(truncatingIfNeeded: p0)
        k0 &+= 0x9E37_79B9
        k1 &+= 0xBB67_AE85
    }
    return (x0, x1, x2, x3)
}
