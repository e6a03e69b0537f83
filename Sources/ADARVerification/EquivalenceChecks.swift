import Foundation
import ADARCore
import ADARReference
import ADAR

/// The implementation under test by the equivalence checks: how to build the
/// optimised synthesizer and how to call its four entry points. The default
/// is the production `ADARSynthesizer`; tests substitute broken variants.
public struct EquivalenceSubject: Sendable {
    public var makeSynthesizer: @Sendable (NoiseSchedule, ADARConfiguration) -> ADARSynthesizer { didSet { origin = .custom } }
    public var synthesizeDense: @Sendable (ADARSynthesizer, DenseRows32, Noise32, SynthesisBuffers, Int) throws -> Void { didSet { origin = .custom } }
    public var synthesizeIndexed: @Sendable (ADARSynthesizer, IndexedRows32, Noise32, SynthesisBuffers, Int) throws -> Void { didSet { origin = .custom } }
    public var lossDense: @Sendable (ADARSynthesizer, DenseRows32, SynthesisBuffers, LossBuffers, Int) throws -> Void { didSet { origin = .custom } }
    public var lossIndexed: @Sendable (ADARSynthesizer, IndexedRows32, SynthesisBuffers, LossBuffers, Int) throws -> Void { didSet { origin = .custom } }
    /// Where the subject came from, for the Swift test a shrunk counterexample prints.
    var origin = SubjectOrigin.optimised

    public static let optimised = EquivalenceSubject(
        makeSynthesizer: { ADARSynthesizer(schedule: $0, configuration: $1) },
        synthesizeDense: { try $0.synthesize($1, noise: $2, into: $3, threads: $4) },
        synthesizeIndexed: { try $0.synthesize($1, noise: $2, into: $3, threads: $4) },
        lossDense: { try $0.loss($1, synthesis: $2, into: $3, threads: $4) },
        lossIndexed: { try $0.loss($1, synthesis: $2, into: $3, threads: $4) })

    /// The production synthesizer with `bug` planted in its prepared state
    /// (a τ bug leaves the synthesizer as it is).
    public static func injecting(_ bug: InjectedBug) -> EquivalenceSubject {
        var subject = EquivalenceSubject.optimised
        if let mutation = bug.synthesizerMutation {
            subject.makeSynthesizer = { ADARSynthesizer(mutating: ADARSynthesizer(schedule: $0, configuration: $1), mutation) }
        }
        subject.origin = .injected(bug)
        return subject
    }
}

/// Checks of Proofs/S6-binary32-equivalence.md: the optimised binary32 path
/// (module ADAR) against the binary64 reference, on random and adversarial
/// inputs, within the bounds derived there.
public enum EquivalenceChecks {
    /// Cases of the CI sweep (fixed seed; the whole suite stays under ~20 s in debug).
    public static let ciCases = 36
    /// Cases of the long sweep (`ADAR_SWEEP=long`).
    public static let longCases = 1500
    /// The thread count of the parallel run of S6/E3.
    public static var parallelThreads: Int { Swift.max(4, ADARSynthesizer.defaultThreadCount) }

    public static var claims: [Claim] { claims(subject: .optimised) }

    /// The claims, checking `subject` (`adar verify --inject-bug` passes a broken one).
    public static func claims(subject: EquivalenceSubject) -> [Claim] {
        [
            Claim(id: "S6/E1", title: "binary32 statuses and t* equal the reference's except on derived boundary cases") {
                try checkStatuses(seed: $0, subject: subject)
            },
            Claim(id: "S6/E2", title: "binary32 a*, π, scores and x⁻ are within the derived bounds of the reference") {
                try checkOutputs(seed: $0, subject: subject)
            },
            Claim(id: "S6/E3", title: "binary32 outputs are bit-identical for 1 thread and many") {
                try checkThreadInvariance(seed: $0, subject: subject)
            },
            Claim(id: "S6/E4", title: "binary32 dense and indexed inputs give bit-identical outputs") {
                try checkInputForms(seed: $0, subject: subject)
            },
            Claim(id: "S7/E1", title: "binary32 loss and gradients are within the derived bounds of the reference") {
                try checkLoss(seed: $0, subject: subject)
            },
        ]
    }

