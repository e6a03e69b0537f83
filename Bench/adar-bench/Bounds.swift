import Dispatch
import ADARCore
@_spi(Kernels) import ADAR

/// The bounds a synthesis row cannot beat, each on all threads in chunks of rows as the synthesizer runs
/// them (eight per thread). A row's floor is the larger of the two: the bound rows do either job alone.
func boundChunks(rows: Int, threads: Int) -> Int { max(1, min(rows, threads * 8)) }

/// The noise-fill bound: B×d normals of S8 into a buffer.
func noiseFill(rows: Int, dimension d: Int, into buffer: UnsafeMutablePointer<Float>, threads: Int) {
    nonisolated(unsafe) let buffer = buffer
    let noise = GaussianNoise32(seed: 7, stream: 0)
    let chunks = boundChunks(rows: rows, threads: threads)
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        for row in chunkRange(chunk, of: chunks, count: rows) {
            noise.fill(row: UInt64(row), dimension: d, into: buffer + row * d)
        }
    }
}

/// The gather bound: every row reads the same vectors from the same tables as the synthesis (its user, its
/// positive and its M pool candidates, by the same index streams, prefetching the vectors of the row `ahead`
/// rows on, as the synthesizer does one row on) and stores one d-vector (x⁻'s store, here the positive), with no arithmetic and no noise:
/// the loads are only folded into registers (a vector add per eight floats) so that they are not removed, in
/// independent chains (four per vector, four across the row's vectors) so that the adds never wait on each
/// other and only the loads set the pace.
struct GatherRows: @unchecked Sendable {
    let userTable: UnsafePointer<Float>, itemTable: UnsafePointer<Float>
    let users: UnsafePointer<Int32>, positives: UnsafePointer<Int32>, pool: UnsafePointer<Int32>
    let rows: Int, dimension: Int, poolSize: Int
    let ahead: Int

    static let prefetchDistances = [1, 2, 4]

    /// Gathers every row on `threads` threads into `output` (B×d); returns the folded loads.
    func run(into output: UnsafeMutablePointer<Float>, threads: Int) -> Float {
        let chunks = boundChunks(rows: rows, threads: threads)
        let sinks = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: chunks)
        defer { sinks.deallocate() }
        nonisolated(unsafe) let (chunkSinks, output) = (sinks, output)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            chunkSinks[chunk] = gather(chunkRange(chunk, of: chunks, count: rows), into: output)
        }
        return (0..<chunks).reduce(0) { $0 + sinks[$1].sum() }
    }

    private func gather(_ chunkRows: Range<Int>, into output: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        var s0 = SIMD8<Float>(), s1 = s0, s2 = s0, s3 = s0
        for b in chunkRows.prefix(ahead) { prefetch(b) }
        for b in chunkRows {
            s0 += fold(user(b))
            var m = 0
            while m + 4 <= poolSize {
                s0 += fold(candidate(b, m)); s1 += fold(candidate(b, m + 1))
                s2 += fold(candidate(b, m + 2)); s3 += fold(candidate(b, m + 3))
                m += 4
            }
            while m < poolSize { s1 += fold(candidate(b, m)); m += 1 }
            if b + ahead < chunkRows.upperBound { prefetch(b + ahead) }
            (output + b * dimension).update(from: positive(b), count: dimension)
        }
        return (s0 + s1) + (s2 + s3)
    }

    @inline(__always)
    private func user(_ b: Int) -> UnsafePointer<Float> { userTable + Int(users[b]) * dimension }
    @inline(__always)
    private func positive(_ b: Int) -> UnsafePointer<Float> { itemTable + Int(positives[b]) * dimension }
    @inline(__always)
    private func candidate(_ b: Int, _ m: Int) -> UnsafePointer<Float> { itemTable + Int(pool[b * poolSize + m]) * dimension }

    @inline(__always)
    private func prefetch(_ b: Int) {
        Prefetch.floats(user(b), count: dimension)
        Prefetch.floats(positive(b), count: dimension)
        for m in 0..<poolSize { Prefetch.floats(candidate(b, m), count: dimension) }
    }

    @inline(__always)
    private func fold(_ v: UnsafePointer<Float>) -> SIMD8<Float> {
        var a = SIMD8<Float>(), b = a, c = a, e = a
        var k = 0
        while k + 32 <= dimension {
            a += Kernels32.load8(v + k); b += Kernels32.load8(v + k + 8)
            c += Kernels32.load8(v + k + 16); e += Kernels32.load8(v + k + 24)
            k += 32
        }
        while k + 8 <= dimension { a += Kernels32.load8(v + k); k += 8 }
        while k < dimension { a[0] += v[k]; k += 1 }
        return (a + b) + (c + e)
    }
}
