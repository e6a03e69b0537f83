import ADAREvaluation
import ADARCore
import ADARStore
import Foundation

/// One final table: a dataset × backbone × protocol.
public struct Cell: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let dataset: String
    public let backbone: String
    public let `protocol`: String

    public init(dataset: String, backbone: String, protocol: String) {
        self.dataset = dataset
        self.backbone = backbone
        self.protocol = `protocol`
    }

    public static func < (a: Cell, b: Cell) -> Bool {
        (a.dataset, a.backbone, a.protocol) < (b.dataset, b.backbone, b.protocol)
    }

    public var description: String { "\(dataset) · \(backbone) · protocol \(`protocol`)" }

    /// A file-name stem: letters, digits, `.`, `_` and `-` kept, anything else `_`.
    public var fileStem: String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        return [dataset, backbone, `protocol`]
            .map { String($0.map { allowed.contains($0) ? $0 : "_" }) }
            .joined(separator: "-")
    }
}

/// A metric the table reads, by its name in the store (docs/STORE.md).
public struct ReportMetric: Hashable, Sendable {
    /// The store's name, e.g. `ndcg@20`.
    public let rawValue: String
    /// As printed, e.g. `NDCG@20`.
    public let title: String

    /// The CF cells' metrics.
    public static let ndcg = ReportMetric(rawValue: "ndcg@20", title: "NDCG@20")
    public static let recall = ReportMetric(rawValue: "recall@20", title: "Recall@20")
    /// The sequential cells' (SASRec, one held-out item: HR@K is Recall@K).
    public static let ndcgAt10 = ReportMetric(rawValue: "ndcg@10", title: "NDCG@10")
    public static let hitRateAt10 = ReportMetric(rawValue: "hr@10", title: "HR@10")
    public static let hitRateAt20 = ReportMetric(rawValue: "hr@20", title: "HR@20")
}

/// Which metrics a cell's table reads, by its backbone: the CF cells NDCG@20 and Recall@20
/// (docs/PROTOCOL.md); the sequential cells (SASRec) NDCG@10 and HR@10 as the SASRec paper, with
/// HR@20 and NDCG@20 shown too (docs/TRAINING.md "Sequential protocol").
public struct CellMetrics: Sendable {
    /// What selection and early stopping maximised on validation: the best baseline, the
    /// comparison columns, the verdicts and the validation plot read it.
    public let primary: ReportMetric
    /// The Holm family's metrics, the primary first (and the test plot's panels).
    public let compared: [ReportMetric]
    /// The table's metric columns, in order.
    public let shown: [ReportMetric]

    public init(backbone: String) {
        if backbone == "sasrec" {
            primary = .ndcgAt10
            compared = [.ndcgAt10, .hitRateAt10]
            shown = [.hitRateAt10, .ndcgAt10, .hitRateAt20, .ndcg]
        } else {
            primary = .ndcg
            compared = [.ndcg, .recall]
            shown = [.recall, .ndcg]
        }
    }
}

/// Mean ± sample standard deviation (denominator n − 1) over a sampler's final runs.
public struct MetricSummary: Equatable, Sendable {
    public let count: Int
    public let mean: Double
    public let standardDeviation: Reported<Double>

    init(_ values: [Double]) {
        count = values.count
        mean = values.reduce(0, +) / Double(values.count)
        if values.count < 2 {
            standardDeviation = .undefined(reason: "one run: no standard deviation")
        } else {
            let mean = mean
            let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            standardDeviation = .value((squares / Double(values.count - 1)).squareRoot())
        }
    }
}

/// One sampler's row: its chosen configuration, its final runs and what tuning spent.
public struct SamplerRow: Sendable {
    public let sampler: String
    public let isADAR: Bool
    /// The configuration of its final runs (the one chosen on validation by tuning).
    public let chosenConfiguration: RunConfiguration
    /// Its finished final runs, in pair order.
    public let runs: [FinishedRun]
    /// Test metrics.
    public let test: [ReportMetric: MetricSummary]
    /// Mean best-validation primary metric (NDCG@20; SASRec NDCG@10) over the final runs: what picks the best baseline.
    public let validationNDCG: MetricSummary
    /// Distinct configurations among its tune-phase runs (finished or failed).
    public let configurationsTuned: Int

