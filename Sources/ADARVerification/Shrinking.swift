import Foundation

/// A randomised case that can propose simpler versions of itself
/// (docs/Shrinking.md). The claims' sweeps, the tests and `adar verify` all
/// shrink through this one protocol and `Shrinker`.
public protocol Shrinkable: Sendable {
    /// Simpler variants in groups, the largest reductions first (fewer rows,
    /// then a smaller pool, d, T, simpler options and values). A group is only
    /// built when every earlier candidate passed, so a large case never builds
    /// its value candidates. `Shrinker` ignores any candidate whose
    /// `shrinkSize` is not strictly smaller, so shrinking ends.
    var shrinkCandidateGroups: [() -> [Self]] { get }
    /// What shrinking decreases, compared lexicographically (e.g. rows, d, pool, T, value complexity).
    var shrinkSize: [Int] { get }
    /// The case for people: shapes, parameters and, when few, the values.
    var summary: String { get }
    /// A Swift expression that builds exactly this case (`try EquivalenceCase(…)`).
    var swiftExpression: String { get }
}

extension Shrinkable {
    /// Every candidate, in order.
    public var shrinkCandidates: [Self] { shrinkCandidateGroups.flatMap { $0() } }
}

/// A failing case shrunk to a minimal one: no candidate of `minimal` still fails.
public struct Counterexample: Sendable {
    /// The minimal case (an `EquivalenceCase` or a `TauCase`).
    public let minimal: any Shrinkable
    /// The minimal case, for people.
    public let summary: String
    /// A ready-to-paste Swift Testing test that rebuilds the minimal case and runs the claim on it.
    public let swiftTest: String
    /// The case as the sweep drew it.
    public let drawnSummary: String
    /// Accepted reductions, and how many candidates were run to find them.
    public let steps: Int, evaluations: Int
    /// True when the evaluation budget ran out first: `minimal` is smaller, not necessarily minimal.
    public let budgetExhausted: Bool

    public var description: String {
        "minimal counterexample (\(steps) reductions, \(evaluations) candidate runs\(budgetExhausted ? ", budget exhausted" : "")): "
            + "\(summary)\n  drawn as: \(drawnSummary)\n  as a Swift Testing case:\n"
            + swiftTest.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
    }
}

/// Greedy, deterministic shrinking: take the first candidate that still
/// fails, start again from it, and stop when none does (a local minimum
/// under the candidates) or after `budget` candidate runs.
public enum Shrinker {
    /// Candidate runs allowed per shrink; small cases run in milliseconds.
    public static let defaultBudget = 2_000

    public static func shrink<Case: Shrinkable>(
        _ failing: Case, budget: Int = defaultBudget, stillFails: (Case) -> Bool
    ) -> (minimal: Case, steps: Int, evaluations: Int, budgetExhausted: Bool) {
        var current = failing, steps = 0, evaluations = 0
        search: while true {
            let size = current.shrinkSize
            for group in current.shrinkCandidateGroups {
                for candidate in group() where candidate.shrinkSize.lexicographicallyPrecedes(size) {
                    guard evaluations < budget else { return (current, steps, evaluations, true) }
                    evaluations += 1
                    if stillFails(candidate) {
                        current = candidate
                        steps += 1
                        continue search
                    }
                }
            }
            return (current, steps, evaluations, false)
        }
    }

    /// Shrinks `failing` and renders the result: `claimID` names the claim
    /// and `check` is the Swift call that runs it on the case bound to `c`
    /// (e.g. `EquivalenceChecks.check("S6/E1", on: c)`), returning a `ClaimResult`.
    public static func counterexample<Case: Shrinkable>(
        _ failing: Case, claimID: String, check: String, stillFails: (Case) -> Bool
    ) -> Counterexample {
        let shrunk = shrink(failing, stillFails: stillFails)
        let name = claimID.filter { $0.isLetter || $0.isNumber }
        let expression = shrunk.minimal.swiftExpression
            .split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n    ")
        let test = """
            @Test("\(claimID) minimal counterexample")
            func minimalCounterexample\(name)() throws {
                let c = \(expression)
                let result = try \(check)
                #expect(result.passed, "\\(result)")
            }
            """
        return Counterexample(
            minimal: shrunk.minimal, summary: shrunk.minimal.summary, swiftTest: test, drawnSummary: failing.summary,
            steps: shrunk.steps, evaluations: shrunk.evaluations, budgetExhausted: shrunk.budgetExhausted)
    }
}

/// How simple a number is, for shrinking scores, weights and parameters:
/// 0 < ±1 < ±2ᵏ < other integers < decimals, the shorter the simpler.
enum Simplicity {
    static func rank<T: BinaryFloatingPoint & LosslessStringConvertible>(_ x: T) -> Int {
        if x == 0 { return 0 }
        if abs(x) == 1 { return 1 }
        guard x.isFinite else { return Int.max / 2 }
        if x.isNormal && x.significandBitPattern == 0 { return 2 }
        if x == x.rounded() { return 3 }
        return 4 + significantDigits(x)
    }

