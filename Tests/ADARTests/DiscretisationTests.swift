import Testing
import ADARCore
import ADARReference
import ADARVerification

/// Proofs/S4f-S5-discretisation.md: S4.f discretisation, S5 statuses and errors, S6 outputs.
@Suite("S4.f–S6 discretisation, statuses and outputs")
struct DiscretisationTests {
    // MARK: S4.f/D1

    @Test("S4.f/D1 t* equals the brute-force GSL scan min{t : π_t ≤ ρ}, ties by ᾱ_t ≤ ᾱ*")
    func discretisationMatchesRetentionScan() throws {
        try expectClaim("S4.f/D1")
    }

    @Test("S4.f/D1 rejects a strict comparison ᾱ_t < ᾱ*")
    func rejectsStrictComparison() {
        expectRejected(DiscretisationChecks.checkDiscretisation(seed: 1, discretiser: BrokenDiscretisers.strict))
    }

    @Test("S4.f/D1 rejects t* − 1 (a 0-based index)")
    func rejectsZeroBasedIndex() {
        expectRejected(DiscretisationChecks.checkDiscretisation(seed: 1, discretiser: BrokenDiscretisers.zeroBased))
    }

    @Test("S4.f/D1 rejects a linear scan in the wrong direction")
    func rejectsBackwardScan() {
        expectRejected(DiscretisationChecks.checkDiscretisation(seed: 1, discretiser: BrokenDiscretisers.backwardScan))
    }

    // MARK: S5/R1