    func values(_ metric: ReportMetric) -> [PairKey: Double] {
        Dictionary(uniqueKeysWithValues: runs.map { ($0.pairKey, $0.testMetrics[metric.rawValue]!) })
    }
}

/// One paired comparison of the table's Holm family.
public struct Comparison: Sendable {
    public enum Comparator: Equatable, Sendable {
        case uniform
        case bestBaseline
    }

    public let candidate: String
    public let comparator: String
    public let kind: Comparator
    public let metric: ReportMetric
    /// The paired statistics; nil when the two samplers share no (split seed, model seed).
    public let statistics: PairedComparison?
    /// Runs of either side without a partner, left out of the pairing.
    public let unpaired: [String]
    /// Holm-adjusted over the whole table.
    public let holmP: Reported<Double>

    public var rawP: Reported<Double> {
        statistics?.pValue ?? .undefined(reason: Self.noPairs(candidate, comparator))
    }

    static func noPairs(_ candidate: String, _ comparator: String) -> String {
        "no paired runs: \(candidate) and \(comparator) share no split and model seed"
    }
}

/// A cell's final table and everything printed around it, computed from the store alone.
public struct CellReport: Sendable {
    public let cell: Cell
    /// The metrics of the cell's backbone.
    public let metrics: CellMetrics
    public let rows: [SamplerRow]
    /// The non-ADAR sampler with the highest mean validation primary metric over its final runs, and that mean.
    public let bestBaseline: (sampler: String, validationNDCG: Double)?
    /// The Holm family: every comparison in the table, on each of `metrics.compared`.
    public let comparisons: [Comparison]
    /// Configuration keys with one value across every run of the cell (tune and final, finished or failed).
    public let fixedSettings: [(key: String, value: ConfigurationValue)]
    /// Failed runs of the cell (tune and final); they enter no table.
    public let failedRuns: [FailedRun]
    /// Samplers whose final runs do not use their best tuned configuration (by the validation primary metric), and why.
    public let tuningMismatches: [String]
    /// Rows the store has runs for (any phase, any status) but no finished final run: an unfinished sweep, with
    /// their finished or failed tune-phase runs and their runs still marked running (in progress, or interrupted
    /// and to be redone). They are not in the table, and the table must say so rather than look complete.
    public let unfinishedRows: [(sampler: String, tuneRuns: Int, runningRuns: Int)]
    /// Which finished runs the epoch cap stopped rather than patience (docs/PROTOCOL.md, "Early stopping").
    public let epochCap: EpochCapCount
    /// What the cell's finished runs cost, by the store's run times.
    public let runTime: CellRunTime
    /// The curve of each sampler's final run at `curvePair`, for the validation plot.
    public let curves: [(sampler: String, bestEpoch: Int, points: [(epoch: Int, value: Double)])]
    /// The (split seed, model seed) of the plotted curves: the first of the protocol (the smallest).
    public let curvePair: PairKey?
    /// S9's calibration statistics over the epochs of each ADAR row's final run at `curvePair`
    /// (rows whose runs recorded none are left out).
    public let calibrationCurves: [CalibrationCurve]
    /// S9's calibration at the chosen epoch of every final run of each ADAR row that recorded calibration
    /// (in table order; rows that recorded none are left out).
    public let chosenEpochCalibration: [ChosenEpochCalibration]

    /// Samplers are listed uniform first, then the other baselines, then the ADAR variants.
    static let baselineOrder = ["uniform", "dns", "ahns", "mixgcf"]

    /// A row whose name begins with "adar" is an ADAR row, never a baseline (the grid file names every row of the
    /// adar sampler "adar" or "adar-…", and no other row so).
    public static func isADAR(_ sampler: String) -> Bool { sampler.lowercased().hasPrefix("adar") }

