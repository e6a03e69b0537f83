import Dispatch

/// Rows `chunk·count/chunks ..< (chunk+1)·count/chunks`: a balanced split of
/// `0 ..< count` into `chunks` contiguous, possibly empty, ranges. Parallel
/// loops use a chunk count that does not depend on the thread count, so their
/// results do not either.
@inlinable
public func chunkRange(_ chunk: Int, of chunks: Int, count: Int) -> Range<Int> {
    (chunk * count / chunks) ..< ((chunk + 1) * count / chunks)
}

/// Runs `body(chunk)` for every chunk in `0 ..< chunks`: in order on the
/// calling thread when `threads ≤ 1` or there is a single chunk, otherwise
/// concurrently. Each chunk writes its own outputs, so which thread ran it
/// cannot change the result.
@inlinable
public func forEachChunk(_ chunks: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    if threads <= 1 || chunks <= 1 {
        for chunk in 0..<chunks { body(chunk) }
    } else {
        DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
    }
}
