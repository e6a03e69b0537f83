import Foundation
import Testing
import ADARCore
import ADARReference
import ADARVerification

/// Proofs/S4-retention.md: Lemma 2 (S4.a) by Monte Carlo, Lemma 3 (S4.b) by
/// GSL's numerical derivative, monotonicity on the valid domain and its
/// failure outside, each with the bugs its checker rejects.
@Suite("S4 retention (Proofs/S4-retention.md)")
struct RetentionTests {
    static func defaultSeed(_ id: String) throws -> UInt64 {
        try #require(Claims.claim(id)).defaultSeed
    }

    static func pValue(_ result: ClaimResult) throws -> Double {
        guard case let .pValue(p, _) = result.measure else {
            Issue.record("\(result.id) is not a hypothesis test")
            return .nan
        }
        return p
    }

    /// The reference model with `π_t` replaced.
    static func retention(_ pi: @escaping RetentionFunction) -> RetentionModel {
        var model = RetentionModel.reference
        model.retention = pi
        return model
    }

    // MARK: S4.a/B1

    @Test("S4.a/B1 π_t matches the Monte Carlo frequency of s_t > s⁻")
    func retentionFrequency() throws { try expectClaim("S4.a/B1") }

    @Test("S4.a/B1 rejects π computed with ᾱ_{t−1} (power check, p < 1e-6)")
    func retentionRejectsPreviousStep() throws {
        let broken = Self.retention { t, s0, sNeg, n, schedule in
            ReferenceADAR.retention(
                timestep: t - 1, positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n, schedule: schedule)
        }
        let result = try RetentionChecks.checkRetentionFrequency(seed: Self.defaultSeed("S4.a/B1"), model: broken)
        expectRejected(result)
        #expect(try Self.pValue(result) < 1e-6, "\(result)")
    }

    @Test("S4.a/B1 rejects π without the square root on 1 − ᾱ_t (power check, p < 1e-6)")
    func retentionRejectsMissingSquareRoot() throws {
        let broken = Self.retention { t, s0, sNeg, n, schedule in
            StandardNormal.cdf((schedule.sqrtAlphaBar[t] * s0 - sNeg) / ((1 - schedule.alphaBar[t]) * n))
        }
        let result = try RetentionChecks.checkRetentionFrequency(seed: Self.defaultSeed("S4.a/B1"), model: broken)
        expectRejected(result)
        #expect(try Self.pValue(result) < 1e-6, "\(result)")
    }

    // MARK: S4.b/D1

    @Test("S4.b/D1 g'(a) agrees with GSL's central derivative of g")
    func marginDerivative() throws { try expectClaim("S4.b/D1") }

    @Test("S4.b/D1 rejects g' with exponent 1/2 instead of 3/2")
    func marginDerivativeRejectsWrongExponent() throws {
        var broken = RetentionModel.reference
        broken.marginDerivative = { a, s0, sNeg, n in (s0 - a * sNeg) / (n * (1 - a * a).squareRoot()) }
        expectRejected(try RetentionChecks.checkMarginDerivative(seed: Self.defaultSeed("S4.b/D1"), model: broken))
    }

    @Test("S4.b/D1 rejects g' with the product rule's sign flipped (s_0 + a·s⁻)")
    func marginDerivativeRejectsFlippedSign() throws {
        var broken = RetentionModel.reference
        broken.marginDerivative = { a, s0, sNeg, n in
            let w = 1 - a * a
            return (s0 + a * sNeg) / (n * w * w.squareRoot())
        }
        expectRejected(try RetentionChecks.checkMarginDerivative(seed: Self.defaultSeed("S4.b/D1"), model: broken))
    }

    // MARK: S4.b/M1

    @Test("S4.b/M1 on the valid domain g(√ᾱ_t) strictly decreases, π_t never increases, g' > 0")
    func monotonicity() throws { try expectClaim("S4.b/M1") }

    @Test("S4.b/M1 rejects g with the wrong sign convention (s⁻ − a·s_0)")
    func monotonicityRejectsWrongSignMargin() throws {
        var broken = RetentionModel.reference
        broken.margin = { a, s0, sNeg, n in (sNeg - a * s0) / (n * (1 - a * a).squareRoot()) }
        expectRejected(try RetentionChecks.checkMonotonicity(seed: Self.defaultSeed("S4.b/M1"), model: broken))
    }

    @Test("S4.b/M1 rejects π = Φ(−g), the retention of the reference negative")
    func monotonicityRejectsComplementaryRetention() throws {
        let broken = Self.retention { t, s0, sNeg, n, schedule in
            1 - ReferenceADAR.retention(
                timestep: t, positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n, schedule: schedule)
        }
        expectRejected(try RetentionChecks.checkMonotonicity(seed: Self.defaultSeed("S4.b/M1"), model: broken))
    }

    // MARK: S4.b/N1

    @Test("S4.b/N1 outside the valid domain g' changes sign at a = s_0/s⁻ (s_0 = −1, s⁻ = −2 and random)")
    func nonMonotonicity() throws { try expectClaim("S4.b/N1") }

    @Test("S4.b/N1 rejects a g that uses |s_0| and so stays monotone")
    func nonMonotonicityRejectsAbsoluteScore() throws {
        var broken = RetentionModel.reference
        broken.margin = { a, s0, sNeg, n in (a * abs(s0) - sNeg) / (n * (1 - a * a).squareRoot()) }
        expectRejected(try RetentionChecks.checkNonMonotonicity(seed: Self.defaultSeed("S4.b/N1"), model: broken))
    }
}