    static func order(_ a: String, _ b: String) -> Bool {
        func rank(_ name: String) -> (Int, Int, String) {
            if isADAR(name) { return (2, name == "adar" ? 0 : 1, name) }
            if let index = baselineOrder.firstIndex(of: name) { return (0, index, name) }
            return (1, 0, name)
        }
        return rank(a) < rank(b)
    }

    /// Reads the cell from the store. A finished final run without a test metric of `metrics.shown` or
    /// without the validation primary metric, or a sampler with final runs of several configurations, is refused.
    public init(cell: Cell, store: RunStore) throws(ReportError) {
        self.cell = cell
        let metrics = CellMetrics(backbone: cell.backbone)
        self.metrics = metrics
        let primary = metrics.primary
        let finals: [FinishedRun], tunes: [FinishedRun], failed: [FailedRun]
        do {
            finals = try store.finishedRuns(phase: .final, dataset: cell.dataset, backbone: cell.backbone, protocol: cell.protocol)
            tunes = try store.finishedRuns(phase: .tune, dataset: cell.dataset, backbone: cell.backbone, protocol: cell.protocol)
            failed = try store.failedRuns(dataset: cell.dataset, backbone: cell.backbone, protocol: cell.protocol)
                .filter { $0.spec.phase != .demo }
        } catch {
            throw .store(error)
        }
        failedRuns = failed
        let failedTunes = failed.filter { $0.spec.phase == .tune }

        for run in finals {
            for metric in metrics.shown where run.testMetrics[metric.rawValue] == nil {
                throw .missingMetric(run: run.spec.description, split: "test", metric: metric.rawValue)
            }
            if run.bestValidationMetrics[primary.rawValue] == nil {
                throw .missingMetric(run: run.spec.description, split: "validation (best epoch)", metric: primary.rawValue)
            }
        }

        var rows: [SamplerRow] = []
        for sampler in Set(finals.map(\.spec.sampler)).sorted(by: Self.order) {
            let runs = finals.filter { $0.spec.sampler == sampler }.sorted { $0.pairKey < $1.pairKey }
            let configurations = Set(runs.map(\.spec.configuration.canonicalText)).sorted()
            guard configurations.count == 1 else {
                throw .severalConfigurations(cell: cell.description, sampler: sampler, configurations: configurations)
            }
            let tuned = Set(
                tunes.filter { $0.spec.sampler == sampler }.map(\.spec.configuration.canonicalText)
                    + failedTunes.filter { $0.spec.sampler == sampler }.map(\.spec.configuration.canonicalText)
            )
            rows.append(SamplerRow(
                sampler: sampler, isADAR: Self.isADAR(sampler), chosenConfiguration: runs[0].spec.configuration,
                runs: runs,
                test: Dictionary(uniqueKeysWithValues: metrics.shown.map { metric in
                    (metric, MetricSummary(runs.map { $0.testMetrics[metric.rawValue]! }))
                }),
                validationNDCG: MetricSummary(runs.map { $0.bestValidationMetrics[primary.rawValue]! }),
                configurationsTuned: tuned.count
            ))
        }
        self.rows = rows
        epochCap = EpochCapCount(finals: rows.flatMap(\.runs), tunes: tunes)
        runTime = CellRunTime(finals: finals, tunes: tunes)
        tuningMismatches = Self.mismatches(rows: rows, tunes: tunes, metric: primary)
        let tabled = Set(rows.map(\.sampler))
        let tuneSamplers = tunes.map(\.spec.sampler) + failedTunes.map(\.spec.sampler)
        do {
            let started = try store.samplers(dataset: cell.dataset, backbone: cell.backbone, protocol: cell.protocol)
            unfinishedRows = try Set(started).subtracting(tabled).sorted(by: Self.order).map { sampler throws(RunStoreError) in
                let running = try store.statusCounts(dataset: cell.dataset, backbone: cell.backbone, sampler: sampler,
                                                     protocol: cell.protocol)[.running] ?? 0
                return (sampler, tuneSamplers.filter { $0 == sampler }.count, running)
            }
        } catch {
            throw .store(error)
        }

        // Chosen on validation only; ties go to the first in table order.
        var best: SamplerRow?
        for row in rows where !row.isADAR {
            if best == nil || row.validationNDCG.mean > best!.validationNDCG.mean { best = row }
        }
        bestBaseline = best.map { ($0.sampler, $0.validationNDCG.mean) }

        comparisons = try Self.family(rows: rows, bestBaseline: best, metrics: metrics.compared)

        var allSpecs = (finals + tunes).map(\.spec) + failed.map(\.spec)
        allSpecs.sort { $0.description < $1.description }
        var fixed: [(String, ConfigurationValue)] = []
        if let first = allSpecs.first {
            for key in first.configuration.values.keys.sorted() {
                let value = first.configuration.values[key]!
                if allSpecs.allSatisfy({ $0.configuration.values[key] == value }) { fixed.append((key, value)) }
            }
        }
        fixedSettings = fixed

        let pair = finals.map(\.pairKey).min()
        curvePair = pair
        var curves: [(String, Int, [(Int, Double)])] = []
        var calibrationCurves: [CalibrationCurve] = []
        var chosenEpochCalibration: [ChosenEpochCalibration] = []
        for row in rows {
            var recordedCalibration = false
            var chosen: [ChosenEpochCalibration.Run] = []
            // A baseline's curve is the only thing read from its evaluations; an ADAR row's chosen epochs are read from every final run.
            for run in row.runs where row.isADAR || run.pairKey == pair {
                let evaluations: [Evaluation]
                do { evaluations = try store.evaluations(run.id) } catch { throw .store(error) }
                let validation = evaluations.filter { $0.split == .validation }
                let calibration = row.isADAR ? validation.compactMap(CalibrationCurve.Point.init) : []
                recordedCalibration = recordedCalibration || !calibration.isEmpty
                if row.isADAR, let atChosenEpoch = validation.first(where: { $0.epoch == run.bestEpoch }).flatMap(ChosenEpochCalibration.Run.init) {
                    chosen.append(atChosenEpoch)
                }
                guard run.pairKey == pair else { continue }
                let points = validation.compactMap { evaluation in
                    evaluation.metrics[primary.rawValue].map { (evaluation.epoch, $0) }
                }
                curves.append((row.sampler, run.bestEpoch, points))
                if !calibration.isEmpty {
                    calibrationCurves.append(CalibrationCurve(sampler: row.sampler, points: calibration))
                }
            }
            if recordedCalibration {
                chosenEpochCalibration.append(ChosenEpochCalibration(sampler: row.sampler, finalRuns: row.runs.count, runs: chosen))
            }
        }
        self.curves = curves
        self.calibrationCurves = calibrationCurves
        self.chosenEpochCalibration = chosenEpochCalibration
    }

