import Foundation
import ADARCore
import ADARReference
import GSLOracle

/// Checks of Proofs/S4f-S5-discretisation.md (S4.f discretisation, S5 statuses, S6 outputs, errors).
public enum DiscretisationChecks {
    public static var claims: [Claim] {
        [
            Claim(id: "S4.f/D1", title: "t* is the first step with π_t ≤ ρ (binary search on ᾱ_t ≤ ᾱ*)") { seed in
                checkDiscretisation(seed: seed)
            },
            Claim(id: "S5/R1", title: "every S5 status is reachable, with its timestep") { seed in
                checkStatusReachability(seed: seed)
            },
            Claim(id: "S5/P1", title: "precedence degenerateUser > alreadyNegative > nonPositiveScore") { seed in
                checkPrecedence(seed: seed)
            },
            Claim(id: "S6/O1", title: "output fields per status, recomputed independently") { seed in
                checkOutputs(seed: seed)
            },
            Claim(id: "S5/E1", title: "invalid input throws the exact typed error, nothing partial") { seed in
                checkErrors(seed: seed)
            },
        ]
    }

    // MARK: - Implementations under test

    /// S4.f: `ᾱ*` and the schedule → `t*`, or `nil` when `ᾱ_T > ᾱ*`.
    public typealias Discretiser = (_ alphaBarStar: Double, _ schedule: NoiseSchedule) -> Int?
    /// S5 fallback classifier: `(s_0, s⁻, n)` → fallback status, `nil` on the valid domain.
    public typealias Classifier = (_ positiveScore: Double, _ referenceNegativeScore: Double, _ noiseScale: Double) -> RowStatus?
    /// S6: the whole synthesis call.
    public typealias Synthesizer = (ADARBatch, NoiseSchedule, ADARConfiguration) throws -> [RowOutcome]
    /// Raw inputs → validated inputs → synthesis: the path every error of S5/E1 must stop.
    public typealias Pipeline = (RawCall) throws -> [RowOutcome]

    public static func referenceSynthesizer(
        _ batch: ADARBatch, _ schedule: NoiseSchedule, _ configuration: ADARConfiguration
    ) throws -> [RowOutcome] {
        try ReferenceADAR.synthesize(batch, schedule: schedule, configuration: configuration)
    }

    /// Unvalidated inputs of one synthesis call, as a caller would hand them over.
    public struct RawCall: Sendable {
        public var rows: Int, dimension: Int, poolSize: Int
        public var users: [Double], positives: [Double], pool: [Double]
        public var noise: NoiseInput
        public var rho: Double, sigma: Double, augmentationWeight: Double, l2: Double
        public var schedule: ScheduleKind, steps: Int

        public init(
            rows: Int = 2, dimension: Int = 3, poolSize: Int = 2,
            users: [Double], positives: [Double], pool: [Double], noise: NoiseInput,
            rho: Double = 0.5, sigma: Double = 1, augmentationWeight: Double = 1, l2: Double = 0,
            schedule: ScheduleKind = .defaultCosine, steps: Int = 20
        ) {
            (self.rows, self.dimension, self.poolSize) = (rows, dimension, poolSize)
            self.users = users
            self.positives = positives
            self.pool = pool
            self.noise = noise
            (self.rho, self.sigma, self.augmentationWeight, self.l2) = (rho, sigma, augmentationWeight, l2)
            (self.schedule, self.steps) = (schedule, steps)
        }
    }

    public static func referencePipeline(_ call: RawCall) throws -> [RowOutcome] {
        let batch = try ADARBatch(
            rows: call.rows, dimension: call.dimension, poolSize: call.poolSize,
            users: call.users, positives: call.positives, pool: call.pool, noise: call.noise)
        let configuration = try ADARConfiguration(
            rho: call.rho, sigma: call.sigma, augmentationWeight: call.augmentationWeight, l2: call.l2)
        let schedule = try NoiseSchedule(call.schedule, steps: call.steps)
        return try ReferenceADAR.synthesize(batch, schedule: schedule, configuration: configuration)
    }

    // MARK: - S4.f/D1

    /// The schedules D1 sweeps: every family of S1, short and long tables, and T = 1.
    static func discretisationSchedules() -> [NoiseSchedule] {
        let kinds: [(ScheduleKind, Int)] = [
            (.linear(start: 1e-4, end: 0.02), 1000), (.ddpmLinear, 50), (.defaultCosine, 1000),
            (.defaultCosine, 20), (.scaledLinear(start: 0.00085, end: 0.012), 1000),
            (.linearVariance(scale: 0.1, min: 0.001, max: 0.02, maxBeta: 0.999), 5),
            (.linear(start: 0.1, end: 0.9), 7), (.custom(betas: [0.3]), 1),
        ]
        // These parameters are all valid (S1), so construction cannot fail.
        return kinds.map { try! NoiseSchedule($0.0, steps: $0.1) }
    }

    /// S4.f/D1: the discretiser, fed the reference `a*` (S4.d), against the
    /// brute-force scan `min{t : π_t ≤ ρ}` with `π_t` from GSL's Φ; plus the
    /// normative binary64 tie rule `min{t : ᾱ_t ≤ ᾱ*}` (exact linear scan) on
    /// every case and on probes placed on, just above and just below table entries.
    /// Each probe and row is a `DiscretisationCase`; a failing sweep shrinks its first failing one.
    public static func checkDiscretisation(
        seed: UInt64, randomRowsPerSchedule: Int = 150, nearTieRowsPerSchedule: Int = 60,
        discretiser: Discretiser? = nil
    ) -> ClaimResult {
        var generator = SeededGenerator(seed: seed)
        // Every schedule's probes, then its rows, drawn in the order the sweep has always drawn them.
        let inputs = discretisationSchedules().flatMap { schedule in
            drawInputs(schedule: schedule, randomRows: randomRowsPerSchedule, nearTieRows: nearTieRowsPerSchedule, using: &generator)
                .map { (schedule, $0.input, $0.nearTie) }
        }
        return discretisationSweep(seed: seed, discretiser: discretiser) { (index: Int) throws(Never) in
            let (schedule, input, nearTie) = inputs[index]
            // Tie steps are drawn from 1…T, so the case is valid.
            return try! DiscretisationCase(schedule: schedule, input: input, nearTie: nearTie, index: index)
        }.sweep(cases: inputs.count)
    }