    public static func checkStatuses(seed: UInt64, cases: Int = ciCases, subject: EquivalenceSubject = .optimised) throws -> ClaimResult {
        try sweep(.statuses, seed: seed, cases: cases, subject: subject)
    }

    public static func checkOutputs(seed: UInt64, cases: Int = ciCases, subject: EquivalenceSubject = .optimised) throws -> ClaimResult {
        try sweep(.outputs, seed: seed, cases: cases, subject: subject)
    }

    public static func checkLoss(seed: UInt64, cases: Int = ciCases, subject: EquivalenceSubject = .optimised) throws -> ClaimResult {
        try sweep(.loss, seed: seed, cases: cases, subject: subject)
    }

    public static func checkThreadInvariance(seed: UInt64, cases: Int = ciCases, subject: EquivalenceSubject = .optimised) throws -> ClaimResult {
        try sweep(.threadInvariance, seed: seed, cases: cases, subject: subject)
    }

    public static func checkInputForms(seed: UInt64, cases: Int = ciCases, subject: EquivalenceSubject = .optimised) throws -> ClaimResult {
        try sweep(.inputForms, seed: seed, cases: cases, subject: subject)
    }

    /// Runs `claim` over the sweep's cases; when it fails, the first case on
    /// which it fails is shrunk to a minimal counterexample (docs/Shrinking.md).
    static func sweep(_ claim: EquivalenceClaim, seed: UInt64, cases: Int, subject: EquivalenceSubject) throws -> ClaimResult {
        try caseSweep(claim, seed: seed, subject: subject).sweep(cases: cases)
    }

    /// `claim` on the one case `c`: how a shrunk counterexample is replayed.
    public static func check(_ claim: EquivalenceClaim, on c: EquivalenceCase, subject: EquivalenceSubject = .optimised) throws -> ClaimResult {
        try caseSweep(claim, seed: c.caseSeed, subject: subject).single(c)
    }

    static func caseSweep(_ claim: EquivalenceClaim, seed: UInt64, subject: EquivalenceSubject) -> CaseSweep<EquivalenceCase, SweepTally, any Error> {
        CaseSweep(
            claimID: claim.rawValue, emptyTally: SweepTally(),
            draw: { try EquivalenceCaseGenerator.make(sweepSeed: seed, index: $0) },
            run: { try EquivalenceSweep.runCase($0, sweepSeed: seed, subject: subject, parts: claim.parts, into: &$1) },
            result: { claim.result($0, cases: $1, seed: seed) },
            check: "EquivalenceChecks.check(.\(claim), on: c\(subject.origin.argument))")
    }

    /// The statuses the analysis allows the binary32 path for one row
    /// (`d` = `user.count`, `M` = `pool.count / d`), by S5 name.
    public static func allowedOutcomes(
        user: [Float], positive: [Float], pool: [Float], schedule: NoiseSchedule, configuration: ADARConfiguration
    ) -> Set<String> {
        let d = user.count
        let analysis = user.withUnsafeBufferPointer { u in
            positive.withUnsafeBufferPointer { x in
                pool.withUnsafeBufferPointer { p in
                    EquivalenceAnalysis.analyse(
                        user: u, positive: x,
                        candidates: (0 ..< pool.count / d).map { UnsafeBufferPointer(rebasing: p[$0 * d ..< ($0 + 1) * d]) },
                        schedule: schedule, configuration: configuration)
                }
            }
        }
        var names = Set(analysis.possibleFallbacks.map(\.rawValue))
        if analysis.validPossible {
            let transition = analysis.transition
            if transition.map({ !$0.possibleTimesteps.isEmpty }) ?? true { names.insert(RowStatus.transition.rawValue) }
            if transition?.saturatedPossible ?? true { names.insert(RowStatus.saturated.rawValue) }
        }
        return names
    }

}

/// The claims that sweep `EquivalenceCase`s: which parts of a case each runs
/// and how it judges what they tallied.
public enum EquivalenceClaim: String, CaseIterable, Sendable {
    case statuses = "S6/E1", outputs = "S6/E2", threadInvariance = "S6/E3", inputForms = "S6/E4", loss = "S7/E1"