    /// The final runs must use the configuration that tuning chose: the highest best validation `metric`
    /// among the sampler's finished tune runs (ties cannot be judged here: they go by grid order).
    private static func mismatches(rows: [SamplerRow], tunes: [FinishedRun], metric: ReportMetric) -> [String] {
        var notes: [String] = []
        for row in rows {
            let scored = tunes.filter { $0.spec.sampler == row.sampler }
                .compactMap { run in run.bestValidationMetrics[metric.rawValue].map { (run.spec.configuration, $0) } }
            guard let best = scored.max(by: { $0.1 < $1.1 }) else { continue }
            guard let chosen = scored.filter({ $0.0 == row.chosenConfiguration }).map(\.1).max() else {
                notes.append("\(row.sampler): the configuration of its final runs is not among its finished tune runs")
                continue
            }
            if chosen < best.1 {
                notes.append("\(row.sampler): its final runs use a configuration with tune-phase validation \(metric.title) "
                    + "\(chosen), below the best tuned, \(best.1) (\(best.0.canonicalText))")
            }
        }
        return notes
    }

    /// Every sampler against uniform, and every ADAR variant against the best baseline (unless that is
    /// uniform, already compared), on each of `metrics`; then Holm over all of them at once.
    private static func family(rows: [SamplerRow], bestBaseline: SamplerRow?, metrics: [ReportMetric]) throws(ReportError) -> [Comparison] {
        var planned: [(SamplerRow, SamplerRow, Comparison.Comparator)] = []
        let uniform = rows.first { $0.sampler == "uniform" }
        for row in rows {
            if let uniform, row.sampler != "uniform" { planned.append((row, uniform, .uniform)) }
            if row.isADAR, let bestBaseline, bestBaseline.sampler != "uniform" {
                planned.append((row, bestBaseline, .bestBaseline))
            }
        }
        var unadjusted: [(String, String, Comparison.Comparator, ReportMetric, PairedComparison?, [String])] = []
        for (candidate, comparator, kind) in planned {
            for metric in metrics {
                let left = candidate.values(metric), right = comparator.values(metric)
                let shared = Set(left.keys).intersection(right.keys)
                let unpaired = (Set(left.keys).subtracting(shared).sorted().map { "\(candidate.sampler) \($0)" }
                    + Set(right.keys).subtracting(shared).sorted().map { "\(comparator.sampler) \($0)" })
                var statistics: PairedComparison?
                if !shared.isEmpty {
                    do {
                        statistics = try PairedComparison(
                            candidate: left.filter { shared.contains($0.key) }, comparator: right.filter { shared.contains($0.key) })
                    } catch {
                        throw .statistics("\(candidate.sampler) against \(comparator.sampler) on \(metric.rawValue): \(error)")
                    }
                }
                unadjusted.append((candidate.sampler, comparator.sampler, kind, metric, statistics, unpaired))
            }
        }
        let rawP: [Reported<Double>] = unadjusted.map { $0.4?.pValue ?? .undefined(reason: Comparison.noPairs($0.0, $0.1)) }
        let adjusted: [Reported<Double>]
        do { adjusted = try HolmAdjustment.adjust(rawP) } catch { throw .statistics("Holm adjustment: \(error)") }
        return zip(unadjusted, adjusted).map { item, holm in
            Comparison(candidate: item.0, comparator: item.1, kind: item.2, metric: item.3, statistics: item.4,
                       unpaired: item.5, holmP: holm)
        }
    }
}

