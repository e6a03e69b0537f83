import Foundation

/// Mean and sample standard deviation (denominator `n − 1`).
public struct SampleSummary: Sendable, Equatable {
    public let count: Int
    public let mean: Double
    /// Sample variance `Σ(x − x̄)²/(n − 1)`; 0 for one value.
    public let variance: Double

    public init(_ values: [Double]) {
        precondition(!values.isEmpty)
        count = values.count
        let mean = values.reduce(0, +) / Double(values.count)
        self.mean = mean
        variance = values.count < 2 ? 0 : values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    }

    public var standardDeviation: Double { variance.squareRoot() }
}

/// Welch's two-sample t-test (unequal variances).
///
/// `t = (x̄_a − x̄_b)/√(s_a²/n_a + s_b²/n_b)`, Welch–Satterthwaite
/// `ν = (s_a²/n_a + s_b²/n_b)² / ((s_a²/n_a)²/(n_a − 1) + (s_b²/n_b)²/(n_b − 1))`,
/// two-sided `p = 2·P(T_ν > |t|)`. The Student-t tail is passed in (the
/// command line passes GSL's), so this module does not link GSL.
public struct WelchTest: Sendable, Equatable {
    public let t: Double
    public let degreesOfFreedom: Double
    public let pValue: Double

    /// Nil when either sample has fewer than two values or both variances are
    /// zero (the statistic is undefined).
    public init?(_ a: [Double], _ b: [Double], studentTUpperTail: (_ t: Double, _ degreesOfFreedom: Double) -> Double) {
        guard a.count >= 2, b.count >= 2 else { return nil }
        let x = SampleSummary(a), y = SampleSummary(b)
        let va = x.variance / Double(x.count), vb = y.variance / Double(y.count)
        guard va + vb > 0 else { return nil }
        t = (x.mean - y.mean) / (va + vb).squareRoot()
        degreesOfFreedom = (va + vb) * (va + vb) / (va * va / Double(x.count - 1) + vb * vb / Double(y.count - 1))
        pValue = min(1, 2 * studentTUpperTail(abs(t), degreesOfFreedom))
    }
}