    /// The significant decimal digits of `x`'s shortest round-trip form (`0.0125` → 3).
    static func significantDigits<T: BinaryFloatingPoint & LosslessStringConvertible>(_ x: T) -> Int {
        let mantissa = x.description.lowercased().split(separator: "e")[0].filter(\.isNumber)
        return max(1, mantissa.drop { $0 == "0" }.reversed().drop { $0 == "0" }.count)
    }

    /// The simpler replacements of `x`, simplest first: 0, ±1, the nearest
    /// power of two, the nearest integer, then `x` rounded to 1, 2, … significant
    /// decimal digits (each only when simpler than `x`).
    static func simpler<T: BinaryFloatingPoint & LosslessStringConvertible>(_ x: T) -> [T] {
        let own = rank(x)
        guard own > 0, x.isFinite else { return [] }
        let magnitude = Double(abs(x))
        var values: [T] = [0, x < 0 ? -1 : 1, T(x < 0 ? -exp2(log2(magnitude).rounded()) : exp2(log2(magnitude).rounded())), x.rounded()]
        for digits in 1..<max(1, own - 4) {
            if let rounded = T(String(format: "%.\(digits - 1)e", Double(x))) { values.append(rounded) }
        }
        var seen = Set<Double>()
        return values.filter { $0.isFinite && rank($0) < own && seen.insert(Double($0)).inserted }
    }

    /// Candidates that simplify a whole vector at once (every component to the
    /// simplest replacement of at most each rank: 0, ±1, 2ᵏ, integers, then 1,
    /// 2, … digits), then, when `perComponent`, one component at a time.
    static func vectorCandidates<T: BinaryFloatingPoint & LosslessStringConvertible>(_ values: [T], perComponent: Bool) -> [[T]] {
        guard values.count <= valueLimit else { return [] }
        var candidates = [[T]]()
        let total = complexity(values)
        for level in 0...10 {
            let simplified = values.map { x in simpler(x).first { rank($0) <= level } ?? x }
            if complexity(simplified) < total, !candidates.contains(simplified) { candidates.append(simplified) }
        }
        if perComponent {
            for i in values.indices {
                for replacement in simpler(values[i]) {
                    var changed = values
                    changed[i] = replacement
                    candidates.append(changed)
                }
            }
        }
        return candidates
    }

    /// The summed ranks of `values`; past `valueLimit` values a constant (`Int.max / 16`), so that large
    /// cases pay nothing for it and get no value candidates: they shrink in shape first.
    static func complexity<T: BinaryFloatingPoint & LosslessStringConvertible>(_ values: [T]) -> Int {
        values.count > valueLimit ? Int.max / 16 : values.reduce(0) { $0 + rank($1) }
    }

    /// How simple an unsigned integer (a seed, stream or row number) is: rank 0 for 0, 1 for 1, 2 for
    /// a power of two, 3 otherwise, then the fewer bits the simpler (`65·rank + bit length`).
    static func complexity<T: FixedWidthInteger & UnsignedInteger>(word x: T) -> Int {
        let rank = x == 0 ? 0 : x == 1 ? 1 : x.nonzeroBitCount == 1 ? 2 : 3
        return 65 * rank + (T.bitWidth - x.leadingZeroBitCount)
    }

    /// The simpler replacements of an unsigned integer, simplest first: 0, 1, the largest power of
    /// two not above it, its half (each only when smaller).
    static func simpler<T: FixedWidthInteger & UnsignedInteger>(word x: T) -> [T] {
        guard x > 0 else { return [] }
        var seen = Set<T>()
        return [0, 1, T(1) << (T.bitWidth - 1 - x.leadingZeroBitCount), x >> 1].filter { $0 < x && seen.insert($0).inserted }
    }

    /// Values above which a vector is not simplified (see `complexity`).
    static let valueLimit = 4096

    /// Components above which a case only gets whole-vector simplifications
    /// (per-component candidates would cost one run each).
    static let perComponentLimit = 256
}

/// Swift source for the values a case holds.
enum SwiftSource {
    static func array<Value>(_ values: [Value]) -> String { "[" + values.map { "\($0)" }.joined(separator: ", ") + "]" }
    /// Doubles through `literal`, so non-finite values stay valid Swift (preferred over the generic overload).
    static func array(_ values: [Double]) -> String { "[" + values.map(literal).joined(separator: ", ") + "]" }
    /// `x` as Swift source: `.nan`, `.infinity` and `-.infinity` where `description` would print `nan` or `inf`.
    static func literal(_ x: Double) -> String {
        x.isNaN ? ".nan" : x.isInfinite ? (x < 0 ? "-.infinity" : ".infinity") : "\(x)"
    }
}

