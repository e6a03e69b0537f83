import Foundation

/// The outcome of checking one Proofs/ claim numerically.
public struct ClaimResult: Sendable, CustomStringConvertible {
    public enum Measure: Sendable, Equatable {
        /// A hypothesis test: passes when `pValue ≥ alpha`.
        case pValue(Double, alpha: Double)
        /// A worst-case error: passes when `value ≤ bound`; `unit` is "rel", "abs" or "ulp".
        case maxError(Double, bound: Double, unit: String)
        /// Exact agreement over `cases` inputs: passes when `mismatches == 0`.
        case exact(mismatches: Int, cases: Int)
    }

    /// The claim's stable ID in Proofs/ (e.g. `S4.d/T1`).
    public let id: String
    /// What was measured, for people (`KS D = 0.0041 over n = 20000`).
    public let statistic: String
    public let measure: Measure
    /// The seed the check drew its random inputs from.
    public let seed: UInt64
    /// The worst case, or the first counterexample.
    public let worstCase: String
    /// The first failing case of a randomised sweep, shrunk (docs/Shrinking.md); nil when the claim
    /// passed or its failure has no single case (a hypothesis test fails on a whole sample).
    public var counterexample: Counterexample?

    public init(id: String, statistic: String, measure: Measure, seed: UInt64, worstCase: String = "", counterexample: Counterexample? = nil) {
        self.id = id
        self.statistic = statistic
        self.measure = measure
        self.seed = seed
        self.worstCase = worstCase
        self.counterexample = counterexample
    }

    public var passed: Bool {
        switch measure {
        case let .pValue(p, alpha): p >= alpha
        case let .maxError(value, bound, _): value <= bound   // NaN fails
        case let .exact(mismatches, _): mismatches == 0
        }
    }

    /// `p = …` / `max err = … ≤ …` / `0 of N differ`.
    public var measureText: String {
        switch measure {
        case let .pValue(p, alpha): "p = \(short(p)) (α = \(alpha))"
        case let .maxError(value, bound, unit): "max \(unit) err = \(short(value)) (bound \(short(bound)))"
        case let .exact(mismatches, cases): "\(mismatches) of \(cases) differ"
        }
    }

    /// The check ran on one given case (a shrunk counterexample), not on a seeded sweep.
    public var isSingleCase = false

    /// How to rerun exactly this check.
    public var replay: String {
        isSingleCase ? "rerun the test that built this case (one given case, no sweep seed)"
            : "adar verify --claim \(id) --seed \(seed)   (tests: ADAR_SEED=\(seed) swift test --filter '\(id)')"
    }

    public var description: String {
        var text = "\(id): \(passed ? "PASS" : "FAIL")  \(statistic); \(measureText); seed \(seed)"
        if !worstCase.isEmpty { text += "; worst: \(worstCase)" }
        if let counterexample { text += "\n  " + counterexample.description }
        if !passed { text += "\n  replay: \(replay)" }
        return text
    }
}

/// The case with the largest error/bound ratio so far, for claims that pass when every case is within
/// its own bound. A NaN ratio stays the worst: nothing compares above it, so it fails the claim.
struct LargestRatio {
    private(set) var ratio = -1.0, error = 0.0, bound = 0.0, text = ""

    mutating func record(error: Double, bound: Double, _ text: @autoclosure () -> String) {
        let ratio = error / bound
        guard !self.ratio.isNaN, !(ratio <= self.ratio) else { return }
        (self.ratio, self.error, self.bound, self.text) = (ratio, error, bound, text())
    }
}

func short(_ x: Double) -> String {
    x == 0 || (abs(x) >= 1e-3 && abs(x) < 1e6) ? String(format: "%.6g", x) : String(format: "%.3e", x)
}

/// A numerically checkable claim of Proofs/, with the check that backs it.
public struct Claim: Sendable {
    public let id: String
    public let title: String
    /// The seed used when none is given (CI is deterministic).
    public let defaultSeed: UInt64
    private let check: @Sendable (UInt64) throws -> ClaimResult

    public init(id: String, title: String, defaultSeed: UInt64 = 20_260_101, check: @escaping @Sendable (UInt64) throws -> ClaimResult) {
        self.id = id
        self.title = title
        self.defaultSeed = defaultSeed
        self.check = check
    }

    /// Runs the check with `seed`, or the default seed.
    public func run(seed: UInt64? = nil) throws -> ClaimResult {
        try check(seed ?? defaultSeed)
    }
}
