import ADARCore

/// SASRec's point-wise feed-forward network, `F = drop₂(W₂·drop₁(ReLU(W₁·x + b₁)) + b₂)`
/// row by row, both layers `d → d` (SASRec.pytorch's two `Conv1d(d, d, 1)`;
/// its `relu(dropout₁(·))` equals `dropout₁(relu(·))` since both are
/// positively homogeneous). The residual is the block's.
///
/// Cost: `4·rows·d²` flops forward, twice that backward. Keeps `Z₁ = W₁·x + b₁`,
/// `H = drop₁(ReLU(Z₁))` and both dropout masks for the backward.
public struct PointwiseFeedForward: Sendable {
    public let first: Linear
    public let second: Linear

    public init(dimension: Int, at offset: Int) {
        first = Linear(inputs: dimension, outputs: dimension, at: offset)
        second = Linear(inputs: dimension, outputs: dimension, at: offset + first.parameterCount)
    }

    public var parameterCount: Int { first.parameterCount + second.parameterCount }

    @_specialize(where S == Float)
    func forward<S: LayerScalar>(
        _ x: UnsafePointer<S>, rows: Int, parameters p: UnsafePointer<S>, buffers w: FeedForwardBuffers<S>,
        dropout: Dropout, sites: (Int, Int), into out: UnsafeMutablePointer<S>, threads: Int
    ) {
        let width = first.outputs
        let slope: S = LayerMutation.active == .leakyFeedForward ? 0.1 : 0
        first.forward(x, rows: rows, parameters: p, into: w.preActivation, threads: threads)
        for k in 0 ..< rows * width {
            let z = w.preActivation[k]
            w.hidden[k] = z > 0 ? z : slope * z
        }
        if dropout.isActive { dropout.forward(w.hidden, rows: rows, width: width, site: sites.0, mask: w.firstMask, threads: threads) }
        second.forward(w.hidden, rows: rows, parameters: p, into: out, threads: threads)
        if dropout.isActive { dropout.forward(out, rows: rows, width: second.outputs, site: sites.1, mask: w.secondMask, threads: threads) }
    }

    /// Given `dF` (overwritten as scratch): the parameters' gradients
    /// (overwritten) and `dx` into `inputGradient` (overwritten).
    @_specialize(where S == Float)
    func backward<S: LayerScalar>(
        _ x: UnsafePointer<S>, outputGradient dOut: UnsafeMutablePointer<S>, rows: Int, parameters p: UnsafePointer<S>,
        buffers w: FeedForwardBuffers<S>, dropout: Dropout, gradient g: UnsafeMutablePointer<S>,
        inputGradient dx: UnsafeMutablePointer<S>, threads: Int
    ) {
        let width = first.outputs
        if dropout.isActive { dropout.backward(dOut, count: rows * second.outputs, mask: w.secondMask) }
        second.backward(w.hidden, outputGradient: dOut, rows: rows, parameters: p, gradient: g,
                        inputGradient: w.hiddenGradient, threads: threads)
        if dropout.isActive { dropout.backward(w.hiddenGradient, count: rows * width, mask: w.firstMask) }
        for k in 0 ..< rows * width where !(w.preActivation[k] > 0) { w.hiddenGradient[k] = 0 }
        first.backward(x, outputGradient: w.hiddenGradient, rows: rows, parameters: p, gradient: g, inputGradient: dx,
                       threads: threads)
    }
}

/// Caller-owned buffers of one feed-forward layer (see `SASRecWorkspace`).
struct FeedForwardBuffers<S: LayerScalar>: @unchecked Sendable {
    var preActivation, hidden, hiddenGradient: UnsafeMutablePointer<S>
    var firstMask, secondMask: UnsafeMutablePointer<UInt8>
}
