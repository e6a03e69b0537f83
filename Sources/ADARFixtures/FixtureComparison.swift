/// Compares an answer with a fixture's expected output under a group's tolerance (PORTING.md §1).
public struct ComparisonOutcome: Sendable {
    /// Whether every field passes.
    public var passed: Bool
    /// The largest `|got − expected| / allowance` over real fields (0 when all are exact).
    public var worstRatio: Double
    /// The field of the worst ratio, or of the first mismatch.
    public var worstField: String
}

public enum FixtureComparison {
    /// Reals within tolerance (`null` only against `null`), everything else exactly.
    public static func compare(got: JSONValue, expected: JSONValue, tolerance: Tolerance, path: String = "") -> ComparisonOutcome {
        switch (got, expected) {
        case let (.object(gotFields), .object(expectedFields)):
            var outcome = ComparisonOutcome(passed: true, worstRatio: 0, worstField: "")
            for (key, value) in expectedFields {
                let sub = path.isEmpty ? key : path + "." + key
                guard let other = gotFields.first(where: { $0.0 == key })?.1 else {
                    return ComparisonOutcome(passed: false, worstRatio: .infinity, worstField: sub)
                }
                outcome = merge(outcome, compare(got: other, expected: value, tolerance: tolerance, path: sub))
            }
            return outcome
        case let (.array(gotItems), .array(expectedItems)):
            guard gotItems.count == expectedItems.count else {
                return ComparisonOutcome(passed: false, worstRatio: .infinity, worstField: path)
            }
            var outcome = ComparisonOutcome(passed: true, worstRatio: 0, worstField: "")
            for (k, pair) in zip(gotItems, expectedItems).enumerated() {
                outcome = merge(outcome, compare(got: pair.0, expected: pair.1, tolerance: tolerance, path: "\(path)[\(k)]"))
            }
            return outcome
        case let (.number(x), .number(y)):
            let allowance = tolerance.allowance(y), error = abs(x - y)
            let ratio = error == 0 ? 0 : (allowance == 0 ? .infinity : error / allowance)
            return ComparisonOutcome(passed: error <= allowance, worstRatio: ratio, worstField: path)
        case let (.integer(i), .number(y)):
            return compare(got: .number(Double(i)), expected: .number(y), tolerance: tolerance, path: path)
        default:
            let same = got == expected
            return ComparisonOutcome(passed: same, worstRatio: same ? 0 : .infinity, worstField: path)
        }
    }

    static func merge(_ a: ComparisonOutcome, _ b: ComparisonOutcome) -> ComparisonOutcome {
        ComparisonOutcome(
            passed: a.passed && b.passed, worstRatio: max(a.worstRatio, b.worstRatio),
            worstField: b.worstRatio > a.worstRatio || (a.passed && !b.passed) ? b.worstField : a.worstField)
    }

    /// Against the expected output and, for `acceptable` tests, each alternative: the best match.
    public static func compare(got: JSONValue, test: FixtureTest, tolerance: Tolerance) -> ComparisonOutcome {
        let candidates = [test.expected] + test.alternatives
        return candidates.map { compare(got: got, expected: $0, tolerance: tolerance) }
            .min { ($0.passed ? 0 : 1, $0.worstRatio) < ($1.passed ? 0 : 1, $1.worstRatio) }!
    }
}