    /// One schedule's inputs of S4.f/D1: the tie-rule probes `ᾱ* ∈ {0, 1, ᾱ_T⁻}` and, at every step (40
    /// random steps when `T > 50`), on, above, below and midway; then the random and near-tie rows.
    static func drawInputs(
        schedule: NoiseSchedule, randomRows: Int, nearTieRows: Int, using generator: inout SeededGenerator
    ) -> [(input: DiscretisationCase.Input, nearTie: Bool)] {
        var inputs: [DiscretisationCase.Input] = [.alphaBarStar(0), .alphaBarStar(1), .tie(step: schedule.steps, .below)]
        let steps = schedule.steps <= 50 ? Array(1...schedule.steps)
            : (0..<40).map { _ in Int.random(in: 1...schedule.steps, using: &generator) }
        for k in steps { inputs += [.tie(step: k, .on), .tie(step: k, .above), .tie(step: k, .below), .tie(step: k, .midway)] }
        let probes = inputs.map { (input: $0, nearTie: false) }
        let rows = (0 ..< randomRows + nearTieRows).map { index -> (input: DiscretisationCase.Input, nearTie: Bool) in
            let nearTie = index >= randomRows
            let row = nearTie ? DomainRow.nearTie(schedule: schedule, using: &generator) : DomainRow.random(using: &generator)
            return (.row(s0: row.s0, sNeg: row.sNeg, n: row.n, rho: row.rho), nearTie)
        }
        return probes + rows
    }

    /// S4.f/D1 on one case: a probe against the tie rule, or a row (skipped outside the valid domain)
    /// against the π-scan and the tie rule.
    static func runDiscretisation(_ c: DiscretisationCase, _ discretiser: Discretiser, into tally: inout DiscretisationTally) {
        let schedule = c.schedule
        if let alphaBarStar = c.probe {
            let expected = firstStepAtOrBelow(alphaBarStar, schedule: schedule)
            let actual = discretiser(alphaBarStar, schedule)
            tally.record(c, mismatch: actual == expected ? nil
                : "\(c.label), ᾱ* = \(alphaBarStar): got \(describe(actual)), tie rule gives \(describe(expected))")
            return
        }
        guard case let .row(s0, sNeg, n, rho) = c.input,
              s0 > 0, n > 0, s0 > sNeg, rho > 0, rho < 1, [s0, sNeg, n].allSatisfy(\.isFinite) else { return }
        let row = DomainRow(s0: s0, sNeg: sNeg, n: n, rho: rho)
        let outcome = compareWithRetentionScan(row, schedule: schedule, discretiser: discretiser)
        if c.nearTie { tally.nearTieRows += 1 } else { tally.randomRows += 1 }
        if outcome.boundary {
            if outcome.discrete != outcome.scan { tally.oneStepApart += 1 }
            if c.nearTie { tally.boundaryNearTie += 1 } else { tally.boundaryRandom += 1 }
        }
        if outcome.scan != nil { tally.transitions += 1 }
        tally.record(c, mismatch: outcome.agrees ? nil
            : "\(c.label), \(row): discretiser \(describe(outcome.discrete)), π-scan \(describe(outcome.scan)), tie rule \(describe(outcome.tieRule))\(outcome.boundary ? " (boundary)" : "")")
    }

    /// S4.f/D1 on the one case `c` (the reference's discretiser unless `discretiser` is given):
    /// how a shrunk counterexample is replayed.
    public static func checkDiscretisation(on c: DiscretisationCase, discretiser: Discretiser? = nil) -> ClaimResult {
        discretisationSweep(seed: 0, discretiser: discretiser) { (_: Int) throws(Never) in c }.single(c)
    }

    /// S4.f/D1's sweep over the cases `draw` returns.
    static func discretisationSweep(
        seed: UInt64, discretiser: Discretiser?, draw: @escaping (Int) throws(Never) -> DiscretisationCase
    ) -> CaseSweep<DiscretisationCase, DiscretisationTally, Never> {
        CaseSweep(
            claimID: "S4.f/D1", call: "DiscretisationChecks.checkDiscretisation(on: c", argument: "discretiser",
            tested: discretiser, reference: ReferenceADAR.discreteTimestep(alphaBarStar:schedule:),
            emptyTally: DiscretisationTally(), draw: draw, run: runDiscretisation,
            result: { tally, _ in
                ClaimResult(
                    id: "S4.f/D1",
                    statistic: "\(tally.cases) cases over \(tally.schedules.count) schedules (\(tally.transitions) rows cross ρ); boundary cases (π_t or ᾱ_t within rounding of ρ or ᾱ*, allowed one step): \(tally.boundaryRandom) of \(tally.randomRows) random rows, \(tally.boundaryNearTie) of \(tally.nearTieRows) near-tie rows, \(tally.oneStepApart) of them one step apart",
                    measure: .exact(mismatches: tally.mismatches, cases: tally.cases), seed: seed, worstCase: tally.firstFailure)
            })
    }

    /// `min{t ∈ 1…T : ᾱ_t ≤ ᾱ*}` by a plain linear scan: the definition of S4.f.
    static func firstStepAtOrBelow(_ alphaBarStar: Double, schedule: NoiseSchedule) -> Int? {
        (1...schedule.steps).first { schedule.alphaBar[$0] <= alphaBarStar }
    }

    static func describe(_ step: Int?) -> String { step.map { "t = \($0)" } ?? "none (saturated)" }

    /// One valid-domain row of S4.b: `n > 0, s_0 > 0, s_0 > s⁻`, with `ρ`.
    struct DomainRow: CustomStringConvertible {
        var s0: Double, sNeg: Double, n: Double, rho: Double

        var description: String { "s0 = \(s0), s⁻ = \(sNeg), n = \(n), ρ = \(rho)" }

        static func randomRho(using generator: inout SeededGenerator) -> Double {
            Bool.random(using: &generator) && Bool.random(using: &generator) ? 0.5 : Double.random(in: 0.01...0.99, using: &generator)
        }

        static func logUniform(_ low: Double, _ high: Double, using generator: inout SeededGenerator) -> Double {
            exp(Double.random(in: log(low)...log(high), using: &generator))
        }

        static func random(using generator: inout SeededGenerator) -> DomainRow {
            let s0 = logUniform(0.01, 10, using: &generator)
            let ratio = Double.random(in: -1.5..<0.999, using: &generator)
            let n = s0 * logUniform(0.02, 20, using: &generator)
            return DomainRow(s0: s0, sNeg: ratio * s0, n: n, rho: randomRho(using: &generator))
        }

