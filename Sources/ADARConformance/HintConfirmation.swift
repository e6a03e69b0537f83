import ADARProtocol

/// A hint the report shows: a misconception whose signature fits every failing case of the run
/// (docs/PORTING.md §4, "Hints"). A wrong hint is worse than none, so a misconception that
/// explains only some failures is never shown.
public struct ConfirmedHint: Sendable, Equatable {
    /// How specific the evidence is (docs/PORTING.md §4).
    public enum Confidence: String, Sendable, Comparable {
        /// Another catalogue entry fits every failure too: the signatures cannot tell them apart.
        case low
        /// The only entry that fits, but on fewer than `ConfirmedHint.strongEvidence` failing cases.
        case medium
        /// The only entry that fits, on at least `ConfirmedHint.strongEvidence` failing cases.
        case high

        public static func < (a: Confidence, b: Confidence) -> Bool {
            [Confidence.low, .medium, .high].firstIndex(of: a)! < [Confidence.low, .medium, .high].firstIndex(of: b)!
        }
    }

    public var misconception: Misconception
    public var confidence: Confidence
    /// The failing cases it explains: every one of the run's failures.
    public var explains: Int
    /// Other entries that fit every failure as well.
    public var alsoFits: [Misconception]

    /// Failing cases from which a sole fit is `high` confidence: one failure could be a coincidence of
    /// a single wrong number, three independent ones reproduced by the same wrong convention are not.
    public static let strongEvidence = 3

    public var json: JSONValue {
        .object([
            ("misconception", .string(misconception.name)), ("hint", .string(misconception.hint)),
            ("confidence", .string(confidence.rawValue)), ("explains", .integer(explains)),
            ("alsoFits", .array(alsoFits.map { .string($0.name) })),
        ])
    }

    /// The hints of a run: the misconceptions that reproduce every failing case. A failure with no
    /// usable answer (a crash, a refusal, no hint worked out) fits no misconception, so then no hint
    /// is shown. Each verdict's `diagnoses` is cut down to the confirmed hints; `remark` says why
    /// a run whose failures some misconceptions explain in part shows none.
    public static func confirm(_ reports: inout [FileReport]) -> (hints: [ConfirmedHint], remark: String?) {
        let failures = reports.flatMap(\.failures)
        guard let first = failures.first else { return ([], nil) }
        var fitting = Set(first.diagnoses)
        for failure in failures.dropFirst() { fitting.formIntersection(failure.diagnoses) }
        let partial = Set(failures.flatMap(\.diagnoses)).subtracting(fitting)
        for f in reports.indices {
            for v in reports[f].verdicts.indices where reports[f].verdicts[v].outcome == .fail {
                reports[f].verdicts[v].diagnoses.removeAll { !fitting.contains($0) }
            }
        }
        let confirmed = Misconception.all.filter(fitting.contains)
        let hints = confirmed.map { misconception in
            let rivals = confirmed.filter { $0 != misconception }
            let confidence: Confidence = !rivals.isEmpty ? .low : failures.count >= strongEvidence ? .high : .medium
            return ConfirmedHint(misconception: misconception, confidence: confidence, explains: failures.count, alsoFits: rivals)
        }
        let remark = hints.isEmpty && !partial.isEmpty
            ? "no hint: \(partial.count) known misconception(s) explain some of the \(failures.count) failing case(s) but none explains "
                + "all of them (more than one bug, or one the catalogue does not know; docs/PORTING.md §4)"
            : nil
        return (hints, remark)
    }
}
