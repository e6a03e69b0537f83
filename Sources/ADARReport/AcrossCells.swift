import ADAREvaluation
import ADARCore
import ADARStore
import Foundation

/// What a cell's finished runs cost, by the run times the store recorded (a run cut off and redone
/// is not in them).
public struct CellRunTime: Sendable {
    public let tuneRuns: Int
    public let finalRuns: Int
    public let seconds: Double

    init(finals: [FinishedRun], tunes: [FinishedRun]) {
        tuneRuns = tunes.count
        finalRuns = finals.count
        seconds = (finals + tunes).reduce(0) { $0 + $1.seconds }
    }
}

/// S9's calibration of `forward` pooled over every cell (docs/REPORT.md, "Across cells"). Under
/// `forward` the statistic Z at a run's chosen epoch is N(0, 1) (S9/C1), so each final run lies outside
/// ±z₀.₉₇₅ with probability 0.05; the count of those that do is tested against Binomial(n, 0.05).
public struct PooledForwardCalibration: Sendable {
    /// The two-sided level of each run's bound, and the bound itself, Φ⁻¹(1 − level/2) ≈ 1.96.
    public static let level = 0.05
    public static let bound = StandardNormal.quantile(1 - level / 2)

    public struct Outside: Sendable {
        public let cell: Cell
        public let sampler: String
        public let z: Double
    }

    /// Final runs counted: those of `forward` rows whose chosen epoch recorded Z.
    public let runs: Int
    /// The counted runs with |Z| above `bound`, in cell, table and pair order (the store's).
    public let outside: [Outside]
    /// `P(X ≥ outside.count)` for `X ~ Binomial(runs, level)`; nil when no run was counted.
    public let pValue: Double?
    /// `forward` rows whose final runs recorded no Z at any chosen epoch (they predate the record), and the
    /// number of runs of counted rows whose chosen epoch recorded none (an interval without a transition row).
    public let rowsWithoutCalibration: [(cell: Cell, sampler: String, runs: Int)]
    public let runsWithoutCalibration: Int

    /// A row generates with `forward` unless its configuration says otherwise (GridFile: `generator`
    /// is "forward" or "denoised", absent meaning "forward").
    public static func isForward(_ row: SamplerRow) -> Bool {
        row.isADAR && (row.chosenConfiguration.values["generator"] ?? .string("forward")) == .string("forward")
    }

    init(_ cells: [CellReport]) {
        var runs = 0, missing = 0
        var outside: [Outside] = [], silent: [(Cell, String, Int)] = []
        for report in cells {
            for row in report.rows where Self.isForward(row) {
                guard let chosen = report.chosenEpochCalibration.first(where: { $0.sampler == row.sampler }) else {
                    silent.append((report.cell, row.sampler, row.runs.count))
                    continue
                }
                runs += chosen.runs.count
                missing += chosen.finalRuns - chosen.runs.count
                for run in chosen.runs where abs(run.calibration.z) > Self.bound {
                    outside.append(Outside(cell: report.cell, sampler: row.sampler, z: run.calibration.z))
                }
            }
        }
        self.runs = runs
        self.outside = outside
        pValue = runs == 0 ? nil : BinomialTail.atLeast(outside.count, of: runs, probability: Self.level)
        rowsWithoutCalibration = silent
        runsWithoutCalibration = missing
    }
}

/// The part of the report that spans its cells: the pooled calibration of `forward` and each cell's run time.
public enum AcrossCellsMarkdown {
    public static func render(_ cells: [CellReport], headingLevel: Int) -> String {
        let h = String(repeating: "#", count: headingLevel)
        var out = "\(h) Across cells\n\n"
        let pooled = PooledForwardCalibration(cells)
        if let p = pooled.pValue {
            let values = pooled.outside.map {
                "\(CellMarkdown.escape($0.cell.dataset)) · \(CellMarkdown.escape($0.cell.backbone)) "
                    + "\(CellMarkdown.escape($0.sampler)) \(CellMarkdown.format($0.z, "%.2f"))"
            }
            let which = pooled.outside.isEmpty ? "in none" : "in \(pooled.outside.count) (\(values.joined(separator: "; ")))"
            out += "**S9's calibration of `forward`, all cells pooled.** Under `forward`, Z at a run's chosen epoch is "
                + "N(0, 1) (S9/C1), so it lies outside ±\(CellMarkdown.format(PooledForwardCalibration.bound, "%.2f")) with "
                + "probability \(CellMarkdown.format(PooledForwardCalibration.level, "%.2f")). Over the final runs of the ADAR rows "
                + "that generate with `forward` (every ADAR row whose `generator` is not `denoised`), it does so \(which) "
                + "of \(pooled.runs): P(\(pooled.outside.count) or more of \(pooled.runs)) = \(CellMarkdown.format(p, "%.3f")) "
                + "(binomial upper tail, GSL).\n\n"
        } else {
            out += "**S9's calibration of `forward`:** no final run of a `forward` row recorded Z at its chosen epoch.\n\n"
        }
        var uncounted = pooled.rowsWithoutCalibration.map {
            "\(CellMarkdown.escape($0.cell.dataset)) · \(CellMarkdown.escape($0.cell.backbone)) \(CellMarkdown.escape($0.sampler)) "
                + "(\($0.runs) final run\($0.runs == 1 ? "" : "s"), no calibration recorded)"
        }
        if pooled.runsWithoutCalibration > 0 {
            uncounted.append("\(pooled.runsWithoutCalibration) run\(pooled.runsWithoutCalibration == 1 ? "" : "s") of counted rows "
                + "whose chosen epoch recorded no Z")
        }
        if !uncounted.isEmpty { out += "Not counted: \(uncounted.joined(separator: "; ")).\n\n" }

        out += "**Run time** (the store's, finished runs only: a run cut off and redone counts once):\n\n"
        out += "| cell | tuning runs | final runs | run time |\n|---|---:|---:|---:|\n"
        for report in cells {
            let time = report.runTime
            out += "| \(CellMarkdown.title(report.cell)) | \(time.tuneRuns) | \(time.finalRuns) | \(duration(time.seconds)) |\n"
        }
        return out + "\n"
    }

    /// Whole minutes ("3 h 34 min", "46 min"); under half a minute, "< 1 min".
    static func duration(_ seconds: Double) -> String {
        let minutes = Int((seconds / 60).rounded())
        if minutes == 0 { return "< 1 min" }
        return minutes < 60 ? "\(minutes) min" : "\(minutes / 60) h \(minutes % 60) min"
    }
}