        /// `s⁻ = √ᾱ_k·s_0 − z·n·√(1 − ᾱ_k)` puts the exact crossing on table
        /// entry k (S4.a with π_k = ρ); a jitter of a few ulps in s⁻ moves it
        /// to either side by less than the rounding of π_k and of `a*`.
        static func nearTie(schedule: NoiseSchedule, using generator: inout SeededGenerator) -> DomainRow {
            while true {
                let k = Int.random(in: 1...schedule.steps, using: &generator)
                let rho = randomRho(using: &generator)
                let z = GSL.normalQuantile(rho)
                let s0 = logUniform(0.01, 10, using: &generator)
                let n = s0 * logUniform(0.02, 2, using: &generator)
                var sNeg = schedule.sqrtAlphaBar[k] * s0 - z * n * schedule.sqrtOneMinusAlphaBar[k]
                sNeg += Double(Int.random(in: -3...3, using: &generator)) * sNeg.ulp
                if sNeg < s0 { return DomainRow(s0: s0, sNeg: sNeg, n: n, rho: rho) }
            }
        }
    }

    /// What S4.f/D1 tallies over its probes and rows.
    struct DiscretisationTally {
        var cases = 0, mismatches = 0, transitions = 0
        var randomRows = 0, nearTieRows = 0, boundaryRandom = 0, boundaryNearTie = 0, oneStepApart = 0
        var schedules = Set<String>(), firstFailure = ""

        mutating func record(_ c: DiscretisationCase, mismatch: String?) {
            cases += 1
            schedules.insert(c.label)
            guard let mismatch else { return }
            mismatches += 1
            if firstFailure.isEmpty { firstFailure = mismatch }
        }
    }

    struct DiscretisationComparison {
        var discrete: Int?
        var scan: Int?
        var tieRule: Int?
        var boundary: Bool
        var agrees: Bool
    }

    /// GSL's Φ relative error budget: Cody's rational approximation is accurate
    /// to ~1.4e-20; evaluating it in binary64 costs a few roundings (Proofs, S4.f/D1).
    static let gslNormalCDFRelativeError = 16 * unitRoundoff

    /// Runs one valid-domain row through reference `a*` + discretiser and the
    /// GSL π-scan, and flags steps whose decision rounding can flip.
    static func compareWithRetentionScan(
        _ row: DomainRow, schedule: NoiseSchedule, discretiser: Discretiser
    ) -> DiscretisationComparison {
        let aStar = ReferenceADAR.transitionAmplitude(
            positiveScore: row.s0, referenceNegativeScore: row.sNeg, noiseScale: row.n, rho: row.rho)
        let discrete = aStar.flatMap { discretiser($0 * $0, schedule) }
        let tieRule = aStar.flatMap { firstStepAtOrBelow($0 * $0, schedule: schedule) }
        let amplitude = amplitudeWithErrorBound(row)
        // ᾱ* as the reference forms it, with the bound of its error.
        let alphaBarStar = aStar.map { $0 * $0 }
        let alphaBarStarBound = amplitude.map { a -> Double in
            let offset = abs((aStar ?? a.value) - a.value)   // the mirror should be bitwise equal
            let e = a.bound + offset
            return (2 * abs(a.value) + e) * e + unitRoundoff * a.value * a.value
        }
        var boundary = amplitude?.existenceAmbiguous ?? false
        var scan: Int?
        for t in 1...schedule.steps {
            let x = retentionArgument(step: t, row: row, schedule: schedule)
            let pi = GSL.normalCDF(x.value)
            if scan == nil && pi <= row.rho { scan = t }
            let nearestToZero = max(abs(x.value) - x.bound, 0)
            if abs(pi - row.rho) <= normalDensity(nearestToZero) * x.bound + gslNormalCDFRelativeError * pi {
                boundary = true
            }
            if let alphaBarStar, let alphaBarStarBound,
               abs(schedule.alphaBar[t] - alphaBarStar) <= alphaBarStarBound {
                boundary = true
            }
        }
        // Saturated counts as step T + 1 so "one step off" is uniform.
        let offset = abs((discrete ?? schedule.steps + 1) - (scan ?? schedule.steps + 1))
        let agrees = discrete == tieRule && (boundary ? offset <= 1 : offset == 0)
        return DiscretisationComparison(discrete: discrete, scan: scan, tieRule: tieRule, boundary: boundary, agrees: agrees)
    }

    /// `x_t = (√ᾱ_t·s_0 − s⁻)/(√(1 − ᾱ_t)·n)` from the binary64 table `ᾱ_t`, with its running error bound.
    static func retentionArgument(step t: Int, row: DomainRow, schedule: NoiseSchedule) -> Bounded {
        let alphaBar = Bounded(schedule.alphaBar[t])
        let a = alphaBar.squareRoot(), b = (Bounded(1) - alphaBar).squareRoot()
        return (a * Bounded(row.s0) - Bounded(row.sNeg)) / (b * Bounded(row.n))
    }

    static func normalDensity(_ x: Double) -> Double { exp(-x * x / 2) / (2 * Double.pi).squareRoot() }

    struct AmplitudeBound { var value: Double, bound: Double, existenceAmbiguous: Bool }

    /// The reference's S4.d/S4.e formula replayed in running-error arithmetic,
    /// starting from `z` with its error (`ẑ` vs GSL's Φ⁻¹, plus GSL's own 4u);
    /// `nil` when the radicand is certainly negative (no crossing at all).
    static func amplitudeWithErrorBound(_ row: DomainRow) -> AmplitudeBound? {
        let zReference = StandardNormal.quantile(row.rho), zOracle = GSL.normalQuantile(row.rho)
        let z = Bounded(zReference, bound: abs(zReference - zOracle) + 4 * unitRoundoff * abs(zOracle))
        let s0 = Bounded(row.s0), sNeg = Bounded(row.sNeg), n = Bounded(row.n)
        if zReference == 0 {
            let a = sNeg / s0
            return AmplitudeBound(value: a.value, bound: a.bound, existenceAmbiguous: abs(a.value) <= a.bound)
        }
        let zn = z * n
        let radicand = (s0 - sNeg) * (s0 + sNeg) + zn * zn
        let radicandAmbiguous = abs(radicand.value) <= radicand.bound
        guard radicand.value >= 0 else {
            return radicandAmbiguous ? AmplitudeBound(value: 0, bound: .infinity, existenceAmbiguous: true) : nil
        }
        let b = s0 * sNeg, c = zn * radicand.squareRoot()
        let a = (b.value >= 0) == (c.value >= 0)
            ? (b + c) / (s0 * s0 + zn * zn)
            : (sNeg - zn) * (sNeg + zn) / (b - c)
        return AmplitudeBound(value: a.value, bound: a.bound, existenceAmbiguous: radicandAmbiguous || abs(a.value) <= a.bound)
    }

    // MARK: - S5/R1

    /// A row of a dense batch, `d = 3`, `M = 2`.
    struct BatchRow {
        var user: [Double], positive: [Double], candidates: [[Double]]
    }

