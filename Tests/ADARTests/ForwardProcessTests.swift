import Testing
import ADARCore
import ADARReference
import ADARVerification

/// Proofs/S2-forward-process.md: Lemma 1 (S2.a) by Monte Carlo over the S8
/// noise, and the orthogonal-noise property, each with the bugs its checker rejects.
@Suite("S2 forward process (Proofs/S2-forward-process.md)")
struct ForwardProcessTests {
    /// The default seed of a registered claim: power checks run where CI runs.
    static func defaultSeed(_ id: String) throws -> UInt64 {
        try #require(Claims.claim(id)).defaultSeed
    }

    /// The reference model with its sampler replaced.
    static func sampler(_ sample: @escaping ForwardSampler) -> ForwardProcessModel {
        var model = ForwardProcessModel.reference
        model.sample = sample
        return model
    }

    /// The Bonferroni-adjusted p-value of a statistical claim result.
    static func pValue(_ result: ClaimResult) throws -> Double {
        guard case let .pValue(p, _) = result.measure else {
            Issue.record("\(result.id) is not a hypothesis test")
            return .nan
        }
        return p
    }

    // MARK: S2.a/L1

    @Test("S2.a/L1 scores of the reference sampler follow N(√ᾱ_t·s_0, (1 − ᾱ_t)·σ²‖e_u‖²)")
    func scoreLaw() throws { try expectClaim("S2.a/L1") }

    @Test("S2.a/L1 rejects a sampler that uses ᾱ_{t−1} (power check, p < 1e-6)")
    func scoreLawRejectsPreviousStep() throws {
        let broken = Self.sampler { x0, epsilon, t, schedule, sigma in
            ReferenceADAR.forwardSample(x0: x0, epsilon: epsilon, timestep: t - 1, schedule: schedule, sigma: sigma)
        }
        let result = try ForwardProcessChecks.checkScoreLaw(seed: Self.defaultSeed("S2.a/L1"), model: broken)
        expectRejected(result)
        #expect(try Self.pValue(result) < 1e-6, "\(result)")
    }

    @Test("S2.a/L1 rejects a sampler that forgets σ (power check, p < 1e-6)")
    func scoreLawRejectsForgottenSigma() throws {
        let broken = Self.sampler { x0, epsilon, t, schedule, _ in
            ReferenceADAR.forwardSample(x0: x0, epsilon: epsilon, timestep: t, schedule: schedule, sigma: 1)
        }
        let result = try ForwardProcessChecks.checkScoreLaw(seed: Self.defaultSeed("S2.a/L1"), model: broken)
        expectRejected(result)
        #expect(try Self.pValue(result) < 1e-6, "\(result)")
    }

    @Test("S2.a/L1 rejects a declared score law that forgets σ (power check, p < 1e-6)")
    func scoreLawRejectsDeclaredLawWithoutSigma() throws {
        var broken = ForwardProcessModel.reference
        broken.scoreLaw = { user, s0, _, t, schedule in
            ReferenceADAR.scoreDistribution(
                positiveScore: s0, noiseScale: ReferenceADAR.scoreNoiseScale(user: user, sigma: 1),
                timestep: t, schedule: schedule)
        }
        let result = try ForwardProcessChecks.checkScoreLaw(seed: Self.defaultSeed("S2.a/L1"), model: broken)
        expectRejected(result)
        #expect(try Self.pValue(result) < 1e-6, "\(result)")
    }

    // MARK: S2.a/P1

    @Test("S2.a/P1 noise orthogonal to e_u leaves the reference score at √ᾱ_t·s_0 within the rounding bound")
    func orthogonalNoise() throws { try expectClaim("S2.a/P1") }

    @Test("S2.a/P1 rejects a sampler that reads ε one component off")
    func orthogonalNoiseRejectsShiftedNoise() throws {
        let broken = Self.sampler { x0, epsilon, t, schedule, sigma in
            let shifted = Array(epsilon.dropFirst()) + [epsilon[0]]
            return ReferenceADAR.forwardSample(x0: x0, epsilon: shifted, timestep: t, schedule: schedule, sigma: sigma)
        }
        expectRejected(try ForwardProcessChecks.checkOrthogonalNoise(seed: Self.defaultSeed("S2.a/P1"), model: broken))
    }

    @Test("S2.a/P1 rejects a sampler that scales x_0 by ᾱ_t instead of √ᾱ_t")
    func orthogonalNoiseRejectsUnrootedSignal() throws {
        let broken = Self.sampler { x0, epsilon, t, schedule, sigma in
            zip(x0, epsilon).map { schedule.alphaBar[t] * $0 + schedule.sqrtOneMinusAlphaBar[t] * (sigma * $1) }
        }
        expectRejected(try ForwardProcessChecks.checkOrthogonalNoise(seed: Self.defaultSeed("S2.a/P1"), model: broken))
    }
}