/// S9's calibration of the transition point over one run, as `ProtocolSweep` stores it per evaluation
/// (docs/PROTOCOL.md, "Running the protocol"): each point sums the epochs since the previous evaluation.
public struct CalibrationCurve: Sendable {
    public struct Point: Sendable {
        public let epoch: Int
        /// `Z = Σ(Y − π)/√Σπ(1 − π)` over the transition and saturated rows.
        public let z: Double
        /// The share of those rows whose synthetic negative scores above `s⁻` (`Y = 1`).
        public let share: Double
        /// Their mean forward retention `π`: the share `forward` predicts.
        public let meanRetention: Double

        /// The point of an evaluation that recorded all three statistics (an interval with no
        /// transition or saturated row records none).
        init?(_ evaluation: Evaluation) {
            guard let z = evaluation.extra["calibration.z"], let share = evaluation.extra["calibration.share"],
                  let meanRetention = evaluation.extra["calibration.meanRetention"] else { return nil }
            (self.epoch, self.z, self.share, self.meanRetention) = (evaluation.epoch, z, share, meanRetention)
        }
    }

    public let sampler: String
    public let points: [Point]
}

/// S9's calibration at the chosen epoch of each final run of one ADAR row: the extras of the validation
/// evaluation at the run's best epoch (the epoch whose parameters were tested), which pool the epochs
/// since the previous evaluation (docs/PROTOCOL.md, "Running the protocol").
public struct ChosenEpochCalibration: Sendable {
    /// One final run at its chosen epoch.
    public struct Run: Sendable {
        /// Z, the share of `Y = 1` and the mean forward retention π̄.
        public let calibration: CalibrationCurve.Point
        /// The shares of the rows with S5's status `transition` and `alreadyNegative`.
        public let transitionShare: Double
        public let alreadyNegativeShare: Double

