import Dispatch
import ADARCore

/// Parallel loops over a fixed number of contiguous chunks. The chunk count
/// never depends on the thread count and every output element is written by
/// exactly one chunk, so results are identical for any number of threads.
enum Parallel {
    static let chunkCount = 64

    /// Runs `body` on every chunk of `0 ..< count`; serially when `threads ≤ 1`.
    static func forEachChunk(count: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let chunks = Swift.max(1, Swift.min(chunkCount, count))
        if threads <= 1 || chunks == 1 {
            for chunk in 0..<chunks { body(chunkRange(chunk, of: chunks, count: count)) }
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks) { body(chunkRange($0, of: chunks, count: count)) }
        }
    }
}

/// Binary32 vector kernels on `d` contiguous values.
enum Vector {
    /// `⟨a, b⟩`, eight lanes at a time, the lanes summed in a fixed order.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var lanes = SIMD8<Float>()
        var k = 0
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        while k + 8 <= d {
            lanes += rawA.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            k += 8
        }
        var sum = lanes.sum()
        while k < d {
            sum += a[k] * b[k]
            k += 1
        }
        return sum
    }

    /// `y += s·x`.
    @inline(__always)
    static func axpy(_ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ d: Int) {
        for k in 0..<d { y[k] += s * x[k] }
    }
}
