import ADAREvaluation
import ADARCore
import ADARStore
import Foundation

/// The Markdown of one cell: the final table, the Holm family, the verdicts, the settings,
/// the budgets and the failed runs. Undefined statistics print as "n/a[k]" with footnote k.
public enum CellMarkdown {
    /// The family-wise level for the verdict lines.
    public static let alpha = 0.05

    /// The plot files a cell's Markdown links (names relative to it).
    public struct Plots: Sendable {
        public let validation: String
        public let test: String
        /// S9's calibration plot (`CellPlots.calibration`); nil when no ADAR row recorded calibration.
        public let calibration: String?

        public init(validation: String, test: String, calibration: String? = nil) {
            (self.validation, self.test, self.calibration) = (validation, test, calibration)
        }
    }

    public static func render(_ report: CellReport, plots: Plots? = nil, headingLevel: Int = 2) -> String {
        var notes = Footnotes()
        let h = String(repeating: "#", count: headingLevel)
        var out = "\(h) \(title(report.cell))\n\n"
        switch ProtocolStanding(protocolName: report.cell.protocol) {
        case .evidence:
            break
        case .limited:
            out += "**Limited protocol**: protocol `\(escape(report.cell.protocol))` (protocol/grids.json says why) tunes every row "
                + "on fewer configurations and shorter runs than `full`, to fit the cell's cost; a row may be under-tuned, so a "
                + "difference here is weaker evidence than in a `full` table.\n\n"
        case .smoke:
            out += "**Not the `full` protocol**: protocol `\(escape(report.cell.protocol))` (protocol/grids.json) "
                + "has a smaller budget or shorter runs; read this table as a check of the machinery, not as evidence for or against any sampler.\n\n"
        }
        let best = report.bestBaseline?.sampler
        let primary = report.metrics.primary, shown = report.metrics.shown

        // The final table.
        let bestTitle = best.map { "\(primary.title) vs \(escape($0)) (best baseline)" } ?? "\(primary.title) vs best baseline"
        out += "| sampler | runs | " + shown.map(\.title).joined(separator: " | ") + " | \(primary.title) vs uniform | \(bestTitle) |\n"
        out += "|---|---:|" + String(repeating: "---:|", count: shown.count) + "---:|---:|\n"
        let largestBudget = report.rows.map(\.configurationsTuned).max() ?? 0
        for row in report.rows {
            // A smaller tuning budget is said beside the row (docs/PROTOCOL.md, "Equal budgets").
            let budget = row.configurationsTuned < largestBudget
                ? " (\(row.configurationsTuned) configuration\(row.configurationsTuned == 1 ? "" : "s") tuned, others up to \(largestBudget))" : ""
            let cells = [
                escape(row.sampler) + (row.isADAR ? " (ADAR)" : "") + budget,
                String(row.runs.count),
            ] + shown.map { summary(row.test[$0]!, &notes) } + [
                brief(report.comparison(row.sampler, .uniform, primary), &notes),
                brief(report.comparison(row.sampler, .bestBaseline, primary)
                    ?? (best == "uniform" && row.isADAR ? report.comparison(row.sampler, .uniform, primary) : nil), &notes),
            ]
            out += "| " + cells.joined(separator: " | ") + " |\n"
        }
        out += "\n"
        if !report.unfinishedRows.isEmpty {
            let listed = report.unfinishedRows.map { row in
                "\(escape(row.sampler)) (\(row.tuneRuns) tune-phase run\(row.tuneRuns == 1 ? "" : "s") ended"
                    + (row.runningRuns > 0 ? ", \(row.runningRuns) unfinished" : "") + ")"
            }
            out += "**Not in this table yet:** \(listed.joined(separator: ", ")): the store holds runs but no "
                + "finished final run for \(report.unfinishedRows.count == 1 ? "this row" : "these rows"); the sweep has not "
                + "finished the cell, and the table and its Holm family cover the other rows only.\n\n"
        }
        out += epochCapParagraph(report.epochCap, metric: primary)
        out += "Test metrics of each run's best validation epoch: mean ± sample standard deviation over the final runs "
            + "(runs = n). A comparison cell reads Δ% · Δ (mean paired difference) [95% CI] · Holm-adjusted paired t-test p; "
            + "— means not compared (only ADAR variants are compared with the best baseline).\n\n"
        let m = report.comparisons.count
        out += "Holm's adjustment runs over all **m = \(m)** comparisons of this table ("
            + report.metrics.compared.map(\.title).joined(separator: " and ") + "; "
            + "each sampler vs uniform and each ADAR variant vs the best baseline), family-wise α = \(format(alpha, "%.2f")).\n\n"
        if let (name, value) = report.bestBaseline {
            out += "Best baseline: **\(escape(name))**, the non-ADAR sampler with the highest mean validation \(primary.title) "
                + "over its final runs (\(format(value, "%.4f"))); chosen on validation, never on test.\n\n"
        } else {
            out += "Best baseline: none (no non-ADAR sampler has final runs).\n\n"
        }
        if !report.rows.contains(where: { $0.sampler == "uniform" }) {
            out += "No uniform final runs: nothing is compared with uniform.\n\n"
        }
        for row in report.rows where row.isADAR {
            out += verdict(row.sampler, report: report, &notes) + "\n\n"
        }

        // The family.
        out += "\(h)# The comparisons (the Holm family)\n\n"
        out += "| candidate | comparator | metric | pairs | Δ [95% CI] | Δ% | d_z | p | Holm p |\n"
        out += "|---|---|---|---:|---:|---:|---:|---:|---:|\n"
        for comparison in report.comparisons {
            let statistics = comparison.statistics
            let interval = statistics.map { s in
                signed(s.meanDifference) + " " + s.confidenceInterval.bracket(&notes)
            } ?? notes.na(comparison.rawP)
            let cells = [
                escape(comparison.candidate), escape(comparison.comparator), comparison.metric.title,
                String(statistics?.pairCount ?? 0), interval,
                statistics.map { notes.text($0.relativeDifferencePercent) { format($0, "%+.1f%%") } } ?? notes.na(comparison.rawP),
                statistics.map { notes.text($0.cohensDz) { format($0, "%.2f") } } ?? notes.na(comparison.rawP),
                notes.text(comparison.rawP, pValue), notes.text(comparison.holmP, pValue),
            ]
            out += "| " + cells.joined(separator: " | ") + " |\n"
        }
        if report.comparisons.isEmpty { out += "| (none) | | | | | | | | |\n" }
        out += "\nm = \(m). Paired by (split seed, model seed); p from the two-sided paired t-test (GSL), "
            + "d_z = Δ / sd of the differences.\n\n"
        let unpaired = Set(report.comparisons.flatMap(\.unpaired)).sorted()
        if !unpaired.isEmpty {
            out += "Runs without a partner, left out of the pairing: \(unpaired.joined(separator: "; ")).\n\n"
        }

        if !report.chosenEpochCalibration.isEmpty {
            out += calibrationTable(report.chosenEpochCalibration, heading: "\(h)#")
            let calibrated = Set(report.chosenEpochCalibration.map(\.sampler))
            let silent = report.rows.filter { $0.isADAR && !calibrated.contains($0.sampler) }.map { escape($0.sampler) }
            if !silent.isEmpty {
                out += "Not in this table: \(silent.joined(separator: ", ")), whose final runs recorded no calibration.\n\n"
            }
        }

        // Settings, budgets, choices.
        out += "\(h)# Settings\n\n"
        if report.fixedSettings.isEmpty {
            out += "Not tuned (one value in every run of this cell): none.\n\n"
        } else {
            out += "Not tuned (one value in every run of this cell): "
                + report.fixedSettings.map { "`\($0.key)=\(text($0.value))`" }.joined(separator: ", ") + ".\n\n"
        }
        let fixedKeys = Set(report.fixedSettings.map(\.key))
        out += "| sampler | configurations tuned | chosen configuration | mean validation \(primary.title) |\n"
        out += "|---|---:|---|---:|\n"
        for row in report.rows {
            let varying = row.chosenConfiguration.values.keys.sorted().filter { !fixedKeys.contains($0) }
                .map { "\($0)=\(text(row.chosenConfiguration.values[$0]!))" }
            let chosen = varying.isEmpty ? "(only the settings above)" : "`" + varying.joined(separator: ", ") + "`"
            out += "| \(escape(row.sampler)) | \(row.configurationsTuned) | \(chosen) | \(format(row.validationNDCG.mean, "%.4f")) |\n"
        }
        out += "\nConfigurations tuned: distinct configurations among the sampler's tune-phase runs (finished or failed).\n\n"
        for mismatch in report.tuningMismatches {
            out += "**Warning:** \(escape(mismatch)); the final runs do not follow the tuning recorded in the store.\n\n"
        }
        let untuned = report.rows.filter { $0.configurationsTuned == 0 }.map { escape($0.sampler) }
        if !untuned.isEmpty {
            out += "No tune-phase runs in the store for: \(untuned.joined(separator: ", ")); their configurations "
                + "were not chosen by a recorded sweep.\n\n"
        }
        if Set(report.rows.map(\.configurationsTuned)).count > 1 {
            out += "The budgets differ. Under the protocol only a sampler whose grid is smaller than the budget is tuned "
                + "on fewer configurations (its whole grid; docs/PROTOCOL.md, \"Equal budgets\"); any other difference "
                + "means an unfinished sweep or a store that mixes sweeps.\n\n"
        }

        // Failed runs.
        out += "\(h)# Failed runs\n\n"
        if report.failedRuns.isEmpty {
            out += "None.\n\n"
        } else {
            out += "\(report.failedRuns.count) failed run\(report.failedRuns.count == 1 ? "" : "s") (in no table above):\n\n"
            for run in report.failedRuns {
                out += "- \(run.spec.phase.rawValue) \(escape(run.spec.sampler)) `\(run.spec.configuration.canonicalText)` "
                    + "split seed \(run.spec.splitSeed), model seed \(run.spec.modelSeed): \(escape(run.reason))\n"
            }
            out += "\n"
        }

        if let plots {
            out += "\(h)# Plots\n\n"
            if let pair = report.curvePair {
                out += "Validation \(primary.title) of each sampler's final run with \(pair) (chosen epoch circled):\n\n"
            }
            out += "![validation \(primary.title) curves](\(plots.validation))\n\n"
            out += "Test " + report.metrics.compared.map(\.title).joined(separator: " and ")
                + " per sampler (mean ± std, runs as dots):\n\n![test metrics](\(plots.test))\n\n"
            if let calibration = plots.calibration {
                out += "Calibration of the transition point (S9) over the epochs of each ADAR row's final run with "
                    + "\(report.curvePair.map { "\($0)" } ?? "the first seeds") (one run, not a mean over seeds): Z, where "
                    + "`forward` stays within ±1.96 of 0, and the share of synthetic negatives scoring above s⁻ against the "
                    + "mean forward retention π that `forward` predicts for it:\n\n![calibration](\(calibration))\n\n"
            }
        }
        out += notes.rendered()
        return out
    }

