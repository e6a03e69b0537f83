import GSLOracle

/// A number for the final table, or why it is undefined. A table prints the
/// reason's short form ("n/a"), never NaN.
public enum Reported<Value: Equatable & Sendable>: Equatable, Sendable {
    case value(Value)
    case undefined(reason: String)

    public var value: Value? {
        if case let .value(value) = self { value } else { nil }
    }
}

extension Reported where Value == Double {
    /// `format(x)` for a value, "n/a" when undefined.
    public func text(_ format: (Double) -> String) -> String {
        switch self {
        case let .value(x): format(x)
        case .undefined: "n/a"
        }
    }
}

/// A two-sided confidence interval `[lower, upper]` at `level` (e.g. 0.95).
public struct ConfidenceInterval: Equatable, Sendable {
    public let lower: Double
    public let upper: Double
    public let level: Double
}

/// Identifies one final run within a cell: runs of two samplers are paired
/// when they share the data split and the model seed.
public struct PairKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let splitSeed: UInt64
    public let modelSeed: UInt64

    public init(splitSeed: UInt64, modelSeed: UInt64) {
        self.splitSeed = splitSeed
        self.modelSeed = modelSeed
    }

    public static func < (a: PairKey, b: PairKey) -> Bool {
        (a.splitSeed, a.modelSeed) < (b.splitSeed, b.modelSeed)
    }

    public var description: String { "split seed \(splitSeed), model seed \(modelSeed)" }
}

/// A candidate sampler against a comparator over paired runs
/// (docs/PROTOCOL.md "Statistics"): differences `d_i = candidate_i − comparator_i`,
/// the two-sided paired t-test, and the effect sizes.
///
/// With `n` pairs, `d̄` their mean and `s_d` their sample standard deviation
/// (denominator `n − 1`):
/// - `t = d̄ / (s_d/√n)` on `n − 1` degrees of freedom, `p = min(1, 2·P(T > |t|))`
///   with GSL's Student-t tail;
/// - the CI is `d̄ ± t_{(1+level)/2, n−1}·s_d/√n` with GSL's t quantile;
/// - `Δ% = 100·d̄ / mean(comparator)`;
/// - Cohen's `d_z = d̄ / s_d`.
///
/// Degenerate cases are reported as undefined, with the reason: `n < 2` (no
/// spread to estimate), `s_d ≤ n·ε·max(|a|, |b|)` (every difference equal, up to the
/// rounding of the differences themselves: no t, p, CI or d_z),
/// and a comparator mean of 0 (no Δ%).
public struct PairedComparison: Equatable, Sendable {
    public let pairCount: Int
    public let candidateMean: Double
    public let comparatorMean: Double
    /// `d̄`, candidate minus comparator.
    public let meanDifference: Double
    public let standardDeviationOfDifferences: Reported<Double>
    public let t: Reported<Double>
    /// `n − 1`.
    public let degreesOfFreedom: Int
    public let pValue: Reported<Double>
    public let confidenceInterval: Reported<ConfidenceInterval>
    public let relativeDifferencePercent: Reported<Double>
    public let cohensDz: Reported<Double>

    /// Runs paired by key; both sides must hold exactly the same keys.
    public init(
        candidate: [PairKey: Double], comparator: [PairKey: Double], confidenceLevel: Double = 0.95
    ) throws(StatisticsError) {
        if let key = candidate.keys.sorted().first(where: { comparator[$0] == nil }) {
            throw .unpairedRun(key: key, presentIn: "candidate")
        }
        if let key = comparator.keys.sorted().first(where: { candidate[$0] == nil }) {
            throw .unpairedRun(key: key, presentIn: "comparator")
        }
        let keys = candidate.keys.sorted()
        try self.init(candidate: keys.map { candidate[$0]! }, comparator: keys.map { comparator[$0]! },
                      confidenceLevel: confidenceLevel)
    }

    /// Runs paired by position: `candidate[i]` and `comparator[i]` share split and model seed.
    public init(candidate: [Double], comparator: [Double], confidenceLevel: Double = 0.95) throws(StatisticsError) {
        guard candidate.count == comparator.count else {
            throw .countMismatch(candidate: candidate.count, comparator: comparator.count)
        }
        guard !candidate.isEmpty else { throw .noPairs }
        for (side, values) in [("candidate", candidate), ("comparator", comparator)] {
            if let index = values.firstIndex(where: { !$0.isFinite }) {
                throw .nonFiniteValue(side: side, index: index, value: values[index])
            }
        }
        guard confidenceLevel.isFinite, confidenceLevel > 0, confidenceLevel < 1 else {
            throw .invalidConfidenceLevel(confidenceLevel)
        }
        let n = candidate.count
        let differences = zip(candidate, comparator).map { $0 - $1 }
        let mean = Self.mean(differences)
        pairCount = n
        candidateMean = Self.mean(candidate)
        comparatorMean = Self.mean(comparator)
        meanDifference = mean
        degreesOfFreedom = n - 1
        relativeDifferencePercent = comparatorMean == 0
            ? .undefined(reason: "the comparator's mean is 0")
            : .value(100 * mean / comparatorMean)

        // Each difference carries a rounding error up to ε·max(|a|, |b|); a spread no larger
        // than that is not evidence of variation, so it counts as none (a t from it would be noise).
        let roundingSpread = Double(n) * Double.ulpOfOne * (candidate + comparator).reduce(0) { max($0, abs($1)) }
        let inference = Self.inference(differences, mean: mean, roundingSpread: roundingSpread,
                                       confidenceLevel: confidenceLevel)
        standardDeviationOfDifferences = inference.sd
        t = inference.t
        pValue = inference.p
        confidenceInterval = inference.interval
        cohensDz = inference.dz
    }

