import ADAREvaluation
import GSLOracle
import Testing

/// The final table's statistics: paired t-test, effect sizes with CIs, Holm's
/// adjustment (docs/PROTOCOL.md "Statistics").
///
/// Expected values marked "scipy" were computed once, independently of this code,
/// with scipy 1.17.1 / numpy and pasted here:
///     r = scipy.stats.ttest_rel(a, b); ci = r.confidence_interval(0.95)
///     d = a − b; d.mean(), d.std(ddof=1), 100·d.mean()/b.mean(), d.mean()/d.std(ddof=1)
@Suite("Protocol statistics: paired t-test, effect sizes, Holm")
struct ProtocolStatisticsTests {
    static func close(_ x: Double?, _ expected: Double, relative: Double = 1e-9) -> Bool {
        guard let x else { return false }
        return abs(x - expected) <= relative * abs(expected)
    }

    // MARK: Paired t-test and effect sizes against scipy

    @Test("Six pairs with a clear difference: t, p, CI, Δ% and d_z match scipy")
    func clearDifferenceMatchesScipy() throws {
        let candidate = [0.3982, 0.3975, 0.3990, 0.3968, 0.3985, 0.3979]
        let comparator = [0.3859, 0.3862, 0.3855, 0.3866, 0.3851, 0.3860]
        let result = try PairedComparison(candidate: candidate, comparator: comparator)
        #expect(result.pairCount == 6 && result.degreesOfFreedom == 5)
        #expect(Self.close(result.meanDifference, 0.0121, relative: 1e-12))                          // scipy
        #expect(Self.close(result.standardDeviationOfDifferences.value, 0.001263328935788308))        // scipy
        #expect(Self.close(result.t.value, 23.46089371346667))                                       // scipy
        #expect(Self.close(result.pValue.value, 2.6191726937663583e-06, relative: 1e-7))             // scipy
        #expect(Self.close(result.confidenceInterval.value?.lower, 0.010774217589871883))             // scipy
        #expect(Self.close(result.confidenceInterval.value?.upper, 0.013425782410128116))             // scipy
        #expect(result.confidenceInterval.value?.level == 0.95)
        #expect(Self.close(result.relativeDifferencePercent.value, 3.135662765084438))               // scipy
        #expect(Self.close(result.cohensDz.value, 9.57786975127716))                                 // scipy
    }

    @Test("Five pairs with mixed signs (p ≈ 0.15): the tail and the quantile match scipy")
    func mixedSignsMatchScipy() throws {
        let result = try PairedComparison(candidate: [0.31, 0.29, 0.33, 0.30, 0.32],
                                          comparator: [0.30, 0.30, 0.31, 0.29, 0.305])
        #expect(Self.close(result.t.value, 1.7650452162436563))                                      // scipy
        #expect(Self.close(result.pValue.value, 0.15231741139130162, relative: 1e-8))                // scipy
        #expect(Self.close(result.confidenceInterval.value?.lower, -0.0051571477698227255, relative: 1e-8)) // scipy
        #expect(Self.close(result.confidenceInterval.value?.upper, 0.023157147769822743, relative: 1e-8))   // scipy
        #expect(Self.close(result.relativeDifferencePercent.value, 2.990033222591365))               // scipy
        #expect(Self.close(result.cohensDz.value, 0.7893522173763263))                               // scipy
        // Welch's unpaired test on the same numbers gives p = 0.2954 (scipy): pairing matters.
        #expect(!Self.close(result.pValue.value, 0.29537476041360733, relative: 1e-2))
    }

    @Test("GSL's Student-t quantile matches scipy's t.ppf")
    func studentTQuantileMatchesScipy() {
        #expect(Self.close(GSL.studentTQuantile(0.975, degreesOfFreedom: 5), 2.5705818356363146, relative: 1e-10)) // scipy
        #expect(Self.close(GSL.studentTQuantile(0.975, degreesOfFreedom: 4), 2.7764451051977934, relative: 1e-10)) // scipy
    }

