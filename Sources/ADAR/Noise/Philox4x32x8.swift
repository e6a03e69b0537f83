import ADARCore

/// Philox4x32-10 (S8) on eight counters at once: lane i of each word is
/// block i. Same rounds, multipliers and key schedule as `Philox4x32.block`.
@inlinable @inline(__always)
func philox8(
    _ c0: SIMD8<UInt32>, _ c1: SIMD8<UInt32>, _ c2: SIMD8<UInt32>, _ c3: SIMD8<UInt32>,
    key: SIMD2<UInt32>
) -> (SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>) {
    var x0 = c0, x1 = c1, x2 = c2, x3 = c3
    var k0 = key.x, k1 = key.y
    let m0 = SIMD8<UInt64>(repeating: UInt64(Philox4x32.multiplier0))
    let m1 = SIMD8<UInt64>(repeating: UInt64(Philox4x32.multiplier1))
    for _ in 0..<Philox4x32.rounds {
        let p0 = SIMD8<UInt64>(truncatingIfNeeded: x0) &* m0
        let p1 = SIMD8<UInt64>(truncatingIfNeeded: x2) &* m1
        let hi0 = SIMD8<UInt32>(truncatingIfNeeded: p0 &>> 32), lo0 = SIMD8<UInt32>(truncatingIfNeeded: p0)
        let hi1 = SIMD8<UInt32>(truncatingIfNeeded: p1 &>> 32), lo1 = SIMD8<UInt32>(truncatingIfNeeded: p1)
        x0 = hi1 ^ x1 ^ SIMD8(repeating: k0)
        x1 = lo1
        x2 = hi0 ^ x3 ^ SIMD8(repeating: k1)
        x3 = lo0
        k0 &+= Philox4x32.keyIncrement0
        k1 &+= Philox4x32.keyIncrement1
    }
    return (x0, x1, x2, x3)
}