    static func batch(_ rows: [BatchRow], noise: NoiseInput) throws -> ADARBatch {
        let d = rows.first?.user.count ?? 1, m = rows.first?.candidates.count ?? 1
        return try ADARBatch(
            rows: rows.count, dimension: d, poolSize: m,
            users: rows.flatMap(\.user), positives: rows.flatMap(\.positive),
            pool: rows.flatMap { $0.candidates.flatMap { $0 } }, noise: noise)
    }

    /// `e_u = (1, 0, 0)` (`n = σ`), `s_0 = s0`, pool scores `s⁻` and `s⁻ − 1`.
    static func scoredRow(s0: Double, sNeg: Double) -> BatchRow {
        BatchRow(user: [1, 0, 0], positive: [s0, 0.25, -0.5], candidates: [[sNeg - 1, 1, 0], [sNeg, -1, 2]])
    }

    struct ExpectedStatus {
        var label: String, status: RowStatus, timestep: Int, aStarDefined: Bool
    }

    /// S5/R1: one call at `ρ = ½` and one at `ρ = 0.2`, each row built to land on a given status.
    public static func checkStatusReachability(
        seed: UInt64, synthesizer: Synthesizer = referenceSynthesizer
    ) -> ClaimResult {
        let schedule = try! NoiseSchedule(.defaultCosine, steps: 50)
        let T = schedule.steps
        var mismatches = 0, cases = 0, firstFailure = ""
        var reached = Set<RowStatus>()
        for (rho, sigma) in [(0.5, 1.0), (0.2, 0.01)] {
            let z = GSL.normalQuantile(rho)
            var rows = [BatchRow](), expected = [ExpectedStatus]()
            func add(_ label: String, _ row: BatchRow, _ status: RowStatus, _ t: Int, aStar: Bool) {
                rows.append(row)
                expected.append(ExpectedStatus(label: label, status: status, timestep: t, aStarDefined: aStar))
            }
            // transition: put the exact crossing midway between √ᾱ_k and √ᾱ_{k−1} (S4.a solved for s⁻).
            for k in [1, 2, 25, T] {
                let a = (schedule.sqrtAlphaBar[k] + schedule.sqrtAlphaBar[k - 1]) / 2
                let s0 = 1.0, n = sigma
                let sNeg = a * s0 - z * n * (1 - a * a).squareRoot()
                add("transition k=\(k)", scoredRow(s0: s0, sNeg: sNeg), .transition, k, aStar: true)
            }
            // saturated, no crossing in [0, 1): Φ(−s⁻/n) > ρ.
            add("saturated, no crossing", scoredRow(s0: 1, sNeg: -3 * sigma), .saturated, T, aStar: false)
            // saturated, ᾱ_T > ᾱ*: the crossing lies at half of √ᾱ_T.
            let aLate = schedule.sqrtAlphaBar[T] / 2
            add("saturated, ᾱ_T > ᾱ*", scoredRow(s0: 1, sNeg: aLate - z * sigma * (1 - aLate * aLate).squareRoot()),
                .saturated, T, aStar: true)
            add("alreadyNegative s0 < s⁻", scoredRow(s0: 1, sNeg: 2), .alreadyNegative, 0, aStar: false)
            add("alreadyNegative s0 = s⁻", scoredRow(s0: 1, sNeg: 1), .alreadyNegative, 0, aStar: false)
            add("nonPositiveScore s0 = 0", scoredRow(s0: 0, sNeg: -1), .nonPositiveScore, 0, aStar: false)
            add("nonPositiveScore s0 < 0", scoredRow(s0: -1, sNeg: -2), .nonPositiveScore, 0, aStar: false)
            add("degenerateUser e_u = 0",
                BatchRow(user: [0, 0, 0], positive: [1, 2, 3], candidates: [[1, 1, 1], [0, 0, 0]]),
                .degenerateUser, 0, aStar: false)
            let configuration = try! ADARConfiguration(rho: rho, sigma: sigma)
            do {
                let outcomes = try synthesizer(try batch(rows, noise: .counter(seed: seed, stream: 0, rowOffset: 0)), schedule, configuration)
                for (b, want) in expected.enumerated() {
                    cases += 1
                    guard b < outcomes.count else {
                        mismatches += 1
                        if firstFailure.isEmpty { firstFailure = "ρ = \(rho), \(want.label): no outcome" }
                        continue
                    }
                    let got = outcomes[b]
                    if got.status == want.status && got.timestep == want.timestep && got.aStar.isNaN != want.aStarDefined {
                        reached.insert(got.status)
                    } else {
                        mismatches += 1
                        if firstFailure.isEmpty {
                            firstFailure = "ρ = \(rho), \(want.label): got \(got.status) t = \(got.timestep) a* = \(got.aStar), want \(want.status) t = \(want.timestep)"
                        }
                    }
                }
            } catch {
                mismatches += expected.count
                cases += expected.count
                if firstFailure.isEmpty { firstFailure = "ρ = \(rho): threw \(error)" }
            }
        }
        return ClaimResult(
            id: "S5/R1",
            statistic: "\(cases) constructed rows at ρ ∈ {0.5, 0.2}; statuses reached: \(RowStatus.allCases.filter(reached.contains).map(\.rawValue).joined(separator: ", "))",
            measure: .exact(mismatches: mismatches, cases: cases), seed: seed, worstCase: firstFailure)
    }

    // MARK: - S5/P1

    /// The S5 table: the conditions in precedence order, first that holds wins.
    static func expectedFallback(s0: Double, sNeg: Double, n: Double) -> RowStatus? {
        let conditions: [(RowStatus, Bool)] = [
            (.degenerateUser, n == 0), (.alreadyNegative, s0 <= sNeg), (.nonPositiveScore, s0 <= 0),
        ]
        return conditions.first { $0.1 }?.0
    }