    /// Says how many runs the epoch cap stopped, not patience (nothing when no run recorded its stop reason).
    /// A cell as headings and tables name it: "dataset · backbone · protocol name", escaped.
    static func title(_ cell: Cell) -> String {
        "\(escape(cell.dataset)) · \(escape(cell.backbone)) · protocol \(escape(cell.protocol))"
    }

    static func epochCapParagraph(_ cap: EpochCapCount, metric: ReportMetric) -> String {
        guard cap.finalsRecorded + cap.tunesRecorded > 0 else { return "" }
        func count(_ rows: [(sampler: String, runs: Int)], of recorded: Int, _ phase: String) -> String {
            let total = rows.reduce(0) { $0 + $1.runs }
            let listed = rows.isEmpty ? "" : " (" + rows.map { "\(escape($0.sampler)) \($0.runs)" }.joined(separator: ", ") + ")"
            return "\(total) of \(recorded) \(phase) run\(recorded == 1 ? "" : "s")\(listed)"
        }
        if cap.finalsAtCap.isEmpty && cap.tunesAtCap.isEmpty {
            return "**Epoch cap:** every run stopped by patience (\(cap.finalsRecorded) final, \(cap.tunesRecorded) tuning); "
                + "none was cut off by the epoch cap.\n\n"
        }
        let epochs = cap.capEpochs.map(String.init).joined(separator: " or ")
        return "**Stopped by the epoch cap, not by patience:** \(count(cap.finalsAtCap, of: cap.finalsRecorded, "final")) and "
            + "\(count(cap.tunesAtCap, of: cap.tunesRecorded, "tuning")), after \(epochs) epochs. Their validation "
            + "\(metric.title) had improved within the last `patience` evaluations, so they may "
            + "have stopped still improving and their rows may be under-trained.\n\n"
    }

