import ADARCore

/// Inverted dropout (`x/(1 − rate)` kept, `0` dropped) whose mask is a pure
/// function of `(seed, epoch, global row, site, component)`, so reruns and
/// any thread count draw the same mask.
///
/// Component `k` of global row `b` at site `σ` in 1-based epoch `E` is kept
/// iff `w ≥ ⌊rate·2³²⌉`, where `w` is lane `k mod 4` of Philox4x32-10 (S8)
/// on counter `(⌊k/4⌋, b mod 2³², E, 0xD000_0000 + σ)` with S8's key
/// `(low32(seed), high32(seed))`. The batch enters through the global row
/// `b = s·L + p` (S10: `s` is the sequence's place in the epoch's order).
/// Stream words `0xD000_0000 …` are used by nothing else; τ's training
/// streams `2³¹ + E` reach them only for `E ≥ 0x5000_0000`.
/// Sites: 0 the embedding; block `i` uses `1 + 3i` (attention weights),
/// `2 + 3i` and `3 + 3i` (the feed-forward's two dropouts).
public struct Dropout: Sendable {
    public let seed: UInt64
    public let epoch: Int
    public let rate: Double
    /// The global row of the batch's row 0.
    public let rowOffset: UInt64
    let threshold: UInt32

    /// `rate` in `[0, 1)`; `epoch` in `1 … 2³² − 1`.
    public init(seed: UInt64, epoch: Int, rate: Double, rowOffset: UInt64) throws(ADARError) {
        guard rate.isFinite, rate >= 0, rate < 1 else {
            throw .invalidConfiguration(field: "dropout", reason: "must be in [0, 1), got \(rate)")
        }
        guard epoch >= 1, epoch <= Int(UInt32.max) else {
            throw .invalidConfiguration(field: "epoch", reason: "must be in 1…2³² − 1, got \(epoch)")
        }
        self.seed = seed
        self.epoch = epoch
        self.rate = rate
        self.rowOffset = rowOffset
        threshold = UInt32(Swift.min((rate * 4_294_967_296).rounded(), 4_294_967_295))
    }

    /// No dropout (evaluation, or rate 0).
    public static let none = try! Dropout(seed: 0, epoch: 1, rate: 0, rowOffset: 0)

    public var isActive: Bool { threshold > 0 }

    /// `1/(1 − rate)`, formed in binary64 and rounded once.
    @_specialize(where S == Float)
    func scale<S: LayerScalar>(_: S.Type = S.self) -> S { S(1 / (1 - rate)) }

    public static let streamBase: UInt32 = 0xD000_0000

    /// Keep (1) / drop (0) for `components` of batch row `row` at `site`;
    /// component `k` goes to `mask[k − components.lowerBound]`.
    public func fillMask(site: Int, row: Int, components: Range<Int>, into mask: UnsafeMutablePointer<UInt8>) {
        guard !components.isEmpty else { return }
        let key = SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        let b = UInt32(truncatingIfNeeded: rowOffset &+ UInt64(row))
        let stream = Self.streamBase &+ UInt32(site)
        let (lower, upper) = (components.lowerBound, components.upperBound)
        for q in lower / 4 ... (upper - 1) / 4 {
            let w = Philox4x32.block(counter: SIMD4(UInt32(q), b, UInt32(epoch), stream), key: key)
            let keep = (w.x >= threshold ? 1 : 0, w.y >= threshold ? 1 : 0, w.z >= threshold ? 1 : 0, w.w >= threshold ? 1 : 0)
            let k = 4 * q
            if k >= lower && k + 4 <= upper {
                let out = mask + (k - lower)
                out[0] = UInt8(keep.0); out[1] = UInt8(keep.1); out[2] = UInt8(keep.2); out[3] = UInt8(keep.3)
            } else {
                for (lane, kept) in [keep.0, keep.1, keep.2, keep.3].enumerated() where components.contains(k + lane) {
                    mask[k + lane - lower] = UInt8(kept)
                }
            }
        }
    }

    /// In place on `rows × width` values (batch rows `0 ..< rows`), the mask into `mask`.
    @_specialize(where S == Float)
    func forward<S: LayerScalar>(
        _ x: UnsafeMutablePointer<S>, rows: Int, width: Int, site: Int, mask: UnsafeMutablePointer<UInt8>, threads: Int
    ) {
        let scale: S = scale()
        nonisolated(unsafe) let (x, mask) = (x, mask)
        let chunks = LayerChunks.count(rows)
        forEachChunk(chunks, threads: threads) { chunk in
            for r in chunkRange(chunk, of: chunks, count: rows) {
                fillMask(site: site, row: r, components: 0 ..< width, into: mask + r * width)
                for k in r * width ..< (r + 1) * width { x[k] = mask[k] != 0 ? x[k] * scale : 0 }
            }
        }
    }

    /// The backward of `forward`, in place on the gradient.
    @_specialize(where S == Float)
    func backward<S: LayerScalar>(_ dx: UnsafeMutablePointer<S>, count: Int, mask: UnsafePointer<UInt8>) {
        let scale: S = scale()
        for k in 0..<count { dx[k] = mask[k] != 0 ? dx[k] * scale : 0 }
    }
}