    /// S5/P1: every combination of the three fallback conditions, on the
    /// classifier and end to end (n = 0 with arbitrary scores comes from
    /// `e_u = (10⁻²⁰⁰, 0)`, whose squared norm underflows to 0).
    public static func checkPrecedence(
        seed: UInt64, classifier: Classifier = ReferenceADAR.fallbackStatus(positiveScore:referenceNegativeScore:noiseScale:),
        synthesizer: Synthesizer = referenceSynthesizer
    ) -> ClaimResult {
        let scores: [Double] = [-2, -1, -0.0, 0, 1, 2]
        var mismatches = 0, cases = 0, firstFailure = "", overlapping = 0
        func record(_ ok: Bool, _ text: @autoclosure () -> String) {
            cases += 1
            if !ok {
                mismatches += 1
                if firstFailure.isEmpty { firstFailure = text() }
            }
        }
        for n in [0, Double.leastNonzeroMagnitude, 1] {
            for s0 in scores { for sNeg in scores {
                let want = expectedFallback(s0: s0, sNeg: sNeg, n: n)
                let held = [n == 0, s0 <= sNeg, s0 <= 0].filter { $0 }.count
                if held > 1 { overlapping += 1 }
                let got = classifier(s0, sNeg, n)
                record(got == want, "classifier(s0 = \(s0), s⁻ = \(sNeg), n = \(n)) = \(String(describing: got)), S5 gives \(String(describing: want))")
            } }
        }
        // End to end: scores ±1, ±2, ±0 scaled so e_u·x is the score even when n underflows.
        let schedule = try! NoiseSchedule(.defaultCosine, steps: 20)
        let configuration = try! ADARConfiguration()
        for degenerate in [true, false] {
            let scale = degenerate ? 1e-200 : 1
            var rows = [BatchRow](), wanted = [(Double, Double, RowStatus?)]()
            for s0 in scores { for sNeg in scores {
                rows.append(BatchRow(user: [scale, 0], positive: [s0 / scale, 1], candidates: [[sNeg / scale, -1]]))
                wanted.append((s0, sNeg, expectedFallback(s0: s0, sNeg: sNeg, n: degenerate ? 0 : 1)))
            } }
            do {
                let outcomes = try synthesizer(try batch(rows, noise: .counter(seed: seed, stream: 1, rowOffset: 0)), schedule, configuration)
                for (b, (s0, sNeg, want)) in wanted.enumerated() {
                    let got = b < outcomes.count ? outcomes[b] : nil
                    let ok = got.map { want == nil ? !$0.status.isFallback : ($0.status == want && $0.timestep == 0) } ?? false
                    record(ok, "synthesize row s0 = \(s0), s⁻ = \(sNeg), n \(degenerate ? "= 0" : "> 0"): got \(String(describing: got?.status)) t = \(String(describing: got?.timestep)), S5 gives \(String(describing: want))")
                }
            } catch {
                record(false, "synthesize threw \(error)")
            }
        }
        return ClaimResult(
            id: "S5/P1",
            statistic: "\(cases) cases (\(overlapping) classifier cases with ≥ 2 fallback conditions), classifier and end to end",
            measure: .exact(mismatches: mismatches, cases: cases), seed: seed, worstCase: firstFailure)
    }

    // MARK: - S6/O1

    /// One batch configuration of the O1 sweep.
    struct OutputScenario {
        var schedule: NoiseSchedule, configuration: ADARConfiguration, explicitNoise: Bool
    }

    /// S6/O1: random batches (every status, every policy, both noise inputs),
    /// each output field recomputed with compensated arithmetic and GSL's Φ,
    /// compared within its derived rounding bound. Each scenario's call is a
    /// `SynthesisCase`; a failing sweep shrinks its first failing call (docs/Shrinking.md).
    public static func checkOutputs(
        seed: UInt64, rowsPerBatch: Int = 40, synthesizer: Synthesizer? = nil
    ) -> ClaimResult {
        var generator = SeededGenerator(seed: seed)
        let scenarios: [OutputScenario] = [
            OutputScenario(schedule: try! NoiseSchedule(.defaultCosine, steps: 50),
                           configuration: try! ADARConfiguration(rho: 0.5, policy: .max, sigma: 1), explicitNoise: false),
            OutputScenario(schedule: try! NoiseSchedule(.linear(start: 1e-4, end: 0.02), steps: 1000),
                           configuration: try! ADARConfiguration(rho: 0.3, policy: .mean, sigma: 0.1), explicitNoise: true),
            OutputScenario(schedule: try! NoiseSchedule(.linearVariance(scale: 0.1, min: 0.001, max: 0.02, maxBeta: 0.999), steps: 5),
                           configuration: try! ADARConfiguration(rho: 0.8, policy: .first, sigma: 0.05), explicitNoise: false),
            OutputScenario(schedule: try! NoiseSchedule(.ddpmLinear, steps: 100),
                           configuration: try! ADARConfiguration(rho: 0.05, policy: .max, sigma: 2), explicitNoise: true),
        ]
        return outputSweep(seed: seed, synthesizer: synthesizer) { index in
            let scenario = scenarios[index]
            let d = Int.random(in: 1...9, using: &generator), m = Int.random(in: 1...5, using: &generator)
            let rows = (0..<rowsPerBatch).map { _ in randomOutputRow(dimension: d, poolSize: m, using: &generator) }
            let noise: NoiseInput = scenario.explicitNoise
                ? .explicit(generator.normals(rowsPerBatch * d))
                : .counter(seed: generator.next(), stream: UInt32.random(in: 0...9, using: &generator), rowOffset: generator.next() >> 1)
            return SynthesisCase(
                unchecked: scenario.schedule, scenario.configuration, rows.count, d, m, rows.flatMap(\.user),
                rows.flatMap(\.positive), rows.flatMap { $0.candidates.flatMap { $0 } }, noise, index)
        }.sweep(cases: scenarios.count)
    }

    /// S6/O1 on the one call `c` (the reference's synthesis unless `synthesizer` is given):
    /// how a shrunk counterexample is replayed.
    public static func checkOutputs(on c: SynthesisCase, synthesizer: Synthesizer? = nil) -> ClaimResult {
        outputSweep(seed: 0, synthesizer: synthesizer) { _ in c }.single(c)
    }

    static func outputSweep(
        seed: UInt64, synthesizer: Synthesizer?, draw: @escaping (Int) -> SynthesisCase
    ) -> CaseSweep<SynthesisCase, OutputAudit, Never> {
        CaseSweep(
            claimID: "S6/O1", call: "DiscretisationChecks.checkOutputs(on: c", argument: "synthesizer",
            tested: synthesizer, reference: referenceSynthesizer, emptyTally: OutputAudit(), draw: draw,
            run: { c, synthesizer, audit in
                do {
                    let batch = try c.batch
                    audit.check(try synthesizer(batch, c.schedule, c.configuration), batch: batch,
                                schedule: c.schedule, configuration: c.configuration)
                } catch {
                    audit.record(false, "\(c.schedule.kind.name): threw \(error)")
                }
            },
            result: { audit, _ in
                ClaimResult(
                    id: "S6/O1",
                    statistic: "\(audit.rows) rows (\(audit.statusCounts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))), \(audit.cases) field checks; worst |err|/bound = \(short(audit.worstRatio))",
                    measure: .exact(mismatches: audit.mismatches, cases: audit.cases), seed: seed,
                    worstCase: audit.firstFailure.isEmpty ? audit.worstField : audit.firstFailure)
            })
    }

