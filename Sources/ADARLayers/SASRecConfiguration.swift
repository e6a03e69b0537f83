import ADARCore

/// The shape of a SASRec backbone (Kang & McAuley 2018, as SASRec.pytorch
/// builds it): items `1…items` (0 is padding), dimension `d`, sequence
/// length `L`, `blocks` pre-norm transformer blocks of `heads`-head causal
/// self-attention and a point-wise feed-forward network, dropout `rate`.
/// Defaults are SASRec's for ML-1M: `d = 50`, `L = 200`, 2 blocks, 1 head, 0.2.
public struct SASRecConfiguration: Equatable, Sendable {
    public var items: Int
    public var dimension: Int
    public var length: Int
    public var blocks: Int
    public var heads: Int
    public var dropout: Double

    public init(items: Int, dimension: Int = 50, length: Int = 200, blocks: Int = 2, heads: Int = 1, dropout: Double = 0.2)
        throws(ADARError)
    {
        guard items >= 1 else { throw .invalidConfiguration(field: "items", reason: "must be ≥ 1, got \(items)") }
        guard dimension >= 1 else { throw .invalidConfiguration(field: "dimension", reason: "must be ≥ 1, got \(dimension)") }
        guard length >= 1 else { throw .invalidConfiguration(field: "length", reason: "must be ≥ 1, got \(length)") }
        guard blocks >= 0 else { throw .invalidConfiguration(field: "blocks", reason: "must be ≥ 0, got \(blocks)") }
        guard heads >= 1, dimension % heads == 0 else {
            throw .invalidConfiguration(field: "heads", reason: "must be ≥ 1 and divide the dimension \(dimension), got \(heads)")
        }
        guard dropout.isFinite, dropout >= 0, dropout < 1 else {
            throw .invalidConfiguration(field: "dropout", reason: "must be in [0, 1), got \(dropout)")
        }
        try ADARLimits.check("dimension", dimension, atMost: ADARLimits.maxDimension)
        try ADARLimits.checkArrayCount("(items + 1 + L)·d", items + 1 + length, dimension)
        try ADARLimits.checkArrayCount("L·L", length, length)
        self.items = items
        self.dimension = dimension
        self.length = length
        self.blocks = blocks
        self.heads = heads
        self.dropout = dropout
    }
}

/// Where each layer's parameters sit in the model's one flat array:
/// `E | P`, then per block `LN₁ | attention (W_in | b_in | W_out | b_out) | LN₂ | FFN (W₁ | b₁ | W₂ | b₂)`,
/// then the final `LN`. Gradients and Adam's moments share the layout.
public struct SASRecLayout: Sendable {
    public struct Block: Sendable {
        public let attentionNorm: LayerNorm
        public let attention: CausalSelfAttention
        public let feedForwardNorm: LayerNorm
        public let feedForward: PointwiseFeedForward
    }

    public let embedding: Embedding
    public let blocks: [Block]
    public let finalNorm: LayerNorm
    public let count: Int

    public init(_ c: SASRecConfiguration) {
        let d = c.dimension
        embedding = Embedding(items: c.items, dimension: d, length: c.length, at: 0)
        var offset = embedding.parameterCount
        var blocks = [Block]()
        for _ in 0..<c.blocks {
            let attentionNorm = LayerNorm(dimension: d, at: offset)
            let attention = CausalSelfAttention(dimension: d, heads: c.heads, at: offset + attentionNorm.parameterCount)
            let feedForwardNorm = LayerNorm(dimension: d, at: attention.inputProjection.weight + attention.parameterCount)
            let feedForward = PointwiseFeedForward(dimension: d, at: feedForwardNorm.gain + feedForwardNorm.parameterCount)
            blocks.append(Block(attentionNorm: attentionNorm, attention: attention, feedForwardNorm: feedForwardNorm,
                                feedForward: feedForward))
            offset = feedForward.first.weight + feedForward.parameterCount
        }
        self.blocks = blocks
        finalNorm = LayerNorm(dimension: d, at: offset)
        count = offset + finalNorm.parameterCount
    }
}
