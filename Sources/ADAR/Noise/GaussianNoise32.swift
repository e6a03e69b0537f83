import ADARCore

/// S8's counter-based normals in binary32: the same Philox4x32-10 words as
/// `GaussianNoise`, turned into normals by `BoxMuller32`, eight Philox blocks
/// (32 components) at a time.
public struct GaussianNoise32: Sendable {
    @usableFromInline let key: SIMD2<UInt32>
    @usableFromInline let stream: UInt32

    @inlinable
    public init(seed: UInt64, stream: UInt32) {
        key = SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        self.stream = stream
    }

    /// Writes components `0 ..< d` of row `row` to `out[0 ..< d]`.
    @inlinable
    public func fill(row: UInt64, dimension d: Int, into out: UnsafeMutablePointer<Float>) {
        let rowLow = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: row))
        let rowHigh = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: row >> 32))
        let streams = SIMD8<UInt32>(repeating: stream)
        var blocks = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
        var k = 0
        while k < d {
            let (w0, w1, w2, w3) = philox8(blocks, rowLow, rowHigh, streams, key: key)
            let (n0, n1) = BoxMuller32.normals(w0, w1)
            let (n2, n3) = BoxMuller32.normals(w2, w3)
            // Block i holds components 4i … 4i+3 (S8: block k/4, lane k%4).
            if k + 32 <= d {
                for i in 0..<8 {
                    let base = out + k + 4 * i
                    base[0] = n0[i]; base[1] = n1[i]; base[2] = n2[i]; base[3] = n3[i]
                }
            } else {
                for i in 0..<8 {
                    let base = k + 4 * i
                    if base < d { out[base] = n0[i] }
                    if base + 1 < d { out[base + 1] = n1[i] }
                    if base + 2 < d { out[base + 2] = n2[i] }
                    if base + 3 < d { out[base + 3] = n3[i] }
                }
            }
            blocks &+= 8
            k += 32
        }
    }

    /// Component `k` of row `row` (one Philox block; for tests and ports).
    public func normal(row: UInt64, component k: Int) -> Float {
        let q = UInt32(k / 4)
        let counter = SIMD4(q, UInt32(truncatingIfNeeded: row), UInt32(truncatingIfNeeded: row >> 32), stream)
        let w = Philox4x32.block(counter: counter, key: key)
        let (n0, n1) = BoxMuller32.normals(SIMD8(repeating: w.x), SIMD8(repeating: w.y))
        let (n2, n3) = BoxMuller32.normals(SIMD8(repeating: w.z), SIMD8(repeating: w.w))
        switch k % 4 {
        case 0: return n0[0]
        case 1: return n1[0]
        case 2: return n2[0]
        default: return n3[0]
        }
    }
}
