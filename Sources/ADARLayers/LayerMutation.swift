/// Planted bugs for the gradient checks' negative cases: each one changes a
/// forward pass only, so a checker that compares the backward pass with
/// numerical differentiation of the forward must reject it. Read once at the
/// top of each forward (before any parallel loop), so it applies to every
/// thread count.
package enum LayerMutation: Sendable, CaseIterable {
    /// The item embedding without its `√d` scale.
    case embeddingWithoutScale
    /// The causal mask lets query `p` see key `p + 1`.
    case causalMaskOffByOne
    /// LayerNorm's variance divided by `d − 1` instead of `d`.
    case layerNormUnbiasedVariance
    /// ReLU passes negative values through at a tenth (a leaky ReLU).
    case leakyFeedForward
    /// The loss's negative term with the wrong sign (`softplus(−s_j)`).
    case negativeTermSignFlipped

    @TaskLocal package static var active: LayerMutation?
}