/// Smaller sizes to try for a count `n` (1, 2, n/2, n − 1), smallest first, each below `n`.
func smallerCounts(_ n: Int, minimum: Int = 1) -> [Int] {
    var seen = Set<Int>()
    return [minimum, minimum + 1, n / 2, n - 1].filter { $0 >= minimum && $0 < n && seen.insert($0).inserted }
}

/// A claim checked over random cases of one kind: how to draw a case, run
/// it into a tally, and judge the tally. Its sweep shrinks the first failing
/// case; passing sweeps pay one verdict per case and nothing more. `Failure`
/// is `Never` for claims whose checks cannot throw.
struct CaseSweep<Case: Shrinkable, Tally, Failure: Error> {
    let claimID: String
    let emptyTally: Tally
    let draw: (_ index: Int) throws(Failure) -> Case
    let run: (Case, inout Tally) throws(Failure) -> Void
    let result: (Tally, _ cases: Int) -> ClaimResult
    /// The Swift call that runs the claim on the case bound to `c`, for the printed test.
    let check: String
    /// The verdict on the whole sample, for a claim that also asks something of the sample as a whole
    /// (S4.e: the sample does cancel); nil when `result` is the whole verdict. Never shrunk: the first
    /// failing case and a single case are judged by `result` alone.
    var sampleResult: ((Tally, _ cases: Int) -> ClaimResult)? = nil

    func sweep(cases: Int) throws(Failure) -> ClaimResult {
        var tally = emptyTally, firstFailing: Case?
        for index in 0..<cases {
            let c = try draw(index)
            try run(c, &tally)
            if firstFailing == nil, !result(tally, index + 1).passed { firstFailing = c }
        }
        var claimResult = (sampleResult ?? result)(tally, cases)
        if let firstFailing {
            claimResult.counterexample = Shrinker.counterexample(firstFailing, claimID: claimID, check: check) { candidate in
                // A candidate whose check throws is not a counterexample of this claim.
                do { return try !single(candidate).passed } catch { return false }
            }
        }
        return claimResult
    }

    /// The claim on the one case `c`.
    func single(_ c: Case) throws(Failure) -> ClaimResult {
        var tally = emptyTally
        try run(c, &tally)
        var single = result(tally, 1)
        single.isSingleCase = true
        return single
    }
}

extension CaseSweep {
    /// The sweep of a claim that takes the implementation it checks as a parameter: `tested`, or
    /// `reference` when nil. `call` is the printed check up to its closing parenthesis
    /// (`RetentionChecks.check(.monotonicity, on: c`); a test's own implementation is passed as
    /// `argument:` with an Xcode placeholder, since a snippet cannot name a closure.
    init<Implementation>(
        claimID: String, call: String, argument: String, tested: Implementation?, reference: Implementation,
        emptyTally: Tally, draw: @escaping (Int) throws(Failure) -> Case,
        run: @escaping (Case, Implementation, inout Tally) throws(Failure) -> Void,
        result: @escaping (Tally, _ cases: Int) -> ClaimResult,
        sampleResult: ((Tally, _ cases: Int) -> ClaimResult)? = nil
    ) {
        let implementation = tested ?? reference
        self.init(
            claimID: claimID, emptyTally: emptyTally, draw: draw,
            run: { (c: Case, tally: inout Tally) throws(Failure) in try run(c, implementation, &tally) },
            result: result, check: call + (tested == nil ? ")" : ", \(argument): <#the test's \(argument)#>)"),
            sampleResult: sampleResult)
    }
}

extension ClaimResult {
    /// This sweep's result (a `.maxError`) with the claim's fixed part folded in: a fixed list or
    /// grid with no random case to shrink, which names its worst point itself (S8/B3's word pairs,
    /// S9/D1's `r_t` tables). The larger error (NaN counts as largest) and its point are reported;
    /// the counterexample stays the sweep's. `statistic` is given the combined error and the sweep's statistic.
    func including(fixedError: Double, at point: String, statistic: (_ error: Double, _ swept: String) -> String) -> ClaimResult {
        guard case let .maxError(sweptError, bound, unit) = measure else { return self }
        let fixedIsWorse = !sweptError.isNaN && (fixedError.isNaN || fixedError >= sweptError)
        let error = fixedIsWorse ? fixedError : sweptError
        return ClaimResult(id: id, statistic: statistic(error, self.statistic), measure: .maxError(error, bound: bound, unit: unit), seed: seed,
                           worstCase: fixedIsWorse ? point : worstCase, counterexample: counterexample)
    }
}
