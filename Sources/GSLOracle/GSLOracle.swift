import CGSL

/// A GSL routine refused or failed; GSL's abort handler is off, so its
/// status codes come back as this error instead of killing the process.
public struct GSLError: Error, CustomStringConvertible, Sendable {
    public let routine: String
    public let status: Int32
    public var description: String {
        "\(routine) failed: \(String(cString: gsl_strerror(status))) (GSL status \(status))"
    }
}

/// The independent numerical oracle: a small Swift API over GSL. It checks
/// the derivations and the implementations; it is never the implementation
/// under test, and the implementations never import it. The one exception is
/// ADAREvaluation, whose final-table statistics take their Student-t tail and
/// quantile from here (its tests check them against values computed by scipy).
public enum GSL {
    /// Switched off once, before any GSL call (GSL's default handler aborts).
    private static let handlerOff: Void = { _ = gsl_set_error_handler_off() }()

    static func prepare() { _ = handlerOff }

    static func check(_ status: Int32, _ routine: String) throws(GSLError) {
        guard status == Int32(GSL_SUCCESS) else { throw GSLError(routine: routine, status: status) }
    }
}

// MARK: - Distributions

extension GSL {
    /// `Φ(x)`, `gsl_cdf_ugaussian_P`.
    public static func normalCDF(_ x: Double) -> Double { prepare(); return gsl_cdf_ugaussian_P(x) }
    /// `1 − Φ(x)`, `gsl_cdf_ugaussian_Q`.
    public static func normalUpperTail(_ x: Double) -> Double { prepare(); return gsl_cdf_ugaussian_Q(x) }
    /// `Φ⁻¹(p)`, `gsl_cdf_ugaussian_Pinv`.
    public static func normalQuantile(_ p: Double) -> Double { prepare(); return gsl_cdf_ugaussian_Pinv(p) }
    /// `P(χ²_ν > x)`, `gsl_cdf_chisq_Q`.
    public static func chiSquareUpperTail(_ x: Double, degreesOfFreedom nu: Double) -> Double {
        prepare(); return gsl_cdf_chisq_Q(x, nu)
    }
    /// `P(X ≤ k)` for `X ~ Binomial(n, p)`, `gsl_cdf_binomial_P`.
    public static func binomialLowerTail(_ k: Int, probability p: Double, trials n: Int) -> Double {
        prepare(); return gsl_cdf_binomial_P(UInt32(k), p, UInt32(n))
    }
    /// `P(X > k)` for `X ~ Binomial(n, p)`, `gsl_cdf_binomial_Q`.
    public static func binomialUpperTail(_ k: Int, probability p: Double, trials n: Int) -> Double {
        prepare(); return gsl_cdf_binomial_Q(UInt32(k), p, UInt32(n))
    }
    /// Two-sided binomial test p-value, `min(1, 2·min(P(X ≤ k), P(X ≥ k)))`.
    public static func binomialTwoSidedPValue(successes k: Int, probability p: Double, trials n: Int) -> Double {
        let lower = binomialLowerTail(k, probability: p, trials: n)
        let upper = k == 0 ? 1 : binomialUpperTail(k - 1, probability: p, trials: n)
        return min(1, 2 * min(lower, upper))
    }
    /// `P(T_ν > t)`, `gsl_cdf_tdist_Q`.
    public static func studentTUpperTail(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        prepare(); return gsl_cdf_tdist_Q(t, nu)
    }
    /// The `p`-quantile of `T_ν`: `t` with `P(T_ν ≤ t) = p`, `gsl_cdf_tdist_Pinv`.
    public static func studentTQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        prepare(); return gsl_cdf_tdist_Pinv(p, nu)
    }
}

// MARK: - Special functions

extension GSL {
    /// `log(1 + x)`, `gsl_sf_log_1plusx_e`.
    public static func log1plusx(_ x: Double) throws(GSLError) -> Double {
        try log1plusxWithError(x).value
    }

    /// `log(1 + x)` with GSL's own absolute error estimate (`result.err`), so a
    /// check can carry the oracle's error into its bound.
    public static func log1plusxWithError(_ x: Double) throws(GSLError) -> (value: Double, error: Double) {
        prepare()
        var result = gsl_sf_result()
        try check(gsl_sf_log_1plusx_e(x, &result), "gsl_sf_log_1plusx_e")
        return (result.val, result.err)
    }
}

// MARK: - Kolmogorov–Smirnov

extension GSL {
    /// One-sample Kolmogorov–Smirnov test of `samples` against `cdf`.
    ///
    /// The statistic is `D = sup |F_n − F|` over the sorted samples (sorted
    /// with `gsl_sort`); the p-value is the Kolmogorov limit distribution
    /// `Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}` at Stephens' small-sample
    /// argument `λ = (√n + 0.12 + 0.11/√n)·D`.
    public static func kolmogorovSmirnov(
        _ samples: [Double], cdf: (Double) -> Double
    ) -> (statistic: Double, pValue: Double) {
        prepare()
        var sorted = samples
        sorted.withUnsafeMutableBufferPointer { gsl_sort($0.baseAddress, 1, $0.count) }
        let n = Double(sorted.count)
        var d = 0.0
        for (i, x) in sorted.enumerated() {
            let f = cdf(x)
            d = max(d, Double(i + 1) / n - f, f - Double(i) / n)
        }
        let lambda = (n.squareRoot() + 0.12 + 0.11 / n.squareRoot()) * d
        return (d, kolmogorovTail(lambda))
    }