    var parts: Set<EquivalenceSweep.Part> {
        switch self {
        case .statuses, .outputs: []
        case .threadInvariance: [.threads]
        case .inputForms: [.forms]
        case .loss: [.loss]
        }
    }

    func result(_ tally: SweepTally, cases: Int, seed: UInt64) -> ClaimResult {
        let id = rawValue
        switch self {
        case .statuses:
            let s = tally.statuses
            return ClaimResult(
                id: id,
                statistic: "\(s.rows) rows in \(cases) cases: \(s.boundary) boundary (\(s.boundaryDiffered) differed there; by row kind "
                    + s.boundaryByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "), "
                    + "\(s.rangeCalls) calls refused for binary32 overflow as predicted, \(s.mismatches) outside the analysis",
                measure: .exact(mismatches: s.mismatches, cases: s.rows), seed: seed,
                worstCase: s.firstMismatch ?? s.exampleBoundary ?? "")
        case .outputs, .loss:
            return ErrorTally.result(
                id: id, self == .loss ? tally.loss : tally.outputs, cases: cases, seed: seed,
                scope: " (of \(tally.statuses.boundary) boundary rows, \(tally.statuses.boundaryDiffered) whose status or t* differ are not compared)")
        case .threadInvariance:
            return ClaimResult(
                id: id, statistic: "\(tally.threads.cases) calls (synthesis and loss), 1 thread vs \(EquivalenceChecks.parallelThreads): bitwise",
                measure: .exact(mismatches: tally.threads.mismatches, cases: tally.threads.cases), seed: seed,
                worstCase: tally.threads.firstMismatch ?? "")
        case .inputForms:
            return ClaimResult(
                id: id, statistic: "\(tally.forms.cases) calls (synthesis and loss), dense vs indexed: bitwise",
                measure: .exact(mismatches: tally.forms.mismatches, cases: tally.forms.cases), seed: seed,
                worstCase: tally.forms.firstMismatch ?? "")
        }
    }
}

/// The worst error of one output against its derived bound.
struct ErrorTally {
    /// The claim result of several outputs' tallies: the worst error/bound ratio over them, infinite
    /// when a value that must be exact is not; `scope` qualifies the case count in the statistic.
    static func result(id: String, _ outputs: [String: ErrorTally], cases: Int, seed: UInt64, scope: String = "") -> ClaimResult {
        let names = outputs.keys.sorted()
        let worst = names.max { outputs[$0]!.worstRatio < outputs[$1]!.worstRatio }
        let worstRatio = worst.map { outputs[$0]!.worstRatio } ?? 0
        let exactMismatches = outputs.values.reduce(0) { $0 + $1.exactMismatches }
        let perOutput = names.map { name in
            let t = outputs[name]!
            return "\(name): \(t.compared) values, worst \(short(t.worstULP)) ulp / rel \(short(t.worstRelative)), "
                + "\(short(t.worstRatio)) of bound, \(t.unbounded) out of binary32 range"
        }
        let worstCase = outputs.values.compactMap(\.firstExactMismatch).first
            ?? worst.map { "\($0): \(outputs[$0]!.worstCase)" } ?? ""
        return ClaimResult(
            id: id, statistic: "error / derived per-value bound over \(cases) cases\(scope); " + perOutput.joined(separator: "; "),
            measure: .maxError(exactMismatches > 0 ? .infinity : worstRatio, bound: 1, unit: "rel"),
            seed: seed, worstCase: worstCase)
    }

    var compared = 0, unbounded = 0, exactMismatches = 0
    var worstRatio = 0.0, worstULP = 0.0, worstRelative = 0.0
    var worstCase = ""
    var firstExactMismatch: String?