        /// Nil unless the evaluation recorded S9's three statistics and both status shares.
        init?(_ evaluation: Evaluation) {
            guard let calibration = CalibrationCurve.Point(evaluation),
                  let transition = evaluation.extra["share.\(RowStatus.transition.rawValue)"],
                  let alreadyNegative = evaluation.extra["share.\(RowStatus.alreadyNegative.rawValue)"] else { return nil }
            (self.calibration, transitionShare, alreadyNegativeShare) = (calibration, transition, alreadyNegative)
        }
    }

    public let sampler: String
    /// The row's finished final runs.
    public let finalRuns: Int
    /// Those whose chosen epoch recorded calibration, in pair order (an interval without a transition or
    /// saturated row records no Z).
    public let runs: [Run]

    /// The smallest and largest `value` over `runs`; nil without runs.
    public func range(_ value: (Run) -> Double) -> (low: Double, high: Double)? {
        let values = runs.map(value)
        guard let low = values.min(), let high = values.max() else { return nil }
        return (low, high)
    }
}

extension FinishedRun {
    var pairKey: PairKey { PairKey(splitSeed: spec.splitSeed, modelSeed: spec.modelSeed) }
}

/// Why a report cannot be made.
public enum ReportError: Error, Equatable, Sendable, CustomStringConvertible {
    case store(RunStoreError)
    case noFinalRuns(path: String, filter: String, tuneRuns: Int)
    case missingMetric(run: String, split: String, metric: String)
    case severalConfigurations(cell: String, sampler: String, configurations: [String])
    case statistics(String)
    case markers(path: String, reason: String)

    public var description: String {
        switch self {
        case let .store(error):
            return error.description
        case let .noFinalRuns(path, filter, tuneRuns):
            let tune = tuneRuns > 0 ? " (it has \(tuneRuns) tune-phase runs: finish the sweep with `adar tune`)" : " (it holds no runs at all: run `adar tune` first)"
            return "\(path): no final-phase runs\(filter.isEmpty ? "" : " for \(filter)"), so there is nothing to report\(tune)"
        case let .missingMetric(run, split, metric):
            return "the finished run \(run) has no \(split) \(metric); the table needs it for every final run"
        case let .severalConfigurations(cell, sampler, configurations):
            return "\(cell): sampler \(sampler) has final runs of \(configurations.count) configurations "
                + "(\(configurations.joined(separator: "; "))); final runs must all use the one chosen configuration"
        case let .statistics(detail):
            return "statistics: \(detail)"
        case let .markers(path, reason):
            return "\(path): \(reason)"
        }
    }
}

/// Finished runs that the epoch cap stopped although patience had not run out: their validation metric
/// improved within the last `patience` evaluations, so they may have stopped still improving. Read from
/// each run's summary (`stoppedByPatience`, `epochs`); runs whose summary records no stop reason are
/// counted as unknown, never as either.
public struct EpochCapCount: Sendable {
    /// The table's final runs and the cell's finished tune runs stopped by the cap, per sampler in table order.
    public let finalsAtCap: [(sampler: String, runs: Int)]
    public let tunesAtCap: [(sampler: String, runs: Int)]
    /// How many of each phase recorded a stop reason at all.
    public let finalsRecorded: Int
    public let tunesRecorded: Int
    /// The epochs after which the cap-stopped runs ended (one value when every run had the same cap).
    public let capEpochs: [Int]

    init(finals: [FinishedRun], tunes: [FinishedRun]) {
        func atCap(_ run: FinishedRun) -> Bool { run.summary["stoppedByPatience"] == 0 }
        func recorded(_ run: FinishedRun) -> Bool { run.summary["stoppedByPatience"] != nil }
        func bySampler(_ runs: [FinishedRun]) -> [(sampler: String, runs: Int)] {
            Dictionary(grouping: runs.filter(atCap), by: \.spec.sampler)
                .map { ($0.key, $0.value.count) }
                .sorted { CellReport.order($0.0, $1.0) }
        }
        finalsAtCap = bySampler(finals)
        tunesAtCap = bySampler(tunes)
        finalsRecorded = finals.filter(recorded).count
        tunesRecorded = tunes.filter(recorded).count
        capEpochs = Set((finals + tunes).filter(atCap).compactMap { $0.summary["epochs"].map { Int($0) } }).sorted()
    }
}
