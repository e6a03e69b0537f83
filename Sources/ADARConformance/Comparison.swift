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

/// Compares a port's output with an expected output: real values within the
/// tolerance, exact-match fields (integers, statuses, Philox words) and
/// strings exactly, `null` ≡ NaN, arrays elementwise. Fields the expected
/// output does not name are ignored.
public struct OutputComparison: Sendable {
    public var tolerance: Tolerance
    public var precision: Precision
    /// Fields compared exactly although they are numbers (docs/PORTING.md §1).
    public var exactFields: Set<String> = ["status", "timestep", "hardestCandidate", "words"]

    public init(tolerance: Tolerance, precision: Precision) {
        self.tolerance = tolerance
        self.precision = precision
    }

    /// The mismatches (empty when the output passes) and the largest errors seen.
    public func compare(expected: JSONValue, got: JSONValue) -> (mismatches: [String], error: ErrorMeasure) {
        var mismatches = [String]()
        var error = ErrorMeasure()
        walk(expected, got, path: "", exact: false, into: &mismatches, &error)
        return (mismatches, error)
    }

    private func walk(
        _ expected: JSONValue, _ got: JSONValue, path: String, exact: Bool,
        into mismatches: inout [String], _ error: inout ErrorMeasure
    ) {
        switch expected {
        case let .object(fields):
            guard got.objectFields != nil else { mismatches.append("\(label(path)): expected an object, got \(brief(got))"); return }
            for (key, value) in fields {
                let child = path.isEmpty ? key : "\(path).\(key)"
                guard let gotValue = got[key] else { mismatches.append("\(child): missing"); continue }
                walk(value, gotValue, path: child, exact: exact || exactFields.contains(key), into: &mismatches, &error)
            }
        case let .array(items):
            guard let gotItems = got.arrayItems else { mismatches.append("\(label(path)): expected an array, got \(brief(got))"); return }
            guard gotItems.count == items.count else {
                mismatches.append("\(label(path)): expected \(items.count) values, got \(gotItems.count)")
                return
            }
            for (i, (e, g)) in zip(items, gotItems).enumerated() {
                walk(e, g, path: "\(path)[\(i)]", exact: exact, into: &mismatches, &error)
            }
        case .null, .number:
            guard let want = expected.double, let have = got.double else {
                mismatches.append("\(label(path)): expected \(expected.rendered), got \(brief(got))")
                return
            }
            if want.isNaN || have.isNaN || exact {
                let same = want.isNaN ? have.isNaN : want == have
                if !same { mismatches.append("\(label(path)): expected \(expected.rendered), got \(got.rendered)") }
                return
            }
            let measure = measure(expected: want, got: have)
            error.include(measure)
            if !(measure.absolute <= tolerance.bound(for: want)) {
                mismatches.append(
                    "\(label(path)): expected \(JSONValue.render(want)), got \(JSONValue.render(have)) "
                        + "(|Δ| = \(short(measure.absolute)), \(short(measure.ulps)) ulp; allowed \(short(tolerance.bound(for: want))))")
            }
        case .bool, .string:
            if expected != got { mismatches.append("\(label(path)): expected \(expected.rendered), got \(brief(got))") }
        }
    }

    /// The largest `|got − expected| / bound(expected)` over the real values
    /// (0 when every value is exact); ∞ when the shapes, an exact field, or a
    /// NaN disagree. Used to rank explanations of a wrong answer.
    public func normalizedDistance(expected: JSONValue, got: JSONValue) -> Double {
        distance(expected, got, exact: false)
    }

    private func distance(_ expected: JSONValue, _ got: JSONValue, exact: Bool) -> Double {
        switch expected {
        case let .object(fields):
            var worst = 0.0
            for (key, value) in fields {
                guard let gotValue = got[key] else { return .infinity }
                worst = max(worst, distance(value, gotValue, exact: exact || exactFields.contains(key)))
            }
            return got.objectFields == nil ? .infinity : worst
        case let .array(items):
            guard let gotItems = got.arrayItems, gotItems.count == items.count else { return .infinity }
            return zip(items, gotItems).reduce(0) { max($0, distance($1.0, $1.1, exact: exact)) }
        case .null, .number:
            guard let want = expected.double, let have = got.double else { return .infinity }
            if want.isNaN || have.isNaN || !want.isFinite || !have.isFinite || exact {
                return want == have || (want.isNaN && have.isNaN) ? 0 : .infinity
            }
            return abs(have - want) / max(tolerance.bound(for: want), .leastNormalMagnitude)
        case .bool, .string:
            return expected == got ? 0 : .infinity
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

func brief(_ value: JSONValue) -> String {
    let text = value.rendered
    return text.count <= 80 ? text : String(text.prefix(77)) + "…"
}

func short(_ x: Double) -> String {
    if x == 0 || !x.isFinite { return "\(x)" }
    if abs(x) >= 1e-3 && abs(x) < 1e6 { return String(format: "%.4g", x) }
    return String(format: "%.3e", x)
}
