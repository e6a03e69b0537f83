#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif
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
        while k + 32 <= d {
            Self.eightBlocks(blocks, rowLow, rowHigh, streams, key: key, into: out + k)
            blocks &+= 8
            k += 32
        }
        if k < d {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { tail in
                Self.eightBlocks(blocks, rowLow, rowHigh, streams, key: key, into: tail.baseAddress!)
                (out + k).update(from: tail.baseAddress!, count: d - k)
            }
        }
    }

    /// The 32 components of eight consecutive blocks, in S8's order (block
    /// i holds components 4i … 4i+3): Box–Muller works lane-major (lane i =
    /// block i), and a 4 × 4 transpose per half interleaves the lanes.
    @inlinable @inline(__always)
    static func eightBlocks(
        _ blocks: SIMD8<UInt32>, _ rowLow: SIMD8<UInt32>, _ rowHigh: SIMD8<UInt32>, _ streams: SIMD8<UInt32>,
        key: SIMD2<UInt32>, into out: UnsafeMutablePointer<Float>
    ) {
        let (w0, w1, w2, w3) = philox8(blocks, rowLow, rowHigh, streams, key: key)
        let (n0, n1) = BoxMuller32.normals(w0, w1)
        let (n2, n3) = BoxMuller32.normals(w2, w3)
        store(transposing: n0.lowHalf, n1.lowHalf, n2.lowHalf, n3.lowHalf, into: out)
        store(transposing: n0.highHalf, n1.highHalf, n2.highHalf, n3.highHalf, into: out + 16)
    }

    /// Stores `(a0 b0 c0 d0 a1 b1 c1 d1 …)`. On x86-64 with explicit
    /// shuffles: lane extractions would let LLVM scalarise the Box–Muller
    /// arithmetic that feeds them.
    @inlinable @inline(__always)
    static func store(
        transposing a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>,
        into out: UnsafeMutablePointer<Float>
    ) {
        let raw = UnsafeMutableRawPointer(out)
        #if arch(x86_64)
        let ab01 = _mm_unpacklo_ps(a, b), cd01 = _mm_unpacklo_ps(c, d)
        let ab23 = _mm_unpackhi_ps(a, b), cd23 = _mm_unpackhi_ps(c, d)
        raw.storeBytes(of: _mm_movelh_ps(ab01, cd01), toByteOffset: 0, as: SIMD4<Float>.self)
        raw.storeBytes(of: _mm_movehl_ps(cd01, ab01), toByteOffset: 16, as: SIMD4<Float>.self)
        raw.storeBytes(of: _mm_movelh_ps(ab23, cd23), toByteOffset: 32, as: SIMD4<Float>.self)
        raw.storeBytes(of: _mm_movehl_ps(cd23, ab23), toByteOffset: 48, as: SIMD4<Float>.self)
        #else
        raw.storeBytes(of: SIMD4(a[0], b[0], c[0], d[0]), toByteOffset: 0, as: SIMD4<Float>.self)
        raw.storeBytes(of: SIMD4(a[1], b[1], c[1], d[1]), toByteOffset: 16, as: SIMD4<Float>.self)
        raw.storeBytes(of: SIMD4(a[2], b[2], c[2], d[2]), toByteOffset: 32, as: SIMD4<Float>.self)
        raw.storeBytes(of: SIMD4(a[3], b[3], c[3], d[3]), toByteOffset: 48, as: SIMD4<Float>.self)
        #endif
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