    mutating func record(_ got: Double, _ expected: Double, _ bound: Enclosure, context: @autoclosure () -> String) {
        compared += 1
        let diff = abs(got - expected)
        guard bound.isBounded else { unbounded += 1; return }
        let ratio = diff == 0 ? 0 : bound.radius > 0 ? diff / bound.radius : .infinity
        let ulp = Double(Swift.max(Float(abs(expected)), .leastNonzeroMagnitude).ulp)
        worstULP = Swift.max(worstULP, diff.isNaN ? .infinity : diff / ulp)
        worstRelative = Swift.max(worstRelative, diff.isNaN ? .infinity : expected == 0 ? diff : diff / abs(expected))
        if ratio > worstRatio || ratio.isNaN {
            worstRatio = ratio.isNaN ? .infinity : ratio
            worstCase = "got \(got), reference \(expected), bound ±\(bound.radius); \(context())"
        }
    }

    mutating func recordExact(_ agrees: Bool, context: @autoclosure () -> String) {
        compared += 1
        if !agrees {
            exactMismatches += 1
            if firstExactMismatch == nil { firstExactMismatch = context() }
        }
    }
}

struct StatusTally {
    var rows = 0, mismatches = 0, boundary = 0, boundaryDiffered = 0, rangeCalls = 0
    var boundaryByKind = [String: Int]()
    var firstMismatch: String?, exampleBoundary: String?
}

struct BitwiseTally {
    var cases = 0, mismatches = 0
    var firstMismatch: String?

    mutating func record(_ agrees: Bool, context: @autoclosure () -> String) {
        cases += 1
        if !agrees {
            mismatches += 1
            if firstMismatch == nil { firstMismatch = context() }
        }
    }
}

struct SweepTally {
    var statuses = StatusTally()
    var outputs = [String: ErrorTally]()
    var loss = [String: ErrorTally]()
    var threads = BitwiseTally(), forms = BitwiseTally()
}

/// Every output of one synthesis call, bit for bit (NaN payloads included).
struct SynthesisSnapshot: Equatable {
    let statuses: [RowStatus], timesteps: [Int32], hardest: [Int32], values: [[UInt32]]

    init(_ b: SynthesisBuffers) {
        statuses = Array(b.statuses); timesteps = Array(b.timesteps); hardest = Array(b.hardestCandidates)
        values = [b.aStars, b.retentions, b.positiveScores, b.referenceNegativeScores, b.syntheticScores, b.syntheticNegatives]
            .map { $0.map(\.bitPattern) }
    }
}

struct LossSnapshot: Equatable {
    let values: [[UInt32]]

    init(_ b: LossBuffers) {
        values = [b.losses, b.userGradients, b.positiveGradients, b.negativeGradients, b.fallbackGradients].map { $0.map(\.bitPattern) }
    }
}

/// Runs the sweep of Proofs/S6-binary32-equivalence.md ("Inputs") and tallies
/// what every claim measures.
enum EquivalenceSweep {
    enum Part { case loss, threads, forms }

    static func run(seed: UInt64, cases: Int, subject: EquivalenceSubject, parts: Set<Part>) throws -> SweepTally {
        var tally = SweepTally()
        for index in 0..<cases {
            let c = try EquivalenceCaseGenerator.make(sweepSeed: seed, index: index)
            try runCase(c, sweepSeed: seed, subject: subject, parts: parts, into: &tally)
        }
        return tally
    }