    @Test("S5/R1 every status is reachable with timestep t*, T or 0")
    func everyStatusIsReachable() throws {
        let result = try expectClaim("S5/R1")
        for status in RowStatus.allCases { #expect(result.statistic.contains(status.rawValue)) }
    }

    @Test("S5/R1 rejects saturated rows reported as transitions")
    func rejectsMissingSaturatedStatus() {
        expectRejected(DiscretisationChecks.checkStatusReachability(seed: 1, synthesizer: BrokenSynthesizers.saturatedAsTransition))
    }

    @Test("S5/R1 rejects fallback rows given timestep T")
    func rejectsFallbackTimestep() {
        expectRejected(DiscretisationChecks.checkStatusReachability(seed: 1, synthesizer: BrokenSynthesizers.fallbackAtLastStep))
    }

    // MARK: S5/P1

    @Test("S5/P1 precedence degenerateUser > alreadyNegative > nonPositiveScore")
    func precedence() throws {
        try expectClaim("S5/P1")
    }

    @Test("S5/P1 rejects nonPositiveScore checked before alreadyNegative")
    func rejectsSwappedScoreOrder() {
        expectRejected(DiscretisationChecks.checkPrecedence(seed: 1, classifier: BrokenClassifiers.scoreSignFirst))
    }

    @Test("S5/P1 rejects degenerateUser checked last")
    func rejectsDegenerateLast() {
        expectRejected(DiscretisationChecks.checkPrecedence(seed: 1, classifier: BrokenClassifiers.degenerateLast))
    }

    // MARK: S6/O1

    @Test("S6/O1 output fields per status match independent recomputation")
    func outputs() throws {
        try expectClaim("S6/O1")
    }

    @Test("S6/O1 rejects x⁻ without the noise scale σ")
    func rejectsMissingSigma() {
        expectRejected(DiscretisationChecks.checkOutputs(seed: 1, synthesizer: BrokenSynthesizers.sigmaDropped))
    }

    @Test("S6/O1 rejects the last candidate on ties")
    func rejectsLastOnTies() {
        expectRejected(DiscretisationChecks.checkOutputs(seed: 1, synthesizer: BrokenSynthesizers.lastOnTies))
    }

    @Test("S6/O1 rejects π reported at t − 1")
    func rejectsPreviousRetention() {
        expectRejected(DiscretisationChecks.checkOutputs(seed: 1, synthesizer: BrokenSynthesizers.previousRetention))
    }

    // MARK: S5/E1

    @Test("S5/E1 every invalid input throws its exact typed error and returns nothing")
    func errors() throws {
        try expectClaim("S5/E1")
    }

    @Test("S5/E1 rejects a pipeline that clamps ρ into (0, 1)")
    func rejectsClampedRho() {
        expectRejected(DiscretisationChecks.checkErrors(seed: 1, pipeline: BrokenPipelines.clampedRho))
    }

    @Test("S5/E1 rejects a pipeline that returns the rows before an overflow")
    func rejectsPartialResults() {
        expectRejected(DiscretisationChecks.checkErrors(seed: 1, pipeline: BrokenPipelines.partialOnOverflow))
    }
}

// MARK: - Deliberately broken implementations (test-only)

enum BrokenDiscretisers {
    /// Binary search deciding ties with `ᾱ_t < ᾱ*`.
    static func strict(_ alphaBarStar: Double, _ schedule: NoiseSchedule) -> Int? {
        guard schedule.alphaBar[schedule.steps] < alphaBarStar else { return nil }
        var low = 1, high = schedule.steps
        while low < high {
            let mid = (low + high) / 2
            if schedule.alphaBar[mid] < alphaBarStar { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// The position in `ᾱ_1 … ᾱ_T` counted from 0: `t* − 1`.
    static func zeroBased(_ alphaBarStar: Double, _ schedule: NoiseSchedule) -> Int? {
        ReferenceADAR.discreteTimestep(alphaBarStar: alphaBarStar, schedule: schedule).map { $0 - 1 }
    }

    /// Scans from T down and stops at the first `ᾱ_t ≤ ᾱ*`: the last such step, not the first.
    static func backwardScan(_ alphaBarStar: Double, _ schedule: NoiseSchedule) -> Int? {
        stride(from: schedule.steps, through: 1, by: -1).first { schedule.alphaBar[$0] <= alphaBarStar }
    }
}

enum BrokenClassifiers {
    static func scoreSignFirst(_ s0: Double, _ sNeg: Double, _ n: Double) -> RowStatus? {
        if n == 0 { return .degenerateUser }
        if s0 <= 0 { return .nonPositiveScore }
        if s0 <= sNeg { return .alreadyNegative }
        return nil
    }

    static func degenerateLast(_ s0: Double, _ sNeg: Double, _ n: Double) -> RowStatus? {
        if s0 <= sNeg { return .alreadyNegative }
        if s0 <= 0 { return .nonPositiveScore }
        if n == 0 { return .degenerateUser }
        return nil
    }
}

enum BrokenSynthesizers {
    typealias Edit = (inout RowOutcome, _ row: Int, ADARBatch, NoiseSchedule, ADARConfiguration) -> Void

    /// The reference's outcomes with one plausible bug applied to each row.
    static func editing(_ edit: @escaping Edit) -> DiscretisationChecks.Synthesizer {
        { batch, schedule, configuration in
            var outcomes = try ReferenceADAR.synthesize(batch, schedule: schedule, configuration: configuration)
            for b in outcomes.indices { edit(&outcomes[b], b, batch, schedule, configuration) }
            return outcomes
        }
    }

    static var saturatedAsTransition: DiscretisationChecks.Synthesizer {
        editing { outcome, _, _, _, _ in
            if outcome.status == .saturated { outcome.status = .transition }
        }
    }

    static var fallbackAtLastStep: DiscretisationChecks.Synthesizer {
        editing { outcome, _, _, schedule, _ in
            if outcome.status.isFallback { outcome.timestep = schedule.steps }
        }
    }

    static var sigmaDropped: DiscretisationChecks.Synthesizer {
        editing { outcome, b, batch, schedule, _ in
            guard !outcome.status.isFallback else { return }
            outcome.syntheticNegative = ReferenceADAR.forwardSample(
                x0: batch.positive(b), epsilon: ReferenceADAR.epsilon(batch, row: b),
                timestep: outcome.timestep, schedule: schedule, sigma: 1)
            outcome.syntheticScore = ReferenceADAR.dot(batch.user(b), outcome.syntheticNegative[...])
        }
    }

    static var lastOnTies: DiscretisationChecks.Synthesizer {
        editing { outcome, b, batch, _, _ in
            let scores = ReferenceADAR.poolScores(batch, row: b)
            let last = scores.indices.last { scores[$0] == scores.max()! }!
            outcome.hardestCandidate = last
            if outcome.status.isFallback {
                outcome.syntheticNegative = Array(batch.candidate(b, last))
                outcome.syntheticScore = scores[last]
            }
        }
    }

    static var previousRetention: DiscretisationChecks.Synthesizer {
        editing { outcome, b, batch, schedule, configuration in
            guard !outcome.status.isFallback else { return }
            let n = ReferenceADAR.scoreNoiseScale(user: batch.user(b), sigma: configuration.sigma)
            outcome.retention = ReferenceADAR.retention(
                timestep: outcome.timestep - 1, positiveScore: outcome.positiveScore,
                referenceNegativeScore: outcome.referenceNegativeScore, noiseScale: n, schedule: schedule)
        }
    }
}

enum BrokenPipelines {
    /// Silently clamps ρ into (0, 1) instead of refusing it.
    static func clampedRho(_ call: DiscretisationChecks.RawCall) throws -> [RowOutcome] {
        var clamped = call
        clamped.rho = call.rho.isNaN ? 0.5 : min(max(call.rho, 0.01), 0.99)
        return try DiscretisationChecks.referencePipeline(clamped)
    }

    /// Synthesises row by row and returns what it had when a row overflows.
    static func partialOnOverflow(_ call: DiscretisationChecks.RawCall) throws -> [RowOutcome] {
        let batch = try ADARBatch(
            rows: call.rows, dimension: call.dimension, poolSize: call.poolSize,
            users: call.users, positives: call.positives, pool: call.pool, noise: call.noise)
        let configuration = try ADARConfiguration(
            rho: call.rho, sigma: call.sigma, augmentationWeight: call.augmentationWeight, l2: call.l2)
        let schedule = try NoiseSchedule(call.schedule, steps: call.steps)
        var outcomes = [RowOutcome]()
        for b in 0..<batch.rows {
            let row = try ADARBatch(
                rows: 1, dimension: batch.dimension, poolSize: batch.poolSize,
                users: Array(batch.user(b)), positives: Array(batch.positive(b)),
                pool: (0..<batch.poolSize).flatMap { batch.candidate(b, $0) },
                noise: .explicit(ReferenceADAR.epsilon(batch, row: b)))
            guard let outcome = try? ReferenceADAR.synthesize(row, schedule: schedule, configuration: configuration) else {
                return outcomes
            }
            outcomes += outcome
        }
        return outcomes
    }
}
