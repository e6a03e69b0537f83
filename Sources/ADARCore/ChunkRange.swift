/// Rows `chunk·count/chunks ..< (chunk+1)·count/chunks`: a balanced split of
/// `0 ..< count` into `chunks` contiguous, possibly empty, ranges. Parallel
/// loops use a chunk count that does not depend on the thread count, so their
/// results do not either.
@inlinable
public func chunkRange(_ chunk: Int, of chunks: Int, count: Int) -> Range<Int> {
    (chunk * count / chunks) ..< ((chunk + 1) * count / chunks)
}