    /// `Q_KS(λ)`; 1 for small λ, where the alternating series converges slowly.
    static func kolmogorovTail(_ lambda: Double) -> Double {
        if lambda < 0.2 { return 1 }
        var sum = 0.0, sign = 1.0
        for k in 1...100 {
            let term = sign * 2 * exp(-2 * Double(k * k) * lambda * lambda)
            sum += term
            if abs(term) < 1e-17 * abs(sum) { break }
            sign = -sign
        }
        return min(max(sum, 0), 1)
    }
}

// MARK: - Root finding, integration, differentiation (Swift closures as gsl_function)

/// Holds the Swift closure a `gsl_function` calls back into.
private final class ClosureBox {
    let f: (Double) -> Double
    init(_ f: @escaping (Double) -> Double) { self.f = f }
}

private let trampoline: @convention(c) (Double, UnsafeMutableRawPointer?) -> Double = { x, params in
    Unmanaged<ClosureBox>.fromOpaque(params!).takeUnretainedValue().f(x)
}

/// Calls `body` with a `gsl_function` over `f`, keeping the closure alive
/// for as long as GSL may call it.
private func withGSLFunction<R>(
    _ f: @escaping (Double) -> Double, _ body: (UnsafeMutablePointer<gsl_function>) throws(GSLError) -> R
) throws(GSLError) -> R {
    let box = ClosureBox(f)
    var function = gsl_function(function: trampoline, params: Unmanaged.passUnretained(box).toOpaque())
    return try withExtendedLifetime(box) { () throws(GSLError) -> R in try body(&function) }
}

extension GSL {
    /// A root of `f` in `[lower, upper]` by Brent's method
    /// (`gsl_root_fsolver_brent`); `f(lower)` and `f(upper)` must differ in sign.
    public static func brentRoot(
        in lower: Double, _ upper: Double, absoluteTolerance: Double = 0, relativeTolerance: Double = 1e-15,
        maxIterations: Int = 500, _ f: @escaping (Double) -> Double
    ) throws(GSLError) -> Double {
        prepare()
        return try withGSLFunction(f) { (function) throws(GSLError) -> Double in
            guard let solver = gsl_root_fsolver_alloc(cgsl_root_fsolver_brent()) else {
                throw GSLError(routine: "gsl_root_fsolver_alloc", status: Int32(GSL_ENOMEM))
            }
            defer { gsl_root_fsolver_free(solver) }
            try check(gsl_root_fsolver_set(solver, function, lower, upper), "gsl_root_fsolver_set")
            for _ in 0..<maxIterations {
                try check(gsl_root_fsolver_iterate(solver), "gsl_root_fsolver_iterate")
                let lo = gsl_root_fsolver_x_lower(solver), hi = gsl_root_fsolver_x_upper(solver)
                let status = gsl_root_test_interval(lo, hi, absoluteTolerance, relativeTolerance)
                if status == Int32(GSL_SUCCESS) { return gsl_root_fsolver_root(solver) }
                guard status == Int32(GSL_CONTINUE) else { throw GSLError(routine: "gsl_root_test_interval", status: status) }
            }
            throw GSLError(routine: "gsl_root_fsolver_brent", status: Int32(GSL_EMAXITER))
        }
    }

    /// `∫_a^b f` by adaptive Gauss–Kronrod with extrapolation (`gsl_integration_qags`).
    public static func integrate(
        _ a: Double, _ b: Double, absoluteTolerance: Double = 0, relativeTolerance: Double = 1e-12,
        _ f: @escaping (Double) -> Double
    ) throws(GSLError) -> (value: Double, error: Double) {
        prepare()
        let limit = 1000
        return try withGSLFunction(f) { (function) throws(GSLError) -> (value: Double, error: Double) in
            guard let workspace = gsl_integration_workspace_alloc(limit) else {
                throw GSLError(routine: "gsl_integration_workspace_alloc", status: Int32(GSL_ENOMEM))
            }
            defer { gsl_integration_workspace_free(workspace) }
            var value = 0.0, error = 0.0
            try check(
                gsl_integration_qags(function, a, b, absoluteTolerance, relativeTolerance, limit, workspace, &value, &error),
                "gsl_integration_qags")
            return (value, error)
        }
    }

    /// `f'(x)` by `gsl_deriv_central` with initial step `h`, and GSL's error estimate.
    public static func centralDerivative(
        at x: Double, step h: Double, _ f: @escaping (Double) -> Double
    ) throws(GSLError) -> (value: Double, error: Double) {
        prepare()
        return try withGSLFunction(f) { (function) throws(GSLError) -> (value: Double, error: Double) in
            var value = 0.0, error = 0.0
            try check(gsl_deriv_central(function, x, h, &value, &error), "gsl_deriv_central")
            return (value, error)
        }
    }
}