    /// "Calibration at the chosen epoch (S9)": per ADAR row, min – max over its final runs at their chosen epochs.
    static func calibrationTable(_ rows: [ChosenEpochCalibration], heading: String) -> String {
        func range(_ row: ChosenEpochCalibration, _ pattern: String, _ value: (ChosenEpochCalibration.Run) -> Double) -> String {
            guard let (low, high) = row.range(value) else { return "—" }
            let (lowText, highText) = (format(low, pattern), format(high, pattern))
            return lowText == highText ? lowText : "\(lowText) – \(highText)"
        }
        var out = "\(heading) Calibration at the chosen epoch (S9)\n\n"
        out += "| ADAR row | runs | share of Y = 1 | mean π̄ | Z | share transition | share alreadyNegative |\n"
        out += "|---|---:|---:|---:|---:|---:|---:|\n"
        for row in rows {
            let runs = row.runs.count == row.finalRuns ? "\(row.finalRuns)" : "\(row.runs.count) of \(row.finalRuns)"
            let cells = [
                escape(row.sampler), runs,
                range(row, "%.3f") { $0.calibration.share }, range(row, "%.3f") { $0.calibration.meanRetention },
                range(row, "%.2f") { $0.calibration.z },
                range(row, "%.3f") { $0.transitionShare }, range(row, "%.3f") { $0.alreadyNegativeShare },
            ]
            out += "| " + cells.joined(separator: " | ") + " |\n"
        }
        out += "\nMin – max over the final runs, each at its chosen epoch (the best validation epoch, whose parameters were "
            + "tested; the statistics pool the epochs since the previous evaluation, and a run whose chosen epoch recorded "
            + "none is not counted). Y = 1 means the synthetic negative scores above s⁻ and π̄ is the share `forward` "
            + "predicts for it: under `forward` the two agree and Z ≈ N(0, 1), so a gap means the negatives are not where "
            + "S4 put them.\n\n"
        return out
    }

