/// Philox4x32-10 (Salmon et al., SC'11), exactly as spec S8 fixes it.
public enum Philox4x32 {
    public static let multiplier0: UInt32 = 0xD251_1F53
    public static let multiplier1: UInt32 = 0xCD9E_8D57
    public static let keyIncrement0: UInt32 = 0x9E37_79B9
    public static let keyIncrement1: UInt32 = 0xBB67_AE85
    public static let rounds = 10

    /// The 4×32-bit output block for a counter and a key.
    @inlinable
    public static func block(
        counter: SIMD4<UInt32>, key: SIMD2<UInt32>
    ) -> SIMD4<UInt32> {
        var c = counter
        var k0 = key.x, k1 = key.y
        for _ in 0..<rounds {
            let p0 = UInt64(multiplier0) * UInt64(c.x)
            let p1 = UInt64(multiplier1) * UInt64(c.z)
            c = SIMD4(
                UInt32(truncatingIfNeeded: p1 >> 32) ^ c.y ^ k0,
                UInt32(truncatingIfNeeded: p1),
                UInt32(truncatingIfNeeded: p0 >> 32) ^ c.w ^ k1,
                UInt32(truncatingIfNeeded: p0)
            )
            k0 &+= keyIncrement0
            k1 &+= keyIncrement1
        }
        return c
    }
}
