import Foundation
import Testing
import ADARCore
import ADAR
import ADARVerification

/// Proofs/S9-binary32-tau.md: the optimised binary32 τ against the binary64
/// reference τ. CI runs each claim at its fixed seed; `ADAR_SWEEP=long` runs
/// `TauEquivalenceChecks.longCases` cases and `ADAR_SEED` chooses the seed:
///
///     ADAR_SWEEP=long ADAR_SEED=7 swift test --filter TauEquivalenceTests
@Suite("S9 binary32 τ equivalence")
struct TauEquivalenceTests {
    static let seed = Claims.claim("S9/E1")!.defaultSeed

    func expectEquivalence(
        _ id: String, long: Int, _ check: (UInt64, Int) throws -> ClaimResult, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        guard ProcessInfo.processInfo.environment["ADAR_SWEEP"] == "long" else {
            try expectClaim(id, sourceLocation: sourceLocation)
            return
        }
        let seed = seedFromEnvironment() ?? Claims.claim(id)!.defaultSeed
        let result = try check(seed, long)
        #expect(result.passed, "\(result)\n  replay: ADAR_SWEEP=long ADAR_SEED=\(seed) swift test --filter '\(id)'", sourceLocation: sourceLocation)
    }

    static func mutant(_ mutation: TauMutation) -> TauSubject {
        var subject = TauSubject.optimised
        subject.network = { TauNetwork32(mutating: $0, mutation) }
        return subject
    }

    @Test("S9/E1 τ forward within the derived bound of the reference")
    func forward() throws {
        try expectEquivalence("S9/E1", long: TauEquivalenceChecks.longCases) { try TauEquivalenceChecks.checkForward(seed: $0, cases: $1) }
    }

    @Test("S9/E1 rejects PE with sin and cos swapped, and [e_u ; PE ; x_t]")
    func forwardRejectsMutants() throws {
        for mutation in TauMutation.allCases {
            expectRejected(try TauEquivalenceChecks.checkForward(seed: Self.seed, subject: Self.mutant(mutation)))
        }
    }

    @Test("S9/E2 L_τ and its gradient within the derived bound of the reference")
    func gradient() throws {
        try expectEquivalence("S9/E2", long: TauEquivalenceChecks.longCases) { try TauEquivalenceChecks.checkGradient(seed: $0, cases: $1) }
    }

    @Test("S9/E2 rejects the concatenation order swapped")
    func gradientRejectsSwappedConcatenation() throws {
        expectRejected(try TauEquivalenceChecks.checkGradient(seed: Self.seed, subject: Self.mutant(.swappedConcatenation)))
    }

    @Test("S9/E2 rejects σ missing from the training's x_t′ (the trainer's draws end to end)")
    func gradientRejectsMissingSigmaInTraining() throws {
        var missingSigma = TauSubject.optimised
        missingSigma.makeSynthesizer = { ADARSynthesizer(mutating: ADARSynthesizer(schedule: $0, configuration: $1), .missingSigma) }
        expectRejected(try TauEquivalenceChecks.checkGradient(seed: Self.seed, subject: missingSigma))
    }

    @Test("S9/E3 denoised x⁻ and its score within the derived bound; r_max guard as the reference's")
    func denoised() throws {
        try expectEquivalence("S9/E3", long: EquivalenceChecks.longCases) { try TauEquivalenceChecks.checkDenoised(seed: $0, cases: $1) }
    }

    @Test("S9/E3 rejects σ missing from the reconstruction, and PE with sin and cos swapped")
    func denoisedRejectsMutants() throws {
        var missingSigma = TauSubject.optimised
        missingSigma.makeSynthesizer = { ADARSynthesizer(mutating: ADARSynthesizer(schedule: $0, configuration: $1), .missingSigmaInReconstruction) }
        expectRejected(try TauEquivalenceChecks.checkDenoised(seed: Self.seed, subject: missingSigma))
        expectRejected(try TauEquivalenceChecks.checkDenoised(seed: Self.seed, subject: Self.mutant(.swappedSinCos)))
    }

    @Test("S9/E4 τ forward, gradient, Adam steps and denoised synthesis bit-identical for 1 thread and many")
    func threads() throws {
        try expectEquivalence("S9/E4", long: TauEquivalenceChecks.longCases) { try TauEquivalenceChecks.checkThreadInvariance(seed: $0, cases: $1) }
    }

    @Test("S9/E4 rejects a gradient whose rows are summed in another order when parallel")
    func threadsRejectReorderedSums() throws {
        var reordered = TauSubject.optimised
        reordered.gradient = { network, c, threads in
            // A per-chunk reduction in the wrong order: rows summed last to first.
            let order = threads > 1 ? Array((0..<c.rows).reversed()) : Array(0..<c.rows)
            let d = c.dimension
            let pick = { (values: [Float]) in order.flatMap { values[$0 * d ..< ($0 + 1) * d] } }
            let result = network.lossAndGradient(
                xt: pick(c.xt), timesteps: order.map { c.timesteps[$0] }, users: pick(c.users), targets: pick(c.targets), threads: threads)
            return [result.loss.bitPattern] + result.gradient.map(\.bitPattern)
        }
        expectRejected(try TauEquivalenceChecks.checkThreadInvariance(seed: Self.seed, subject: reordered))
    }
}
