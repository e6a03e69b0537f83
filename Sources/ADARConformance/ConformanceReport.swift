import Foundation
import ADARProtocol

/// How one test case went (docs/PORTING.md §4).
public struct CaseVerdict: Sendable {
    public enum Outcome: String, Sendable {
        case pass, fail, acceptable, skipped
    }

    public var test: FixtureCase
    public var outcome: Outcome
    /// Why the case failed, or a remark on a passing one (a refusal of another kind).
    public var reason: String?
    /// The misconceptions that reproduce a failing answer (docs/PORTING.md §4): from `judge`, every one
    /// that fits this case; in a report, only those that fit every failure of the run (`ConformanceReport.hints`).
    public var diagnoses: [Misconception]
    public var error: ErrorMeasure?
    /// Why no hint was worked out for a failing answer (the case is too large, or the run's time was up).
    public var hintSkipped: String?
}

/// The largest error of one kind in a file and where it occurred.
public struct WorstError: Sendable {
    public var value = 0.0
    public var tcId: Int?
}

/// Per-file counts and worst errors, Wycheproof / Boost.Math style.
public struct FileReport: Sendable {
    public var name: String
    public var verdicts: [CaseVerdict]

    public init(name: String, verdicts: [CaseVerdict]) {
        self.name = name
        self.verdicts = verdicts
    }

    public func count(_ outcome: CaseVerdict.Outcome) -> Int { verdicts.count { $0.outcome == outcome } }
    public var failures: [CaseVerdict] { verdicts.filter { $0.outcome == .fail } }

    public var worstAbsolute: WorstError { worst(\.absolute) }
    public var worstRelative: WorstError { worst(\.relative) }
    public var worstULPs: WorstError { worst(\.ulps) }

    private func worst(_ key: KeyPath<ErrorMeasure, Double>) -> WorstError {
        var result = WorstError()
        for verdict in verdicts {
            if let error = verdict.error, error[keyPath: key] > result.value || (result.tcId == nil && error[keyPath: key] == result.value) {
                result = WorstError(value: error[keyPath: key], tcId: verdict.test.tcId)
            }
        }
        return result
    }
}

/// The whole run: what the port declared, every file, and the verdict.
public struct ConformanceReport: Sendable {
    public var portName: String
    public var precision: Precision
    public var files: [FileReport]
    /// Remarks that belong to no case (lines of a results file that did not parse, …).
    public var remarks: [String]
    /// The misconceptions that explain every failing case, with their confidence (docs/PORTING.md §4).
    public var hints: [ConfirmedHint] = []

    public var total: (pass: Int, fail: Int, acceptable: Int, skipped: Int) {
        files.reduce((0, 0, 0, 0)) {
            ($0.0 + $1.count(.pass), $0.1 + $1.count(.fail), $0.2 + $1.count(.acceptable), $0.3 + $1.count(.skipped))
        }
    }

    /// Every valid case passed, every invalid one was refused, at least one
    /// case was checked, and (unless allowed) none was skipped.
    public func succeeded(allowSkipped: Bool) -> Bool {
        let t = total
        return t.fail == 0 && t.pass + t.acceptable > 0 && (allowSkipped || t.skipped == 0)
    }

    public var text: String {
        var lines = ["port: \(portName), checked against the \(precision.rawValue) groups"]
        for remark in remarks { lines.append("note: \(remark)") }
        for file in files {
            lines.append("")
            lines.append("\(file.name): \(file.count(.pass)) pass, \(file.count(.fail)) fail, "
                + "\(file.count(.acceptable)) acceptable, \(file.count(.skipped)) skipped")
            if file.verdicts.contains(where: { $0.error != nil }) {
                let a = file.worstAbsolute, r = file.worstRelative, u = file.worstULPs
                lines.append("  max error: abs \(short(a.value)) (tcId \(a.tcId.map(String.init) ?? "-")), "
                    + "rel \(short(r.value)) (tcId \(r.tcId.map(String.init) ?? "-")), "
                    + "\(short(u.value)) ulp (tcId \(u.tcId.map(String.init) ?? "-"))")
            }
            for verdict in file.failures {
                let flags = verdict.test.flags.isEmpty ? "" : " [\(verdict.test.flags.joined(separator: ", "))]"
                lines.append("  FAIL tcId \(verdict.test.tcId)\(flags) \(verdict.test.comment)")
                lines.append("       \(verdict.reason ?? "")")
                for diagnosis in verdict.diagnoses { lines.append("       hint: \(diagnosis.hint)") }
            }
        }
        let t = total
        for hint in hints {
            lines.append("")
            lines.append("hint (\(hint.confidence.rawValue) confidence; explains all \(hint.explains) failing case(s)"
                + (hint.alsoFits.isEmpty ? "" : "; so does \(hint.alsoFits.map(\.name).joined(separator: ", "))") + "): \(hint.misconception.hint)")
        }
        lines.append("")
        lines.append("total: \(t.pass) pass, \(t.fail) fail, \(t.acceptable) acceptable, \(t.skipped) skipped")
        return lines.joined(separator: "\n")
    }

    public var json: JSONValue {
        let t = total
        func worst(_ w: WorstError) -> JSONValue {
            .object([("value", .real(w.value)), ("tcId", w.tcId.map(JSONValue.integer) ?? .null)])
        }
        return .object([
            ("port", .string(portName)), ("precision", .string(precision.rawValue)),
            ("remarks", .array(remarks.map(JSONValue.string))),
            ("hints", .array(hints.map(\.json))),
            ("files", .array(files.map { file in
                .object([
                    ("file", .string(file.name)),
                    ("pass", .integer(file.count(.pass))), ("fail", .integer(file.count(.fail))),
                    ("acceptable", .integer(file.count(.acceptable))),
                    ("skipped", .integer(file.count(.skipped))),
                    ("maxAbsoluteError", worst(file.worstAbsolute)), ("maxRelativeError", worst(file.worstRelative)),
                    ("maxULPError", worst(file.worstULPs)),
                    ("failures", .array(file.failures.map { verdict in
                        .object([
                            ("tcId", .integer(verdict.test.tcId)), ("id", .string(verdict.test.id)),
                            ("flags", .array(verdict.test.flags.map(JSONValue.string))),
                            ("reason", .string(verdict.reason ?? "")),
                            ("diagnoses", .array(verdict.diagnoses.map { .object([("misconception", .string($0.name)), ("hint", .string($0.hint))]) })),
                            ("hintSkipped", verdict.hintSkipped.map(JSONValue.string) ?? .null),
                        ])
                    })),
                ])
            })),
            ("total", .object([
                ("pass", .integer(t.pass)), ("fail", .integer(t.fail)),
                ("acceptable", .integer(t.acceptable)), ("skipped", .integer(t.skipped)),
            ])),
        ])
    }
}