    /// The plain-language verdict of an ADAR row on the primary metric (NDCG@20; SASRec NDCG@10), from the table's numbers: against the best
    /// baseline, then against uniform (once when they are the same), e.g.
    /// "adar-denoised: 4.1 % below the best baseline (dns) in NDCG@20 (Δ -0.0160 [-0.0190, -0.0130], Holm p <0.001);
    /// not significantly different from uniform (-0.3 %, Holm p 0.620)." A difference is called above or below
    /// only when its Holm-adjusted p is at most α; otherwise (or when p is undefined) "not significantly different".
    static func verdict(_ sampler: String, report: CellReport, _ notes: inout Footnotes) -> String {
        guard let best = report.bestBaseline?.sampler else {
            return "\(escape(sampler)): no best baseline to compare with."
        }
        let bestLabel = "the best baseline (\(escape(best)))"
        let primary = report.metrics.primary
        let againstBest = report.comparison(sampler, .bestBaseline, primary)
            ?? (best == "uniform" ? report.comparison(sampler, .uniform, primary) : nil)
        var clauses = [clause(againstBest, bestLabel, metric: primary, detailed: true, &notes)]
        if best != "uniform", let againstUniform = report.comparison(sampler, .uniform, primary) {
            clauses.append(clause(againstUniform, "uniform", metric: primary, detailed: false, &notes))
        }
        return "\(escape(sampler)): " + clauses.joined(separator: "; ") + "."
    }

