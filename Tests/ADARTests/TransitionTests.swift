import Foundation
import Testing
import ADARCore
import ADARVerification

/// Proofs/S4-transition.md: S4.d (Theorem 1), S4.e (its numerical form), Φ⁻¹ and Φ.
@Suite("S4 transition")
struct TransitionTests {
    /// The seed a mutation test runs its checker with (the claim's default).
    static let seed: UInt64 = 20_260_101

    // MARK: Deliberately broken implementations (test-only)

    /// S4.d's quadratic has two roots; this keeps the other one, `(s_0·s⁻ − z·n·R)/D`.
    static let wrongRoot: TransitionChecks.Amplitude = { s0, sNeg, n, rho in
        let zn = StandardNormal.quantile(rho) * n
        let radicand = (s0 - sNeg) * (s0 + sNeg) + zn * zn
        guard radicand >= 0 else { return nil }
        let aStar = (s0 * sNeg - zn * radicand.squareRoot()) / (s0 * s0 + zn * zn)
        return aStar >= 0 ? aStar : nil
    }

    /// Uses `z = Φ⁻¹(1 − ρ)`, i.e. `−z`, in the reference.
    static let flippedZ: TransitionChecks.Amplitude = { s0, sNeg, n, rho in
        TransitionChecks.referenceAmplitude(s0, sNeg, n, 1 - rho)
    }

    /// The S4.d root without the `a* ≥ 0` test: returns negative amplitudes.
    static let ignoresNonNegativity: TransitionChecks.Amplitude = { s0, sNeg, n, rho in
        let zn = StandardNormal.quantile(rho) * n
        let radicand = (s0 - sNeg) * (s0 + sNeg) + zn * zn
        guard radicand >= 0 else { return nil }
        let b = s0 * sNeg, c = zn * radicand.squareRoot()
        if (b >= 0) == (c >= 0) { return (b + c) / (s0 * s0 + zn * zn) }
        return (sNeg - zn) * (sNeg + zn) / (b - c)
    }

    /// At ρ = ½ multiplies by the reciprocal instead of dividing (off by an ulp at times).
    static let reciprocalAtHalf: TransitionChecks.Amplitude = { s0, sNeg, n, rho in
        if rho == 0.5 { return sNeg >= 0 ? sNeg * (1 / s0) : nil }
        return TransitionChecks.referenceAmplitude(s0, sNeg, n, rho)
    }

    /// A "stable" form that is the direct S4.d formula after all.
    static let directFormula: TransitionChecks.Amplitude = { s0, sNeg, n, rho in
        let zn = StandardNormal.quantile(rho) * n
        let radicand = s0 * s0 - sNeg * sNeg + zn * zn
        guard radicand >= 0 else { return nil }
        let aStar = (s0 * sNeg + zn * radicand.squareRoot()) / (s0 * s0 + zn * zn)
        return aStar >= 0 ? aStar : nil
    }

    /// The product-of-roots branch with `z·n` rounded before `s⁻ ± z·n` is
    /// formed (the reference before its fix): it cancels when `z·n` is inexact.
    static let unfusedProductOfRoots: TransitionChecks.Amplitude = { s0, sNeg, n, rho in
        let z = StandardNormal.quantile(rho), zn = z * n
        let radicand = (s0 - sNeg) * (s0 + sNeg) + zn * zn
        guard radicand >= 0 else { return nil }
        let b = s0 * sNeg, c = zn * radicand.squareRoot()
        let aStar = (b >= 0) == (c >= 0)
            ? (b + c) / (s0 * s0 + zn * zn)
            : (sNeg - zn) * (sNeg + zn) / (b - c)
        return aStar >= 0 ? aStar : nil
    }

    /// Φ⁻¹ for p < ½ by reflection through `1 − p`, which rounds away a small p.
    static let reflectedQuantile: TransitionChecks.RealFunction = { p in
        p < 0.5 ? -StandardNormal.quantile(1 - p) : StandardNormal.quantile(p)
    }

    /// `Φ(x) = (1 + erf(x/√2))/2`: cancels in the lower tail.
    static let erfCDF: TransitionChecks.RealFunction = { x in 0.5 * (1 + erf(x / 2.0.squareRoot())) }

    // MARK: S4.d/T1

    @Test("S4.d/T1 closed form matches GSL Brent on g(a) = z")
    func closedForm() throws { try expectClaim("S4.d/T1") }

    @Test("S4.d/T1 rejects the other root of the quadratic")
    func closedFormRejectsWrongRoot() throws {
        expectRejected(try TransitionChecks.closedFormMatchesBrent(seed: Self.seed, amplitude: Self.wrongRoot, cases: 500))
    }

