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

    /// The reference's product-of-roots branch with `s⁻ ± z·n` fused (one
    /// rounding each): the fix proposed for S4.e when `z·n` is inexact.
    static let fusedProductOfRoots: TransitionChecks.Amplitude = { s0, sNeg, n, rho in
        let z = StandardNormal.quantile(rho), zn = z * n
        let radicand = (s0 - sNeg) * (s0 + sNeg) + zn * zn
        guard radicand >= 0 else { return nil }
        let b = s0 * sNeg, c = zn * radicand.squareRoot()
        let aStar = (b >= 0) == (c >= 0)
            ? (b + c) / (s0 * s0 + zn * zn)
            : sNeg.addingProduct(-z, n) * sNeg.addingProduct(z, n) / (b - c)
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

    /// Known bug in Sources/ADARCore/Math/StandardNormal.swift (reported with a
    /// fix): p ∈ (½, ¾] is reflected to 1 − p and sent to the tail branch, whose
    /// residual `erfc(−x/√2)/2 − p` has an absolute error ≈ u/4, so Φ⁻¹ loses
    /// relative accuracy as p → ½ (2.4e6 ulp at p = 0.50000007). The claim
    /// stays strict; this records the failure until the shared file is fixed,
    /// after which the unrecorded known issue fails this test as a reminder.
    @Test("S4.d/Q1 StandardNormal.quantile matches GSL Pinv within the ulp bound")
    func quantile() {
        withKnownIssue("StandardNormal.quantile sends p ∈ (½, ¾] to the tail branch") {
            try expectClaim("S4.d/Q1")
        }
    }

    /// The proposed fix — the central branch for all p ∈ [¼, ¾] — applied from
    /// outside: for p ∈ (½, ¾], `−Φ⁻¹(1 − p)` reaches the central branch with
    /// the exact `q = ½ − p`, which is what the fixed code computes (the
    /// central iteration is odd in q).
    static let quantileWithProposedFix: TransitionChecks.RealFunction = { p in
        p > 0.5 && p <= 0.75 ? -StandardNormal.quantile(1 - p) : StandardNormal.quantile(p)
    }

    @Test("S4.d/Q1 the proposed central-branch fix meets the ulp bound")
    func quantileWithFix() {
        let result = TransitionChecks.quantileMatchesGSL(seed: Self.seed, quantile: Self.quantileWithProposedFix)
        #expect(result.passed, "\(result)")
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

    /// Known limitation of the reference (reported with a fix): with an inexact
    /// `z·n`, `fl(z·n)` costs `u·|z·n|/|s⁻ + z·n|` in the factor `s⁻ + z·n`,
    /// the same order as the direct formula's loss.
    @Test("S4.e/C1 with an inexact z·n the reference's product of roots loses digits")
    func cancellationInexactProduct() throws {
        let result = try TransitionChecks.cancellationCasesStayAccurate(seed: Self.seed, exactProduct: false)
        withKnownIssue("ReferenceADAR.transitionAmplitude forms s⁻ ± z·n after rounding z·n") {
            #expect(result.passed, "\(result)")
        }
    }

    @Test("S4.e/C1 with an inexact z·n a fused product of roots stays accurate")
    func cancellationFusedProduct() throws {
        let result = try TransitionChecks.cancellationCasesStayAccurate(
            seed: Self.seed, amplitude: Self.fusedProductOfRoots, exactProduct: false)
        #expect(result.passed, "\(result)")
    }
}