    /// A random row; its kind is drawn so every status turns up: rows whose
    /// positive points along `e_u` (valid domain), random rows (often
    /// `alreadyNegative`), `s_0 ≤ 0` rows, `e_u = 0`, and duplicated candidates (ties).
    static func randomOutputRow(dimension d: Int, poolSize m: Int, using generator: inout SeededGenerator) -> BatchRow {
        var user = generator.normals(d).map { $0 * 0.5 }
        var positive = generator.normals(d).map { $0 * 0.3 }
        var candidates = (0..<m).map { _ in generator.normals(d).map { $0 * 0.3 } }
        switch Int.random(in: 0..<6, using: &generator) {
        case 0, 1, 2:
            let strength = Double.random(in: 0.5...4, using: &generator)
            positive = zip(positive, user).map { $0 + strength * $1 }
        case 3:
            positive = zip(positive, user).map { $0 - abs($1) * 2 * $1 }   // pushes s_0 down
        case 4:
            user = [Double](repeating: 0, count: d)
        default:
            break
        }
        if m > 1 && Bool.random(using: &generator) {
            candidates[m - 1] = candidates[Int.random(in: 0 ..< m - 1, using: &generator)]
        }
        return BatchRow(user: user, positive: positive, candidates: candidates)
    }

    // MARK: - S5/E1

    /// What an error case must raise: the exact value, or the named field of a
    /// configuration / schedule error (their `reason` is free text).
    public enum ExpectedError: Sendable, CustomStringConvertible {
        case exactly(ADARError)
        case configuration(field: String)
        case schedule(parameter: String)

        func matches(_ error: ADARError) -> Bool {
            switch (self, error) {
            case let (.exactly(want), got): want == got
            case let (.configuration(want), .invalidConfiguration(field, _)): want == field && error.description.contains(field)
            case let (.schedule(want), .invalidSchedule(parameter, _)): want == parameter && error.description.contains(parameter)
            default: false
            }
        }

        public var description: String {
            switch self {
            case let .exactly(error): "\(error)"
            case let .configuration(field): "invalidConfiguration(field: \(field))"
            case let .schedule(parameter): "invalidSchedule(parameter: \(parameter))"
            }
        }
    }

    /// A well-formed call: `B` rows of dimension `d`, pool `M`, small finite values.
    public static func validCall(rows: Int, dimension d: Int, poolSize m: Int, using generator: inout SeededGenerator) -> RawCall {
        var call = RawCall(
            users: generator.normals(rows * d), positives: generator.normals(rows * d),
            pool: generator.normals(rows * m * d), noise: .explicit(generator.normals(rows * d)))
        call.rows = rows
        call.dimension = d
        call.poolSize = m
        return call
    }

    /// The S5/E1 catalogue: every error kind, the non-finite ones at random rows, fields and components,
    /// the shape errors as defects planted in well-formed calls.
    public static func errorCases(seed: UInt64, nonFiniteCases: Int = 200) -> [ErrorCase] {
        var generator = SeededGenerator(seed: seed)
        var cases = [ErrorCase]()
        func base() -> RawCall {
            validCall(rows: Int.random(in: 1...6, using: &generator), dimension: Int.random(in: 1...5, using: &generator),
                      poolSize: Int.random(in: 1...4, using: &generator), using: &generator)
        }
        // The catalogue places every fault inside its call, and plants every defect in a well-formed one.
        func add(_ label: String, _ call: RawCall, _ expected: ExpectedError) {
            cases.append(try! ErrorCase(call: call, expected: expected, label: label, index: cases.count))
        }
        for _ in 0..<nonFiniteCases {
            var call = base()
            let bad = [Double.nan, .infinity, -.infinity][Int.random(in: 0...2, using: &generator)]
            let row = Int.random(in: 0 ..< call.rows, using: &generator), k = Int.random(in: 0 ..< call.dimension, using: &generator)
            let index = row * call.dimension + k
            let field: String
            switch Int.random(in: 0...3, using: &generator) {
            case 0: call.users[index] = bad; field = "user"
            case 1: call.positives[index] = bad; field = "positive"
            case 2:
                let m = Int.random(in: 0 ..< call.poolSize, using: &generator)
                call.pool[(row * call.poolSize + m) * call.dimension + k] = bad
                field = "pool[\(m)]"
            default:
                guard case var .explicit(epsilon) = call.noise else { continue }
                epsilon[index] = bad
                call.noise = .explicit(epsilon)
                field = "epsilon"
            }
            add("\(bad) in \(field) row \(row) component \(k)", call, .exactly(.nonFinite(row: row, field: field, component: k)))
        }
        for defect in ShapeDefect.allCases {
            cases.append(try! ErrorCase(call: base(), defect: defect, label: defect.label, index: cases.count))
        }
        var call: RawCall
        for rho in [0, 1, Double.nan, -0.1, 1.5, .infinity] {
            call = base(); call.rho = rho
            add("ρ = \(rho)", call, .configuration(field: "rho"))
        }
        for sigma in [0, -0.0, -1, Double.nan, .infinity] {
            call = base(); call.sigma = sigma
            add("σ = \(sigma)", call, .configuration(field: "sigma"))
        }
        for w in [-1, -Double.leastNonzeroMagnitude, .nan, .infinity] {
            call = base(); call.augmentationWeight = w
            add("w = \(w)", call, .configuration(field: "augmentationWeight"))
        }
        for l2 in [-1e-3, Double.nan, -.infinity] {
            call = base(); call.l2 = l2
            add("λ = \(l2)", call, .configuration(field: "l2"))
        }
        let schedules: [(String, ScheduleKind, Int, String)] = [
            ("T = 0", .defaultCosine, 0, "steps"),
            ("T = −3", .ddpmLinear, -3, "steps"),
            ("linear start > end", .linear(start: 0.02, end: 1e-4), 10, "start"),
            ("linear start NaN", .linear(start: .nan, end: 0.02), 10, "start/end"),
            ("linear β_1 = 0", .linear(start: 0, end: 0.02), 10, "beta[1]"),
            ("linear β_T = 1", .linear(start: 0.5, end: 1), 4, "beta[4]"),
            ("custom β NaN", .custom(betas: [0.1, .nan]), 2, "beta[2]"),
            ("custom β = 1.5", .custom(betas: [1.5]), 1, "beta[1]"),
            ("custom β too small to move ᾱ", .custom(betas: [1e-20]), 1, "beta[1]"),
            ("custom ᾱ underflows", .custom(betas: [Double](repeating: 1 - 0x1p-52, count: 40)), 40, "beta[21]"),
            ("cosine s < 0", .cosine(s: -0.1, maxBeta: 0.999), 10, "s"),
            ("cosine maxBeta = 1", .cosine(s: 0.008, maxBeta: 1), 10, "maxBeta"),
            ("linear-variance max ≤ min", .linearVariance(scale: 1, min: 0.02, max: 0.02, maxBeta: 0.999), 10, "max"),
            ("linear-variance scale 0", .linearVariance(scale: 0, min: 0.001, max: 0.02, maxBeta: 0.999), 10, "scale"),
            ("scaled-linear start < 0", .scaledLinear(start: -1e-4, end: 0.02), 10, "start"),
        ]
        for (label, kind, steps, parameter) in schedules {
            call = base(); call.schedule = kind; call.steps = steps
            add(label, call, .schedule(parameter: parameter))
        }
        call = base(); call.schedule = .custom(betas: [0.1, 0.2]); call.steps = 3
        add("custom β count ≠ T", call, .exactly(.shapeMismatch(field: "betas", expected: 3, actual: 2)))
        // Overflow of n = σ‖e_u‖ at a random row (earlier rows are fine).
        for _ in 0..<4 {
            call = base()
            let row = Int.random(in: 0 ..< call.rows, using: &generator)
            for k in 0 ..< call.dimension { call.users[row * call.dimension + k] = 1e200 }
            for k in 0 ..< call.dimension { call.positives[row * call.dimension + k] = 0 }
            for k in row * call.poolSize * call.dimension ..< (row + 1) * call.poolSize * call.dimension { call.pool[k] = 0 }
            add("components 1e200 at row \(row)", call, .exactly(.overflow(row: row, field: "noiseScale")))
        }
        call = base(); call.sigma = 1e300
        for k in 0 ..< call.dimension { call.users[k] = 1e10 }
        add("σ = 1e300, ‖e_u‖ ≥ 1e10 at row 0", call, .exactly(.overflow(row: 0, field: "noiseScale")))
        return cases
    }