    private static func inference(_ differences: [Double], mean: Double, roundingSpread: Double,
                                  confidenceLevel: Double) -> (
        sd: Reported<Double>, t: Reported<Double>, p: Reported<Double>, interval: Reported<ConfidenceInterval>,
        dz: Reported<Double>
    ) {
        let n = differences.count
        guard n >= 2 else {
            let reason = "one pair: the spread of the differences cannot be estimated"
            return (.undefined(reason: reason), .undefined(reason: reason), .undefined(reason: reason),
                    .undefined(reason: reason), .undefined(reason: reason))
        }
        // Two passes: the sum of squared deviations from the mean, not Σd² − n·d̄².
        let sd = (differences.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot()
        guard sd > roundingSpread else {
            let reason = sd == 0
                ? "every paired difference equals \(mean): zero variance, no t statistic"
                : "the paired differences vary by \(sd), within their rounding error: no t statistic"
            return (.value(sd), .undefined(reason: reason), .undefined(reason: reason),
                    .undefined(reason: reason), .undefined(reason: reason))
        }
        let standardError = sd / Double(n).squareRoot()
        let t = mean / standardError
        let nu = Double(n - 1)
        let p = min(1, 2 * GSL.studentTUpperTail(abs(t), degreesOfFreedom: nu))
        let halfWidth = GSL.studentTQuantile((1 + confidenceLevel) / 2, degreesOfFreedom: nu) * standardError
        let interval = ConfidenceInterval(lower: mean - halfWidth, upper: mean + halfWidth, level: confidenceLevel)
        return (.value(sd), .value(t), .value(p), .value(interval), .value(mean / sd))
    }

    private static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
}

/// Holm–Bonferroni step-down adjustment across one family of comparisons
/// (every comparison of one final table).
///
/// Sort the `m` p-values ascending, `p_(1) ≤ … ≤ p_(m)` (ties keep their input
/// order); the adjusted value of `p_(i)` is `max_{j ≤ i} min(1, (m − j + 1)·p_(j))`,
/// which is monotone in `i` and capped at 1. Rejecting where the adjusted value
/// is ≤ α is Holm's procedure at family-wise level α.
public enum HolmAdjustment {
    /// Adjusted p-values in the input order.
    public static func adjust(_ pValues: [Double]) throws(StatisticsError) -> [Double] {
        if let index = pValues.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw .invalidPValue(index: index, value: pValues[index])
        }
        let m = pValues.count
        let order = pValues.indices.sorted { (pValues[$0], $0) < (pValues[$1], $1) }
        var adjusted = [Double](repeating: 0, count: m)
        var runningMax = 0.0
        for (rank, index) in order.enumerated() {
            runningMax = max(runningMax, min(1, Double(m - rank) * pValues[index]))
            adjusted[index] = runningMax
        }
        return adjusted
    }

    /// The same over a table's p-values, some undefined. An undefined p-value
    /// still counts in `m` (as p = 1, which can never be rejected — the
    /// conservative choice) and stays undefined after adjustment.
    public static func adjust(_ pValues: [Reported<Double>]) throws(StatisticsError) -> [Reported<Double>] {
        let adjusted = try adjust(pValues.map { $0.value ?? 1 })
        return zip(pValues, adjusted).map { original, value in
            if case .undefined = original { original } else { .value(value) }
        }
    }
}

public enum StatisticsError: Error, Equatable, Sendable, CustomStringConvertible {
    case noPairs
    case countMismatch(candidate: Int, comparator: Int)
    case unpairedRun(key: PairKey, presentIn: String)
    case nonFiniteValue(side: String, index: Int, value: Double)
    case invalidConfidenceLevel(Double)
    case invalidPValue(index: Int, value: Double)

    public var description: String {
        switch self {
        case .noPairs:
            "no paired runs to compare"
        case let .countMismatch(candidate, comparator):
            "\(candidate) candidate runs but \(comparator) comparator runs: a paired test needs one of each per pair"
        case let .unpairedRun(key, side):
            "the run with \(key) exists only in the \(side): finish or drop that pair on both sides"
        case let .nonFiniteValue(side, index, value):
            "\(side) run \(index) has metric \(value), not a finite number"
        case let .invalidConfidenceLevel(level):
            "confidence level \(level) must lie in (0, 1)"
        case let .invalidPValue(index, value):
            "p-value \(index) is \(value), outside [0, 1]"
        }
    }
}
