import ADARCore

/// Parallel loops over a fixed number of contiguous chunks. The chunk count
/// never depends on the thread count and every output element is written by
/// exactly one chunk, so results are identical for any number of threads.
enum Parallel {
    static let chunkCount = 64

    /// Runs `body` on every chunk of `0 ..< count`; serially when `threads ≤ 1`.
    static func forEachChunk(count: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let chunks = Swift.max(1, Swift.min(chunkCount, count))
        ADARCore.forEachChunk(chunks, threads: threads) { body(chunkRange($0, of: chunks, count: count)) }
    }
}