    /// S5/E1: each catalogued call must throw its error, and return nothing. Each call is an
    /// `ErrorCase`; a failing sweep shrinks its first failing call (docs/Shrinking.md).
    public static func checkErrors(seed: UInt64, pipeline: Pipeline? = nil) -> ClaimResult {
        let cases = errorCases(seed: seed)
        return errorSweep(seed: seed, pipeline: pipeline) { (index: Int) throws(Never) in cases[index] }.sweep(cases: cases.count)
    }

    /// S5/E1 on one call.
    static func runError(_ c: ErrorCase, _ pipeline: Pipeline, into tally: inout ErrorTally) {
        tally.cases += 1
        var problem: String?
        do {
            let outcomes = try pipeline(c.call)
            problem = "returned \(outcomes.count) outcomes instead of throwing"
        } catch let error as ADARError {
            if !c.expected.matches(error) { problem = "threw \(error)" }
        } catch {
            problem = "threw a foreign error \(error)"
        }
        if let problem {
            tally.mismatches += 1
            if tally.firstFailure.isEmpty { tally.firstFailure = "\(c.label.isEmpty ? "call" : c.label): \(problem); want \(c.expected)" }
        }
    }

    /// What S5/E1 tallies over its calls.
    struct ErrorTally {
        var cases = 0, mismatches = 0, firstFailure = ""
    }

    /// S5/E1 on the one call `c` (the reference's pipeline unless `pipeline` is given):
    /// how a shrunk counterexample is replayed.
    public static func checkError(on c: ErrorCase, pipeline: Pipeline? = nil) -> ClaimResult {
        errorSweep(seed: 0, pipeline: pipeline) { (_: Int) throws(Never) in c }.single(c)
    }

    /// S5/E1's sweep over the calls `draw` returns.
    static func errorSweep(
        seed: UInt64, pipeline: Pipeline?, draw: @escaping (Int) throws(Never) -> ErrorCase
    ) -> CaseSweep<ErrorCase, ErrorTally, Never> {
        CaseSweep(
            claimID: "S5/E1", call: "DiscretisationChecks.checkError(on: c", argument: "pipeline",
            tested: pipeline, reference: referencePipeline, emptyTally: ErrorTally(), draw: draw, run: runError,
            result: { tally, _ in
                ClaimResult(
                    id: "S5/E1", statistic: "\(tally.cases) invalid calls (non-finite, shape, configuration, pool, schedule, overflow)",
                    measure: .exact(mismatches: tally.mismatches, cases: tally.cases), seed: seed, worstCase: tally.firstFailure)
            })
    }
}

/// Bound on `|fl⟨a, b⟩ − ⟨a, b⟩|` for left-to-right summation of `d` products,
/// plus the compensated oracle's own error.
func dotErrorBound(_ a: [Double], _ b: [Double], oracle: Double) -> Double {
    gamma(a.count) * absoluteDot(a, b) + 2 * unitRoundoff * abs(oracle) + gamma(a.count) * gamma(a.count) * absoluteDot(a, b)
}

// MARK: - S6/O1 audit

/// Recomputes every S6 output field of a synthesis call independently and
/// compares each within its derived bound (Proofs, S6/O1).
struct OutputAudit {
    var rows = 0, cases = 0, mismatches = 0
    var firstFailure = "", worstRatio = 0.0, worstField = ""
    var statusCounts: [RowStatus: Int] = [:]

    /// GSL's Φ and the reference's `erfc`-based Φ, relative error budget each (Proofs, S6/O1).
    static let normalCDFRelativeError = 16 * unitRoundoff
    /// Window around ρ where "no crossing" (`Φ(−s⁻/n) > ρ`) is not decided; far
    /// wider than its rounding (≤ 1e-13 here), so only fewer rows are checked.
    static let crossingWindow = 1e-9

    mutating func record(_ ok: Bool, _ text: @autoclosure () -> String) {
        cases += 1
        if !ok {
            mismatches += 1
            if firstFailure.isEmpty { firstFailure = text() }
        }
    }

    mutating func within(_ error: Double, _ bound: Double, _ label: @autoclosure () -> String) {
        let ratio = error == 0 ? 0 : error / bound   // NaN when either is NaN: fails below
        if ratio > worstRatio {
            worstRatio = ratio
            worstField = "\(label()): |err| = \(short(error)), bound \(short(bound))"
        }
        record(ratio <= 1, "\(label()): |err| = \(error) exceeds its bound \(bound)")
    }

