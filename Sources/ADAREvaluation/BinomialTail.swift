import GSLOracle

/// How surprising "k of n" is when each of n independent trials succeeds with probability p: the
/// report's test of S9's calibration pooled over final runs (docs/REPORT.md, "Across cells").
public enum BinomialTail {
    /// `P(X ≥ k)` for `X ~ Binomial(n, p)`: 1 for k = 0, else GSL's `P(X > k − 1)`.
    /// Requires `0 ≤ k ≤ n` and `0 ≤ p ≤ 1`.
    public static func atLeast(_ k: Int, of n: Int, probability p: Double) -> Double {
        precondition(0 <= k && k <= n && (0...1).contains(p), "BinomialTail.atLeast needs 0 ≤ k ≤ n and p in [0, 1]")
        return k == 0 ? 1 : GSL.binomialUpperTail(k - 1, probability: p, trials: n)
    }
}
