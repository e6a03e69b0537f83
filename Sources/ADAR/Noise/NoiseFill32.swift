import ADARCore

/// S8 noise in binary32: the normals of one row, eight Philox blocks
/// (32 components) at a time.
@usableFromInline
struct NoiseFill32 {
    @usableFromInline let key: SIMD2<UInt32>
    @usableFromInline let stream: UInt32

    @inlinable
    init(seed: UInt64, stream: UInt32) {
        key = SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        self.stream = stream
    }

    /// Writes components `0 ..< d` of row `row` into `out` (room for
    /// `d` rounded up to a multiple of 32).
    @inlinable
    func fill(row: UInt64, dimension d: Int, into out: UnsafeMutablePointer<Float>) {
        let rowLow = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: row))
        let rowHigh = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: row >> 32))
        let streams = SIMD8<UInt32>(repeating: stream)
        let lanes = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
        var firstBlock: UInt32 = 0
        var k = 0
        while k < d {
            let blocks = lanes &+ firstBlock
            let (w0, w1, w2, w3) = philox8(blocks, rowLow, rowHigh, streams, key: key)
            let (n0, n1) = BoxMuller32.normals(w0, w1)
            let (n2, n3) = BoxMuller32.normals(w2, w3)
            // Block i holds components 4i … 4i+3 (S8: lane k % 4).
            for i in 0..<8 {
                let base = out + k + 4 * i
                base[0] = n0[i]; base[1] = n1[i]; base[2] = n2[i]; base[3] = n3[i]
            }
            firstBlock &+= 8
            k += 32
        }
    }

    /// Room `fill` needs for `d` components.
    @inlinable
    static func capacity(dimension d: Int) -> Int { (d + 31) / 32 * 32 }
}