    mutating func check(_ outcomes: [RowOutcome], batch: ADARBatch, schedule: NoiseSchedule, configuration config: ADARConfiguration) {
        record(outcomes.count == batch.rows, "\(outcomes.count) outcomes for \(batch.rows) rows")
        let T = schedule.steps
        let d = batch.dimension, m = batch.poolSize
        for (b, got) in zip(0..<batch.rows, outcomes) {
            rows += 1
            statusCounts[got.status, default: 0] += 1
            let label = "\(schedule.kind.name) row \(b) (\(got.status))"
            let user = Array(batch.user(b)), x0 = Array(batch.positive(b))
            let candidates = (0..<m).map { Array(batch.candidate(b, $0)) }

            // s_0 and the pool scores (S3), each with its dot-product bound.
            let s0 = compensatedDot(user, x0), s0Bound = dotErrorBound(user, x0, oracle: s0)
            let scores = candidates.map { compensatedDot(user, $0) }
            let scoreBounds = zip(candidates, scores).map { dotErrorBound(user, $0.0, oracle: $0.1) }
            within(abs(got.positiveScore - s0), s0Bound, "\(label) s_0")
            let (sNeg, sNegBound) = Self.referenceNegative(scores, bounds: scoreBounds, policy: config.policy)
            within(abs(got.referenceNegativeScore - sNeg), sNegBound, "\(label) s⁻ (\(config.policy))")

            // The hardest candidate: maximal up to rounding, and first among identical candidates.
            let h = got.hardestCandidate
            guard (0..<m).contains(h) else {
                record(false, "\(label): hardest candidate \(h) outside 0..<\(m)")
                continue
            }
            record((0..<m).allSatisfy { scores[h] >= scores[$0] - scoreBounds[h] - scoreBounds[$0] },
                   "\(label): candidate \(h) is not the largest score \(scores)")
            record(!(0..<h).contains { candidates[$0] == candidates[h] },
                   "\(label): candidate \(h) has an identical earlier copy (S5: first on ties)")

            // The status: fallback conditions decided on the accurate values, unless within rounding.
            let n = config.sigma * compensatedDot(user, user).squareRoot()
            let nBound = n * (gamma(d) / 2 + 3 * unitRoundoff)
            let ambiguous = abs(s0 - sNeg) <= s0Bound + sNegBound || abs(s0) <= s0Bound
            if !ambiguous {
                let want = DiscretisationChecks.expectedFallback(s0: s0, sNeg: sNeg, n: n)
                record(want == nil ? !got.status.isFallback : got.status == want,
                       "\(label): S5 gives \(String(describing: want)) from s0 = \(s0), s⁻ = \(sNeg), n = \(n)")
            }

            if got.status.isFallback {
                record(got.timestep == 0 && got.aStar.isNaN && got.retention.isNaN,
                       "\(label): fallback needs t = 0, a* and π NaN; got t = \(got.timestep), a* = \(got.aStar), π = \(got.retention)")
                record(got.syntheticNegative == candidates[h], "\(label): x⁻ is not candidate \(h)'s embedding")
                within(abs(got.syntheticScore - scores[h]), scoreBounds[h], "\(label) fallback score")
                continue
            }

            let t = got.timestep
            guard (1...T).contains(t) else {
                record(false, "\(label): timestep \(t) outside 1…\(T)")
                continue
            }
            // a*: the binary64 rule of S4.f brackets the step; NaN only when there is no crossing.
            let alphaBarStar = got.aStar * got.aStar
            if got.status == .transition {
                record(got.aStar.isFinite && schedule.alphaBar[t] <= alphaBarStar && (t == 1 || alphaBarStar < schedule.alphaBar[t - 1]),
                       "\(label): ᾱ_\(t) ≤ ᾱ* < ᾱ_\(t - 1) fails for a* = \(got.aStar)")
            } else {
                record(t == T && (got.aStar.isNaN || schedule.alphaBar[T] > alphaBarStar),
                       "\(label): saturated needs t = T and ᾱ_T > ᾱ*; got t = \(t), a* = \(got.aStar)")
            }
            let noCrossing = GSL.normalCDF(-sNeg / n)
            if abs(noCrossing - config.rho) > Self.crossingWindow {
                record(got.aStar.isNaN == (noCrossing > config.rho),
                       "\(label): a* = \(got.aStar) but Φ(−s⁻/n) = \(noCrossing) vs ρ = \(config.rho)")
            }

            // π_t at the chosen step against GSL's Φ (S4.a), from the row's s_0, s⁻ and n.
            let alphaBar = Bounded(schedule.alphaBar[t])
            let x = (alphaBar.squareRoot() * Bounded(got.positiveScore) - Bounded(got.referenceNegativeScore))
                / ((Bounded(1) - alphaBar).squareRoot() * Bounded(n, bound: nBound))
            let pi = GSL.normalCDF(x.value)
            let density = DiscretisationChecks.normalDensity(max(abs(x.value) - 2 * x.bound, 0))
            let piBound = density * (2 * x.bound + 2.02 * unitRoundoff * abs(x.value))
                + 2 * Self.normalCDFRelativeError * max(pi, got.retention)
            within(abs(got.retention - pi), piBound, "\(label) π_\(t)")

            // x⁻ = √ᾱ_t·x_0 + √(1 − ᾱ_t)·σ·ε (S6), ε from S8 or explicit.
            let epsilon: [Double]
            switch batch.noise {
            case let .explicit(values): epsilon = Array(values[b * d ..< (b + 1) * d])
            case let .counter(seed, stream, rowOffset):
                epsilon = GaussianNoise(seed: seed, stream: stream).row(rowOffset &+ UInt64(b), dimension: d)
            }
            let signal = schedule.alphaBar[t].squareRoot(), noise = (1 - schedule.alphaBar[t]).squareRoot()
            guard got.syntheticNegative.count == d else {
                record(false, "\(label): x⁻ has \(got.syntheticNegative.count) components, d = \(d)")
                continue
            }
            for k in 0..<d {
                let noiseTerm = noise * (config.sigma * epsilon[k])
                let expected = noiseTerm.addingProduct(signal, x0[k])
                let bound = 3 * unitRoundoff * abs(signal * x0[k]) + 6 * unitRoundoff * abs(noiseTerm) + unitRoundoff * abs(expected)
                within(abs(got.syntheticNegative[k] - expected), bound, "\(label) x⁻[\(k)]")
            }
            let synthetic = compensatedDot(user, got.syntheticNegative)
            within(abs(got.syntheticScore - synthetic), dotErrorBound(user, got.syntheticNegative, oracle: synthetic),
                   "\(label) ⟨e_u, x⁻⟩")
        }
    }

    /// S3 on accurate scores, with the bound of the reference's `s⁻`.
    static func referenceNegative(_ scores: [Double], bounds: [Double], policy: ReferencePolicy) -> (Double, Double) {
        switch policy {
        case .max:
            return (scores.max()!, bounds.max()!)
        case .mean:
            let count = Double(scores.count)
            let mean = scores.reduce(0, +) / count
            let sumBound = bounds.reduce(0, +) + gamma(scores.count) * scores.reduce(0) { $0 + abs($1) }
            return (mean, sumBound / count + 2 * unitRoundoff * abs(mean))
        case .first:
            return (scores[0], bounds[0])
        }
    }
}