    static func runCase(_ c: EquivalenceCase, sweepSeed: UInt64, subject: EquivalenceSubject, parts: Set<Part>, into tally: inout SweepTally) throws {
        let replay = "\(c); replay: ADAR_SEED=\(sweepSeed) swift test --filter EquivalenceTests (case #\(c.index))"
        let synthesizer = subject.makeSynthesizer(c.schedule, c.configuration)
        let dense = try c.dense, batch = try c.batch
        let synthesis = SynthesisBuffers()
        var floatError: Error?
        do { try subject.synthesizeDense(synthesizer, dense, c.noise, synthesis, 1) } catch { floatError = error }
        let losses = LossBuffers()
        if floatError == nil && !parts.isDisjoint(with: [.loss, .threads, .forms]) {
            try subject.lossDense(synthesizer, dense, synthesis, losses, 1)
        }

        if parts.contains(.threads) {
            let parallel = SynthesisBuffers(), parallelLoss = LossBuffers()
            var parallelError: Error?
            do { try subject.synthesizeDense(synthesizer, dense, c.noise, parallel, EquivalenceChecks.parallelThreads) } catch { parallelError = error }
            tally.threads.record(sameOutcome(floatError, parallelError, SynthesisSnapshot(synthesis), SynthesisSnapshot(parallel)),
                                 context: "synthesis differs with \(EquivalenceChecks.parallelThreads) threads: \(replay)")
            if floatError == nil && parallelError == nil {
                try subject.lossDense(synthesizer, dense, synthesis, parallelLoss, EquivalenceChecks.parallelThreads)
                tally.threads.record(LossSnapshot(losses) == LossSnapshot(parallelLoss),
                                     context: "loss differs with \(EquivalenceChecks.parallelThreads) threads: \(replay)")
            }
        }
        if parts.contains(.forms) {
            var shuffler = SeededGenerator(seed: c.caseSeed ^ 0x5EED)
            let indexed = try c.indexed(using: &shuffler)
            let gathered = SynthesisBuffers(), gatheredLoss = LossBuffers()
            var gatheredError: Error?
            do { try subject.synthesizeIndexed(synthesizer, indexed, c.noise, gathered, 1) } catch { gatheredError = error }
            tally.forms.record(sameOutcome(floatError, gatheredError, SynthesisSnapshot(synthesis), SynthesisSnapshot(gathered)),
                               context: "indexed synthesis differs from dense: \(replay)")
            if floatError == nil && gatheredError == nil {
                try subject.lossIndexed(synthesizer, indexed, gathered, gatheredLoss, 1)
                tally.forms.record(LossSnapshot(losses) == LossSnapshot(gatheredLoss),
                                   context: "indexed loss differs from dense: \(replay)")
            }
        }
        if parts.contains(.threads) || parts.contains(.forms) { return }

        let outcomes = try ReferenceADAR.synthesize(batch, schedule: c.schedule, configuration: c.configuration)
        c.users.withUnsafeBufferPointer { users in
            c.positives.withUnsafeBufferPointer { positives in
                c.pool.withUnsafeBufferPointer { pool in
                    let d = c.dimension
                    let slice = { (base: UnsafeBufferPointer<Float>, start: Int) in UnsafeBufferPointer(rebasing: base[start ..< start + d]) }
                    let analyses = (0..<c.rows).map { b in
                        EquivalenceAnalysis.analyse(
                            user: slice(users, b * d), positive: slice(positives, b * d),
                            candidates: (0..<c.poolSize).map { slice(pool, (b * c.poolSize + $0) * d) },
                            schedule: c.schedule, configuration: c.configuration)
                    }
                    if let floatError {
                        // S6 "Range": binary32 refuses the call only when a row may overflow.
                        let predicted = analyses.contains { !$0.mayStayInRange }
                        if predicted, case ADARError.overflow = floatError {
                            tally.statuses.rangeCalls += 1
                        } else {
                            tally.statuses.mismatches += 1
                            tally.statuses.firstMismatch = tally.statuses.firstMismatch ?? "binary32 threw \(floatError), not predicted: \(replay)"
                        }
                        return
                    }
                    for b in 0..<c.rows {
                        let context = { "row \(b) (\(c.rowKinds[b].rawValue)) of \(replay)" }
                        let row = RowComparison(
                            c: c, b: b, reference: outcomes[b], analysis: analyses[b], synthesis: synthesis,
                            user: slice(users, b * d), positive: slice(positives, b * d),
                            candidate: { slice(pool, (b * c.poolSize + $0) * d) })
                        row.compareStatus(into: &tally.statuses, context: context)
                        row.compareOutputs(into: &tally.outputs, context: context)
                        if parts.contains(.loss) {
                            let reference = ReferenceADAR.loss(batch, row: b, outcome: outcomes[b], schedule: c.schedule, configuration: c.configuration)
                            row.compareLoss(reference, losses, into: &tally.loss, context: context)
                        }
                    }
                }
            }
        }
    }

    static func sameOutcome(_ e1: Error?, _ e2: Error?, _ s1: SynthesisSnapshot, _ s2: SynthesisSnapshot) -> Bool {
        switch (e1 as? ADARError, e2 as? ADARError) {
        case (nil, nil): return e1 == nil && e2 == nil && s1 == s2
        case let (a?, b?): return a == b
        default: return false
        }
    }
}
