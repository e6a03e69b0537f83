import Foundation
import Testing
import ADARCore
import ADAR
import ADARReference
import ADARVerification

/// Proofs/S6-binary32-equivalence.md: the optimised binary32 path against the
/// binary64 reference.
///
/// CI runs `EquivalenceChecks.ciCases` cases at each claim's fixed seed.
/// `ADAR_SWEEP=long` runs `EquivalenceChecks.longCases` cases; `ADAR_SEED`
/// chooses the seed. A failure prints the seed, the case (index, case seed,
/// schedule, configuration, shapes, noise, row kinds) and the replay command:
///
///     ADAR_SWEEP=long ADAR_SEED=7 swift test --filter EquivalenceTests
@Suite("S6 binary32 equivalence")
struct EquivalenceTests {
    static var longSweep: Bool { ProcessInfo.processInfo.environment["ADAR_SWEEP"] == "long" }

    /// The registered claim at CI size, or the same check over the long sweep.
    func expectEquivalence(
        _ id: String, _ check: (UInt64, Int) throws -> ClaimResult, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        guard Self.longSweep else {
            try expectClaim(id, sourceLocation: sourceLocation)
            return
        }
        let seed = seedFromEnvironment() ?? Claims.claim(id)!.defaultSeed
        let result = try check(seed, EquivalenceChecks.longCases)
        #expect(result.passed, "\(result)\n  replay: ADAR_SWEEP=long ADAR_SEED=\(seed) swift test --filter '\(id)'",
                sourceLocation: sourceLocation)
    }

    static let seed = Claims.claim("S6/E1")!.defaultSeed

    /// The production synthesizer with its prepared state corrupted.
    static func mutant(_ mutation: SynthesizerMutation) -> EquivalenceSubject {
        var subject = EquivalenceSubject.optimised
        subject.makeSynthesizer = { ADARSynthesizer(mutating: ADARSynthesizer(schedule: $0, configuration: $1), mutation) }
        return subject
    }

    // MARK: S6/E1

    @Test("S6/E1 statuses and t* equal the reference's except on derived boundary cases")
    func statuses() throws {
        try expectEquivalence("S6/E1") { try EquivalenceChecks.checkStatuses(seed: $0, cases: $1) }
    }

    @Test("S6/E1 rejects tables shifted to ᾱ_{t−1}")
    func statusesRejectPreviousAlphaBar() throws {
        expectRejected(try EquivalenceChecks.checkStatuses(seed: Self.seed, subject: Self.mutant(.previousAlphaBar)))
    }

    @Test("S6/E1 rejects the other root of S4.d")
    func statusesRejectWrongRoot() throws {
        expectRejected(try EquivalenceChecks.checkStatuses(seed: Self.seed, subject: Self.mutant(.wrongRoot)))
    }

    @Test("S6/E1 rejects a noise scale without σ")
    func statusesRejectMissingSigma() throws {
        expectRejected(try EquivalenceChecks.checkStatuses(seed: Self.seed, subject: Self.mutant(.missingSigma)))
    }

    // MARK: S6/E2

    @Test("S6/E2 a*, π, scores and x⁻ are within the derived bounds")
    func outputs() throws {
        try expectEquivalence("S6/E2") { try EquivalenceChecks.checkOutputs(seed: $0, cases: $1) }
    }

    @Test("S6/E2 rejects √ᾱ and √(1 − ᾱ) swapped")
    func outputsRejectSwappedTables() throws {
        expectRejected(try EquivalenceChecks.checkOutputs(seed: Self.seed, subject: Self.mutant(.swappedSignalAndNoise)))
    }

    @Test("S6/E2 rejects a missing σ")
    func outputsRejectMissingSigma() throws {
        expectRejected(try EquivalenceChecks.checkOutputs(seed: Self.seed, subject: Self.mutant(.missingSigma)))
    }

    @Test("S6/E2 rejects the other root of S4.d")
    func outputsRejectWrongRoot() throws {
        expectRejected(try EquivalenceChecks.checkOutputs(seed: Self.seed, subject: Self.mutant(.wrongRoot)))
    }

    // MARK: S6/E3

    @Test("S6/E3 outputs are bit-identical for 1 thread and many")
    func threadInvariance() throws {
        try expectEquivalence("S6/E3") { try EquivalenceChecks.checkThreadInvariance(seed: $0, cases: $1) }
    }

    @Test("S6/E3 rejects noise that depends on the thread count")
    func threadInvarianceRejectsThreadDependentNoise() throws {
        var broken = EquivalenceSubject.optimised
        // A chunking bug: parallel runs number their noise rows from 1.
        broken.synthesizeDense = { synthesizer, input, noise, output, threads in
            var drawn = noise
            if threads > 1, case let .counter(seed, stream, rowOffset) = noise {
                drawn = .counter(seed: seed, stream: stream, rowOffset: rowOffset &+ 1)
            }
            try synthesizer.synthesize(input, noise: drawn, into: output, threads: threads)
        }
        expectRejected(try EquivalenceChecks.checkThreadInvariance(seed: Self.seed, subject: broken))
    }

    // MARK: S6/E4

    @Test("S6/E4 dense and indexed inputs give bit-identical outputs")
    func inputForms() throws {
        try expectEquivalence("S6/E4") { try EquivalenceChecks.checkInputForms(seed: $0, cases: $1) }
    }

    @Test("S6/E4 rejects a gather that swaps the first two candidates")
    func inputFormsRejectSwappedGather() throws {
        var broken = EquivalenceSubject.optimised
        broken.synthesizeIndexed = { synthesizer, input, noise, output, threads in
            var pool = input.pool
            let m = input.poolSize
            if m >= 2 {
                for b in 0..<input.rows { pool.swapAt(b * m, b * m + 1) }
            }
            let swapped = try IndexedRows32(
                dimension: input.dimension, poolSize: m, userTable: input.userTable, itemTable: input.itemTable,
                users: input.users, positives: input.positives, pool: pool)
            try synthesizer.synthesize(swapped, noise: noise, into: output, threads: threads)
        }
        expectRejected(try EquivalenceChecks.checkInputForms(seed: Self.seed, subject: broken))
    }

    // MARK: S7/E1

    @Test("S7/E1 loss and gradients are within the derived bounds")
    func loss() throws {
        try expectEquivalence("S7/E1") { try EquivalenceChecks.checkLoss(seed: $0, cases: $1) }
    }

    @Test("S7/E1 rejects a loss with the gradient flow inverted")
    func lossRejectsInvertedGradientFlow() throws {
        var broken = EquivalenceSubject.optimised
        broken.lossDense = { synthesizer, input, synthesis, output, threads in
            var configuration = synthesizer.configuration
            configuration.gradientFlow = configuration.gradientFlow == .detach ? .through : .detach
            try ADARSynthesizer(schedule: synthesizer.schedule, configuration: configuration)
                .loss(input, synthesis: synthesis, into: output, threads: threads)
        }
        expectRejected(try EquivalenceChecks.checkLoss(seed: Self.seed, subject: broken))
    }

    @Test("S7/E1 rejects λ doubled")
    func lossRejectsDoubledL2() throws {
        var broken = EquivalenceSubject.optimised
        broken.lossDense = { synthesizer, input, synthesis, output, threads in
            var configuration = synthesizer.configuration
            configuration.l2 *= 2
            try ADARSynthesizer(schedule: synthesizer.schedule, configuration: configuration)
                .loss(input, synthesis: synthesis, into: output, threads: threads)
        }
        expectRejected(try EquivalenceChecks.checkLoss(seed: Self.seed, subject: broken))
    }

    // MARK: The analysis recognises the binary32 range

    @Test("S6/E1 range: a tiny user is degenerate in binary32 but not in binary64, and the analysis says so")
    func tinyUserIsRecognised() throws {
        // ‖e_u‖² = 2·(1e-23)² = 2e-46 underflows to 0 in binary32; binary64 has n > 0.
        let schedule = try NoiseSchedule(.ddpmLinear, steps: 1000)
        let configuration = try ADARConfiguration()
        let user: [Float] = [1e-23, 1e-23], positive: [Float] = [1e22, 1e22], pool: [Float] = [1e21, 0]
        let output = SynthesisBuffers()
        try ADARSynthesizer(schedule: schedule, configuration: configuration).synthesize(
            DenseRows32(rows: 1, dimension: 2, poolSize: 1, users: user, positives: positive, pool: pool),
            noise: .counter(seed: 1, stream: 0, rowOffset: 0), into: output, threads: 1)
        let batch = try ADARBatch(rows: 1, dimension: 2, poolSize: 1, users: user.map(Double.init),
                                  positives: positive.map(Double.init), pool: pool.map(Double.init),
                                  noise: .counter(seed: 1, stream: 0, rowOffset: 0))
        let reference = try ReferenceADAR.synthesize(batch, schedule: schedule, configuration: configuration)
        #expect(output.statuses[0] == .degenerateUser)
        #expect(reference[0].status == .transition)
        let allowed = EquivalenceChecks.allowedOutcomes(
            user: user, positive: positive, pool: pool, schedule: schedule, configuration: configuration)
        #expect(allowed.contains("degenerateUser") && allowed.contains("transition"), "\(allowed)")
    }
}