    /// One comparison in words: "4.1 % below <label> in NDCG@20 (…)" or "not significantly different from <label> …".
    static func clause(_ comparison: Comparison?, _ label: String, metric: ReportMetric, detailed: Bool, _ notes: inout Footnotes) -> String {
        guard let comparison, let statistics = comparison.statistics else {
            return "cannot be compared with \(label) in \(metric.title): no paired runs"
        }
        let difference = statistics.meanDifference
        let percent = statistics.relativeDifferencePercent.value
        let significant = comparison.holmP.value.map { $0 <= alpha } == true && difference != 0
        // The size leads a significant clause; otherwise it goes with the numbers.
        var numbers = significant ? [] : percent.map { [format($0, "%+.1f %%")] } ?? []
        if detailed { numbers.append("Δ \(signed(difference)) \(statistics.confidenceInterval.bracket(&notes))") }
        numbers.append("Holm p \(notes.text(comparison.holmP, pValue))")
        let detail = " (" + numbers.joined(separator: ", ") + ")"
        guard significant else { return "not significantly different from \(label) in \(metric.title)" + detail }
        let size = percent.map { format(abs($0), "%.1f %%") + " " } ?? ""
        return size + (difference > 0 ? "above " : "below ") + label + " in \(metric.title)" + detail
    }

    static func summary(_ summary: MetricSummary, _ notes: inout Footnotes) -> String {
        format(summary.mean, "%.4f") + " ± " + notes.text(summary.standardDeviation) { format($0, "%.4f") }
    }

    static func brief(_ comparison: Comparison?, _ notes: inout Footnotes) -> String {
        guard let comparison else { return "—" }
        guard let statistics = comparison.statistics else { return notes.na(comparison.rawP) }
        return notes.text(statistics.relativeDifferencePercent) { format($0, "%+.1f%%") }
            + " · " + signed(statistics.meanDifference) + " " + statistics.confidenceInterval.bracket(&notes)
            + " · p " + notes.text(comparison.holmP, pValue)
    }

    static func pValue(_ p: Double) -> String { p < 0.001 ? "<0.001" : format(p, "%.3f") }
    static func signed(_ x: Double) -> String { format(x, "%+.4f") }
    static func format(_ x: Double, _ pattern: String) -> String {
        // "-0.0000" and "+-0.0" never print: a value that rounds to zero prints unsigned.
        let text = String(format: pattern, x)
        let unsigned = text.filter { $0 != "+" && $0 != "-" }
        return unsigned == String(format: pattern, 0.0).filter { $0 != "+" && $0 != "-" } ? unsigned : text
    }

    /// A configuration value as the grid file writes it.
    static func text(_ value: ConfigurationValue) -> String {
        switch value {
        case let .number(x): x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
        case let .string(s): s
        case let .bool(b): b ? "true" : "false"
        }
    }

    /// Markdown table cells: `|` and line breaks would break the row.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}

extension CellReport {
    func comparison(_ candidate: String, _ kind: Comparison.Comparator, _ metric: ReportMetric) -> Comparison? {
        comparisons.first { $0.candidate == candidate && $0.kind == kind && $0.metric == metric }
    }
}

/// Numbered footnotes for undefined statistics: each distinct reason once, in order of first use.
struct Footnotes {
    private(set) var reasons: [String] = []

    mutating func na<Value>(_ reported: Reported<Value>) -> String {
        guard case let .undefined(reason) = reported else { return "n/a" }
        if !reasons.contains(reason) { reasons.append(reason) }
        return "n/a[\(reasons.firstIndex(of: reason)! + 1)]"
    }

    mutating func text(_ reported: Reported<Double>, _ format: (Double) -> String) -> String {
        if let value = reported.value { return format(value) }
        return na(reported)
    }

    func rendered() -> String {
        guard !reasons.isEmpty else { return "" }
        return "n/a: not defined for these runs —\n\n" + reasons.enumerated().map { "[\($0.offset + 1)] \(CellMarkdown.escape($0.element))" }
            .joined(separator: "  \n") + "\n\n"
    }
}

extension Reported where Value == ConfidenceInterval {
    func bracket(_ notes: inout Footnotes) -> String {
        guard let interval = value else { return "[" + notes.na(self) + "]" }
        return "[\(CellMarkdown.signed(interval.lower)), \(CellMarkdown.signed(interval.upper))]"
    }
}
