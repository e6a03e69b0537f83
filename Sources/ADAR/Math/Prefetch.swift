/// LLVM's target-independent prefetch (`prefetcht0` on x86-64, `prfm` on
/// arm64, nothing where the target has none). Declared directly because
/// `_mm_prefetch` is a C macro that Swift cannot import, and `_m_prefetch`
/// is a builtin Swift imports as an empty call. The last three arguments
/// must be constants: read (0), keep in all cache levels (3), data (1).
@_silgen_name("llvm.prefetch.p0")
private func llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ cacheType: Int32)

/// `package`: the bench's gather bound prefetches exactly as the synthesis does.
package enum Prefetch {
    /// Asks for every cache line of `p[0 ..< count]`; never faults, and does
    /// not change any result.
    @inline(__always)
    package static func floats(_ p: UnsafePointer<Float>, count: Int) {
        let start = UnsafeRawPointer(p), bytes = count * MemoryLayout<Float>.stride
        var offset = 0
        while offset < bytes {
            llvmPrefetch(start + offset, 0, 3, 1)
            offset += 64
        }
        // The line holding the last byte, when `p` is not line-aligned.
        llvmPrefetch(start + (bytes - 1), 0, 3, 1)
    }
}
