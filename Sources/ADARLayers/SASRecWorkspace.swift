/// Caller-owned activations of one SASRec forward/backward for up to
/// `sequences` sequences of the configuration's length; allocated once and
/// reused across batches. For ML-1M's defaults (`B = 128`, `L = 200`,
/// `d = 50`, 2 blocks, 1 head) about 170 MB in binary32, most of it the
/// attention weights `P` (`B·heads·L²` per block).
public final class SASRecWorkspace<S: LayerScalar>: @unchecked Sendable {
    public let configuration: SASRecConfiguration
    public let capacity: Int
    struct BlockBuffers {
        var attentionNormalised, attentionInput, feedForwardNormalised, feedForwardInput: UnsafeMutablePointer<S>
        var attentionDeviation, feedForwardDeviation: UnsafeMutablePointer<S>
        var attention: AttentionBuffers<S>
        var feedForward: FeedForwardBuffers<S>
    }
    var blocks: [BlockBuffers] = []
    /// The residual stream, a branch's output (or its gradient), a branch's input gradient, the stream's gradient.
    let stream, branch, branchGradient, streamGradient: UnsafeMutablePointer<S>
    let finalNormalised, finalDeviation: UnsafeMutablePointer<S>
    let embeddingMask: UnsafeMutablePointer<UInt8>
    /// First non-padding slot of each sequence (`L` when all padding).
    let starts: UnsafeMutablePointer<Int>
    /// `h`, the backbone's output after its final layer norm (`rows × d`).
    public let hidden: UnsafeMutablePointer<S>
    /// `∂loss/∂h` (`rows × d`), written by the loss, read by the backward.
    public let hiddenGradient: UnsafeMutablePointer<S>
    private var allocations: [UnsafeMutableRawPointer] = []

    public init(configuration c: SASRecConfiguration, sequences: Int) {
        configuration = c
        capacity = sequences
        let rows = sequences * c.length, d = c.dimension, squares = sequences * c.heads * c.length * c.length
        var allocations: [UnsafeMutableRawPointer] = []
        func values(_ count: Int) -> UnsafeMutablePointer<S> {
            let p = UnsafeMutablePointer<S>.allocate(capacity: Swift.max(count, 1))
            p.initialize(repeating: 0, count: Swift.max(count, 1))
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        func bytes(_ count: Int) -> UnsafeMutablePointer<UInt8> {
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: Swift.max(count, 1))
            p.initialize(repeating: 0, count: Swift.max(count, 1))
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        stream = values(rows * d); branch = values(rows * d); branchGradient = values(rows * d); streamGradient = values(rows * d)
        finalNormalised = values(rows * d); finalDeviation = values(rows)
        hidden = values(rows * d); hiddenGradient = values(rows * d)
        embeddingMask = bytes(rows * d)
        let startsPointer = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(sequences, 1))
        startsPointer.initialize(repeating: 0, count: Swift.max(sequences, 1))
        allocations.append(UnsafeMutableRawPointer(startsPointer))
        starts = startsPointer
        // Backward scratch shared by the blocks.
        let qkvGradient = values(rows * 3 * d), contextGradient = values(rows * d), hiddenScratch = values(rows * d)
        let scratch = values(LayerChunks.maximum * 2 * c.length * c.length)
        for _ in 0..<c.blocks {
            blocks.append(BlockBuffers(
                attentionNormalised: values(rows * d), attentionInput: values(rows * d),
                feedForwardNormalised: values(rows * d), feedForwardInput: values(rows * d),
                attentionDeviation: values(rows), feedForwardDeviation: values(rows),
                attention: AttentionBuffers(qkv: values(rows * 3 * d), qkvGradient: qkvGradient, probabilities: values(squares),
                                            context: values(rows * d), contextGradient: contextGradient, scratch: scratch,
                                            mask: bytes(c.dropout > 0 ? squares : 0)),
                feedForward: FeedForwardBuffers(preActivation: values(rows * d), hidden: values(rows * d),
                                                hiddenGradient: hiddenScratch, firstMask: bytes(c.dropout > 0 ? rows * d : 0),
                                                secondMask: bytes(c.dropout > 0 ? rows * d : 0))))
        }
        self.allocations = allocations
    }

    deinit { for p in allocations { p.deallocate() } }
}
