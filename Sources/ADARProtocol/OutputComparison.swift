import Foundation

/// The errors of one compared output (docs/PORTING.md §1 tolerance rule).
public struct ErrorMeasure: Equatable, Sendable {
    public var absolute = 0.0
    public var relative = 0.0
    /// In units in the last place of the expected value in the port's precision.
    public var ulps = 0.0

    mutating func include(_ other: ErrorMeasure) {
        absolute = max(absolute, other.absolute)
        relative = max(relative, other.relative)
        ulps = max(ulps, other.ulps)
    }
}

/// How an output compared with an expected one.
public struct ComparisonOutcome: Sendable {
    /// What differs beyond the tolerance, one line each; empty when the output passes.
    public var mismatches: [String] = []
    /// The largest errors over the real values compared under the tolerance.
    public var error = ErrorMeasure()
    /// The largest `|got − expected| / allowance` over real fields (0 when all
    /// are exact); ∞ when a shape, an exact field, a string or a NaN disagrees.
    public var worstRatio = 0.0
    /// The field of the worst ratio, or of the first mismatch.
    public var worstField = ""

    public var passed: Bool { mismatches.isEmpty }

    mutating func record(ratio: Double, passed: Bool, field: String) {
        if ratio > worstRatio || (self.passed && !passed) { worstField = field }
        worstRatio = max(worstRatio, ratio)
    }
}

/// Compares an output with an expected output (docs/PORTING.md §1): real
/// values within the tolerance, exact-match fields (integers, statuses, Philox
/// words) and strings exactly, `null` ≡ NaN, arrays elementwise. Fields the
/// expected output does not name are ignored. The one comparison of the
/// runner, its diagnoses and the fixture tolerance checks.
public struct OutputComparison: Sendable {
    public var tolerance: Tolerance
    public var precision: Precision
    /// Fields compared exactly although they are numbers (docs/PORTING.md §1).
    public var exactFields: Set<String> = ["status", "timestep", "hardestCandidate", "words", "negativeGenerator"]

    public init(tolerance: Tolerance, precision: Precision) {
        self.tolerance = tolerance
        self.precision = precision
    }

    public func compare(expected: JSONValue, got: JSONValue) -> ComparisonOutcome {
        var outcome = ComparisonOutcome()
        walk(expected, got, path: "", exact: false, into: &outcome)
        return outcome
    }

    /// Against the expected output and, for `acceptable` tests, each alternative: the best match.
    public func bestMatch(_ test: FixtureTest, got: JSONValue) -> ComparisonOutcome {
        ([test.expected] + test.alternatives).map { compare(expected: $0, got: got) }
            .min { ($0.passed ? 0 : 1, $0.worstRatio) < ($1.passed ? 0 : 1, $1.worstRatio) }!
    }

    private func walk(_ expected: JSONValue, _ got: JSONValue, path: String, exact: Bool, into outcome: inout ComparisonOutcome) {
        func mismatch(_ text: String) {
            outcome.mismatches.append("\(label(path)): \(text)")
            outcome.record(ratio: .infinity, passed: false, field: path)
        }
        switch expected {
        case let .object(fields):
            guard got.objectFields != nil else { return mismatch("expected an object, got \(brief(got))") }
            for (key, value) in fields {
                let child = path.isEmpty ? key : "\(path).\(key)"
                guard let gotValue = got[key] else {
                    outcome.mismatches.append("\(child): missing")
                    outcome.record(ratio: .infinity, passed: false, field: child)
                    continue
                }
                walk(value, gotValue, path: child, exact: exact || exactFields.contains(key), into: &outcome)
            }
        case let .array(items):
            guard let gotItems = got.arrayValue else { return mismatch("expected an array, got \(brief(got))") }
            guard gotItems.count == items.count else { return mismatch("expected \(items.count) values, got \(gotItems.count)") }
            for (i, (e, g)) in zip(items, gotItems).enumerated() {
                walk(e, g, path: "\(path)[\(i)]", exact: exact, into: &outcome)
            }
        case .null, .number, .integer:
            guard let want = expected.doubleValue, let have = got.doubleValue else {
                return mismatch("expected \(expected.rendered), got \(brief(got))")
            }
            if want.isNaN || have.isNaN || exact {
                let same = want.isNaN ? have.isNaN : want == have
                if same { outcome.record(ratio: 0, passed: true, field: path) } else {
                    mismatch("expected \(expected.rendered), got \(got.rendered)")
                }
                return
            }
            let field = String(path.prefix { $0 != "." && $0 != "[" })
            let measure = measure(expected: want, got: have), allowance = tolerance.allowance(want, field: field)
            outcome.error.include(measure)
            let passed = measure.absolute <= allowance
            let ratio = measure.absolute == 0 ? 0 : allowance == 0 ? .infinity : measure.absolute / allowance
            if !passed {
                outcome.mismatches.append(
                    "\(label(path)): expected \(JSONValue.real(want).rendered), got \(JSONValue.real(have).rendered) "
                        + "(|Δ| = \(short(measure.absolute)), \(short(measure.ulps)) ulp; allowed \(short(allowance)))")
            }
            outcome.record(ratio: ratio, passed: passed, field: path)
        case .bool, .string:
            if expected == got { outcome.record(ratio: 0, passed: true, field: path) } else {
                mismatch("expected \(expected.rendered), got \(brief(got))")
            }
        }
    }

    func measure(expected want: Double, got have: Double) -> ErrorMeasure {
        let absolute = abs(have - want)
        let ulp: Double = switch precision {
        case .binary64: max(abs(want), .leastNormalMagnitude).ulp
        case .binary32: Double(max(abs(Float(want)), .leastNormalMagnitude).ulp)
        }
        return ErrorMeasure(
            absolute: absolute, relative: want == 0 ? (absolute == 0 ? 0 : .infinity) : absolute / abs(want),
            ulps: absolute / ulp)
    }

    private func label(_ path: String) -> String { path.isEmpty ? "output" : path }
}

/// A value for a one-line message: its JSON, cut at 80 characters.
package func brief(_ value: JSONValue) -> String {
    let text = value.rendered
    return text.count <= 80 ? text : String(text.prefix(77)) + "…"
}

/// A number for a report: four significant digits.
package func short(_ x: Double) -> String {
    if x == 0 || !x.isFinite { return "\(x)" }
    if abs(x) >= 1e-3 && abs(x) < 1e6 { return String(format: "%.4g", x) }
    return String(format: "%.3e", x)
}