    @Test("S4.d/T1 rejects z with the wrong sign")
    func closedFormRejectsFlippedZ() throws {
        expectRejected(try TransitionChecks.closedFormMatchesBrent(seed: Self.seed, amplitude: Self.flippedZ, cases: 500))
    }

    // MARK: S4.d/E1

    @Test("S4.d/E1 crossing exists iff Φ(−s⁻/n) ≤ ρ iff a* is returned")
    func existence() throws { try expectClaim("S4.d/E1") }

    @Test("S4.d/E1 rejects an implementation that skips the a* ≥ 0 test")
    func existenceRejectsNegativeAmplitudes() {
        expectRejected(TransitionChecks.existenceAgrees(seed: Self.seed, amplitude: Self.ignoresNonNegativity, cases: 2_000))
    }

    // MARK: S4.d/H1

    @Test("S4.d/H1 at ρ = ½ the amplitude is s⁻/s0")
    func halfRetention() throws { try expectClaim("S4.d/H1") }

    @Test("S4.d/H1 rejects s⁻·(1/s0) at ρ = ½")
    func halfRetentionRejectsReciprocal() {
        expectRejected(TransitionChecks.halfRetentionIsScoreRatio(seed: Self.seed, amplitude: Self.reciprocalAtHalf))
    }

    // MARK: S4.d/Q1, S4.d/Q2

    /// The central branch serves all of p ∈ [¼, ¾], where `p − ½` is exact; a
    /// tail residual there lost relative accuracy as p → ½ (2.4e6 ulp at
    /// p = 0.50000007 before the fix).
    @Test("S4.d/Q1 StandardNormal.quantile matches GSL Pinv within the ulp bound")
    func quantile() throws { try expectClaim("S4.d/Q1") }

    /// Newton steps on the tail residual `Φ(−x) − (1 − p)`, whose absolute
    /// rounding error (≈ u/4) swamps a quantile near 0: the pre-fix tail branch.
    static func tailOnlyQuantile(_ p: Double) -> Double {
        // Start off the answer, as an iteration does: the flat rounded residual
        // then stops it anywhere within ≈ u/φ(x) of the root.
        var x = StandardNormal.quantile(p) * (1 + 1e-3) + 1e-9
        for _ in 0..<6 {
            let residual = 0.5 * erfc(x / 2.0.squareRoot()) - (1 - p)
            x += residual * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        }
        return x
    }

    /// The pre-fix routing: every p > ½ reflected into the tail branch.
    static let tailRoutedQuantile: TransitionChecks.RealFunction = { p in
        p > 0.5 && p <= 0.75 ? tailOnlyQuantile(p) : StandardNormal.quantile(p)
    }

    @Test("S4.d/Q1 rejects a quantile that sends p ∈ (½, ¾] to the tail branch")
    func quantileRejectsTailRouting() {
        expectRejected(TransitionChecks.quantileMatchesGSL(seed: Self.seed, quantile: Self.tailRoutedQuantile))
    }

    @Test("S4.d/Q1 rejects a quantile that reflects small p through 1 − p")
    func quantileRejectsReflection() {
        expectRejected(TransitionChecks.quantileMatchesGSL(seed: Self.seed, quantile: Self.reflectedQuantile))
    }

    @Test("S4.d/Q2 StandardNormal.cdf matches GSL's Φ within its conditioning")
    func cdf() throws { try expectClaim("S4.d/Q2") }

    @Test("S4.d/Q2 rejects Φ written with erf")
    func cdfRejectsErf() {
        expectRejected(TransitionChecks.cdfMatchesGSL(seed: Self.seed, cdf: Self.erfCDF))
    }

    // MARK: S4.e/C1

    @Test("S4.e/C1 the stable form survives where the direct formula cancels")
    func cancellation() throws { try expectClaim("S4.e/C1") }

    @Test("S4.e/C1 rejects a stable form that is the direct formula")
    func cancellationRejectsDirectFormula() throws {
        expectRejected(try TransitionChecks.cancellationCasesStayAccurate(seed: Self.seed, amplitude: Self.directFormula, cases: 200))
    }

    /// With an inexact `z·n`, rounding `z·n` first costs `u·|z·n|/|s⁻ + z·n|`
    /// in the factor `s⁻ + z·n`; the reference forms each factor with one fma.
    @Test("S4.e/C1 with an inexact z·n the reference's product of roots stays accurate")
    func cancellationInexactProduct() throws {
        let result = try TransitionChecks.cancellationCasesStayAccurate(seed: Self.seed, exactProduct: false)
        #expect(result.passed, "\(result)")
    }

    @Test("S4.e/C1 with an inexact z·n rejects the product of roots formed after rounding z·n")
    func cancellationRejectsUnfusedProduct() throws {
        expectRejected(try TransitionChecks.cancellationCasesStayAccurate(
            seed: Self.seed, amplitude: Self.unfusedProductOfRoots, exactProduct: false))
    }
}