    @Test("Runs are paired by (split seed, model seed), not by position")
    func pairsByKey() throws {
        let candidate = [0.31, 0.29, 0.33, 0.30, 0.32], comparator = [0.30, 0.30, 0.31, 0.29, 0.305]
        // Keys in ascending order, so the keyed sums run in the positional order and agree bit for bit.
        let keys = (0..<5).map { PairKey(splitSeed: 2026 + UInt64($0 / 3), modelSeed: UInt64($0 % 3 + 1)) }
        // Dictionaries have no order; the keyed result must equal the positional one.
        let keyed = try PairedComparison(candidate: Dictionary(uniqueKeysWithValues: zip(keys, candidate)),
                                         comparator: Dictionary(uniqueKeysWithValues: zip(keys.reversed(), comparator.reversed())))
        #expect(keyed == (try PairedComparison(candidate: candidate, comparator: comparator)))
        // Pairing the wrong runs changes the answer.
        let shuffled = try PairedComparison(candidate: candidate, comparator: comparator.reversed())
        #expect(shuffled.pValue != keyed.pValue)

        var missing = Dictionary(uniqueKeysWithValues: zip(keys, comparator))
        missing[keys[3]] = nil
        #expect(throws: StatisticsError.unpairedRun(key: keys[3], presentIn: "candidate")) {
            try PairedComparison(candidate: Dictionary(uniqueKeysWithValues: zip(keys, candidate)), comparator: missing)
        }
    }

    // MARK: Degenerate cases: reported as undefined, never NaN

    @Test("One pair: only the mean difference and Δ% are defined; the table prints n/a")
    func onePair() throws {
        let result = try PairedComparison(candidate: [0.5], comparator: [0.25])
        #expect(result.meanDifference == 0.25)
        #expect(result.relativeDifferencePercent == .value(100))
        for undefined in [result.t, result.pValue, result.cohensDz, result.standardDeviationOfDifferences] {
            guard case let .undefined(reason) = undefined else { Issue.record("\(undefined) should be undefined"); continue }
            #expect(reason.contains("one pair"))
        }
        #expect(result.confidenceInterval.value == nil)
        #expect(result.pValue.text { "\($0)" } == "n/a")
    }

    @Test("Zero variance of the differences: no t, p, CI or d_z; equal runs likewise")
    func zeroVariance() throws {
        // Exactly representable values: every difference is exactly 0.25.
        let shifted = try PairedComparison(candidate: [0.75, 0.5, 0.25], comparator: [0.5, 0.25, 0])
        #expect(shifted.meanDifference == 0.25 && shifted.standardDeviationOfDifferences == .value(0))
        #expect(shifted.relativeDifferencePercent == .value(100))
        for undefined in [shifted.t, shifted.pValue, shifted.cohensDz] {
            #expect(undefined.value == nil && undefined.text { "\($0)" } == "n/a")
        }
        #expect(shifted.confidenceInterval.value == nil)

        let equal = try PairedComparison(candidate: [0.3, 0.4], comparator: [0.3, 0.4])
        #expect(equal.meanDifference == 0 && equal.pValue.value == nil && equal.relativeDifferencePercent == .value(0))

        let zeroComparator = try PairedComparison(candidate: [0.25, 0.5], comparator: [0, 0])
        #expect(zeroComparator.relativeDifferencePercent.value == nil)
        #expect(zeroComparator.pValue.value != nil)
    }

    @Test("A spread within the differences' rounding error is no spread; a small real one still is")
    func roundingSpread() throws {
        // 0.1 + 0.2, 0.3 and 3 × 0.1 differ only by rounding (4e-17 apart): the
        // differences are mathematically equal, so a t statistic from them would be
        // noise (here |t| ≈ 1e16).
        let rounded = try PairedComparison(candidate: [0.1 + 0.2, 0.3, 3 * 0.1], comparator: [0, 0, 0])
        let sd = try #require(rounded.standardDeviationOfDifferences.value)
        #expect(sd > 0, "the case must have a non-zero rounding spread to test anything")
        #expect(rounded.t.value == nil && rounded.pValue.value == nil && rounded.cohensDz.value == nil)
        // Power: a spread of 1e-9, far below any metric's resolution but far above
        // rounding (≈ 2e-16 here), is real variation and keeps its t.
        let small = try PairedComparison(candidate: [0.3, 0.3 + 1e-9, 0.3 + 2e-9], comparator: [0, 0, 0])
        #expect(small.t.value != nil && small.pValue.value != nil)
    }

    @Test("Bad inputs are refused with the reason")
    func refusesBadInputs() {
        #expect(throws: StatisticsError.noPairs) { try PairedComparison(candidate: [], comparator: []) }
        #expect(throws: StatisticsError.countMismatch(candidate: 2, comparator: 3)) {
            try PairedComparison(candidate: [0.1, 0.2], comparator: [0.1, 0.2, 0.3])
        }
        #expect(throws: StatisticsError.nonFiniteValue(side: "comparator", index: 1, value: .infinity)) {
            try PairedComparison(candidate: [0.1, 0.2], comparator: [0.1, .infinity])
        }
        let nan = #expect(throws: StatisticsError.self) { try PairedComparison(candidate: [0.1, .nan], comparator: [0.1, 0.2]) }
        #expect(nan?.description == "candidate run 1 has metric nan, not a finite number")
        for level in [0, 1, 1.5, Double.nan] {
            #expect(throws: StatisticsError.self) { try PairedComparison(candidate: [0.1, 0.2], comparator: [0.1, 0.3], confidenceLevel: level) }
        }
    }

    // MARK: Holm–Bonferroni

    /// The hand example, m = 4, p = [0.01, 0.04, 0.03, 0.005]:
    ///   sorted ascending: 0.005 (#4), 0.01 (#1), 0.03 (#3), 0.04 (#2)
    ///   × (m − j + 1):    4·0.005 = 0.02, 3·0.01 = 0.03, 2·0.03 = 0.06, 1·0.04 = 0.04
    ///   running maximum:  0.02, 0.03, 0.06, 0.06   (the last is raised from 0.04 to 0.06)
    ///   in input order:   [0.03, 0.06, 0.06, 0.02]
    static let handPValues = [0.01, 0.04, 0.03, 0.005]
    static let handAdjusted = [0.03, 0.06, 0.06, 0.02]

    static func satisfiesHandExample(_ adjust: ([Double]) throws -> [Double]) -> Bool {
        guard let adjusted = try? adjust(handPValues), adjusted.count == 4 else { return false }
        return zip(adjusted, handAdjusted).allSatisfy { abs($0 - $1) <= 1e-15 }
    }

    @Test("Holm's adjusted p-values match the hand-computed example")
    func holmMatchesHandExample() {
        #expect(Self.satisfiesHandExample { try HolmAdjustment.adjust($0) })
    }

    @Test("The hand example rejects wrong adjustments: none, Bonferroni, no monotone step, Hochberg")
    func handExampleRejectsWrongAdjustments() {
        let m = Double(Self.handPValues.count)
        let unadjusted: ([Double]) -> [Double] = { $0 }
        let bonferroni: ([Double]) -> [Double] = { $0.map { min(1, m * $0) } }
        // Holm's step-down multipliers without the running maximum.
        let noMonotoneStep: ([Double]) -> [Double] = { p in
            let order = p.indices.sorted { p[$0] < p[$1] }
            var out = p
            for (rank, index) in order.enumerated() { out[index] = min(1, Double(p.count - rank) * p[index]) }
            return out
        }
        // Hochberg's step-up: running minimum from the largest p-value down.
        let hochberg: ([Double]) -> [Double] = { p in
            let order = p.indices.sorted { p[$0] < p[$1] }
            var out = p, runningMin = 1.0
            for (rank, index) in order.enumerated().reversed() {
                runningMin = min(runningMin, Double(p.count - rank) * p[index])
                out[index] = runningMin
            }
            return out
        }
        for (name, wrong) in [("unadjusted", unadjusted), ("Bonferroni", bonferroni),
                              ("no monotone step", noMonotoneStep), ("Hochberg", hochberg)] {
            #expect(!Self.satisfiesHandExample(wrong), "\(name) passed the hand example")
        }
    }

    @Test("Holm: capped at 1, monotone in the p-value order, ties, one and no comparisons")
    func holmEdgeCases() throws {
        // 3·0.4 = 1.2 → 1; 2·0.45 = 0.9 → max(1, 0.9) = 1; 0.5 → 1.
        #expect(try HolmAdjustment.adjust([0.5, 0.4, 0.45]) == [1, 1, 1])
        #expect(try HolmAdjustment.adjust([0.01, 0.01]) == [0.02, 0.02])
        #expect(try HolmAdjustment.adjust([0.2]) == [0.2])
        #expect(try HolmAdjustment.adjust([Double]()) == [])
        let p = [0.001, 0.2, 0.013, 0.04, 0.0002, 0.5, 0.03]
        let adjusted = try HolmAdjustment.adjust(p)
        let order = p.indices.sorted { p[$0] < p[$1] }
        #expect(zip(order, order.dropFirst()).allSatisfy { adjusted[$0] <= adjusted[$1] })
        #expect(zip(p, adjusted).allSatisfy { $0 <= $1 && $1 <= 1 })
    }

    @Test("Holm: an undefined p-value counts in m (as p = 1) and stays undefined")
    func holmWithUndefined() throws {
        let adjusted = try HolmAdjustment.adjust([Reported<Double>.value(0.01), .undefined(reason: "zero variance"), .value(0.04)])
        // m = 3: 3·0.01 = 0.03, 2·0.04 = 0.08, then 1·1 = 1 for the undefined one.
        // Dropping it (m = 2) would give 0.02 and 0.04 instead.
        #expect(Self.close(adjusted[0].value, 0.03, relative: 1e-15))
        #expect(adjusted[1] == .undefined(reason: "zero variance"))
        #expect(Self.close(adjusted[2].value, 0.08, relative: 1e-15))
    }

    @Test("Holm refuses p-values outside [0, 1], naming the index")
    func holmRefusesBadPValues() {
        #expect(throws: StatisticsError.invalidPValue(index: 1, value: 1.5)) { try HolmAdjustment.adjust([0.1, 1.5]) }
        #expect(throws: StatisticsError.invalidPValue(index: 0, value: -0.1)) { try HolmAdjustment.adjust([-0.1]) }
        #expect(throws: StatisticsError.self) { try HolmAdjustment.adjust([0.2, .nan]) }
    }
}
