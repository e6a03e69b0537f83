import Foundation
import ADARCore
import ADARData
import ADARTraining
import ADAREvaluation
import ADARStore

/// The protocol for one cell (data set × backbone), recorded in a `RunStore`
/// (docs/PROTOCOL.md, steps 2–4):
///
/// - `tune()`: every planned configuration of every row (`tuningPlan(for:)`,
///   equal budgets), on the first split seed with the first model seed; the test
///   split is never unsealed.
/// - `select()`: per row, the configuration with the best validation value (NDCG@20 for
///   the CF backbones, NDCG@10 for SASRec) among the store's tuning results (`TuningPlan.selectBest`).
/// - `runFinal(_:)`: each chosen configuration for every model seed × split seed;
///   each run unseals its split's test items once, for its best validation epoch.
///
/// A row's runs are stored under its name as the spec's `sampler`, and trained with its base
/// sampler by the sweep's `SweepModel` (MF or LightGCN, or SASRec). Resuming is the store's:
/// a finished (or failed) run is skipped, a run left `running` by a killed process is redone
/// from nothing. A run that diverges is
/// recorded as failed and the sweep goes on with the next.
public final class ProtocolSweep {
    public let store: RunStore
    public let evaluationProtocol: EvaluationProtocol
    public let dataset: String
    /// What the runs train, and how.
    public let model: any SweepModel
    /// The rows to run, in order (the grid file's rows, or the ones asked for).
    public let rows: [TuningRow]
    public let threads: Int
    public let codeVersion: String
    private let log: (String) -> Void

    /// `log` receives the progress lines. `model` must train the protocol's models (`ProtocolModels`).
    public init(
        store: RunStore, evaluationProtocol: EvaluationProtocol, dataset: String, model: any SweepModel, rows: [TuningRow],
        threads: Int, codeVersion: String, log: @escaping (String) -> Void
    ) {
        precondition(model.models == evaluationProtocol.models,
                     "protocol \(evaluationProtocol.name) is \(evaluationProtocol.models.rawValue), the model \(model.backbone) \(model.models.rawValue)")
        self.store = store
        self.evaluationProtocol = evaluationProtocol
        self.dataset = dataset
        self.model = model
        self.rows = rows
        self.threads = threads
        self.codeVersion = codeVersion
        self.log = log
    }

    /// A sweep of MF or LightGCN: `loadData(splitSeed)` loads the cell's data set split with that seed
    /// (ignored for a fixed split, ML-1M's time split, where every run uses split seed 0).
    public convenience init(
        store: RunStore, evaluationProtocol: EvaluationProtocol, dataset: String, backbone: Backbone, rows: [TuningRow],
        hasFixedSplit: Bool, threads: Int, codeVersion: String,
        loadData: @escaping (UInt64) throws -> ImplicitFeedback, log: @escaping (String) -> Void
    ) {
        self.init(store: store, evaluationProtocol: evaluationProtocol, dataset: dataset,
                  model: CollaborativeSweepModel(backbone: backbone, hasFixedSplit: hasFixedSplit, loadData: loadData),
                  rows: rows, threads: threads, codeVersion: codeVersion, log: log)
    }

    /// The store's backbone of every run.
    public var backbone: String { model.backbone }
    /// The validation metric selection maximises, by its store name.
    public var selectionMetric: String { evaluationProtocol.models.selectionMetric }
    /// The split seeds of the final runs: the protocol's, or just 0 for a fixed split.
    public var splitSeeds: [UInt64] { model.hasFixedSplit ? [0] : evaluationProtocol.splitSeeds }
    /// Tuning runs use the first split seed and the first model seed.
    public var tuningSplitSeed: UInt64 { splitSeeds[0] }
    public var tuningModelSeed: UInt64 { evaluationProtocol.modelSeeds[0] }

    /// The sealed test split of `splitSeed`, once its data is loaded (tests check its `accessCount`).
    public func testSplit(splitSeed: UInt64) -> SealedTestSplit? { model.testSplit(splitSeed: splitSeed) }

    /// A run's whole configuration: the protocol's fixed settings, the data set's (SASRec's L), then the grid point.
    public func runConfiguration(_ point: RunConfiguration) -> RunConfiguration {
        RunConfiguration(validated: evaluationProtocol.runConfiguration(point).values.merging(model.datasetSettings) { $1 })
    }

    /// Every planned configuration checked against the trainer, so a bad grid value
    /// is refused before anything is trained. Errors name the row and configuration.
    public func checkPlans() throws(SweepError) {
        for row in rows {
            for point in evaluationProtocol.tuningPlan(for: row).configurations {
                do {
                    try model.check(runConfiguration(point), sampler: row.sampler, maxEpochs: evaluationProtocol.earlyStopping.maxEpochs)
                } catch {
                    throw .invalidConfiguration(protocol: evaluationProtocol.name, row: row.name, configuration: point.canonicalText, error: error)
                }
            }
        }
    }

    /// Runs (or skips, when the store has them) every tuning run.
    public func tune() throws {
        try checkPlans()
        for row in rows {
            let plan = evaluationProtocol.tuningPlan(for: row)
            log(plan.summary)
            for (index, point) in plan.configurations.enumerated() {
                try runOne(phase: .tune, row: row, point: point, splitSeed: tuningSplitSeed, modelSeed: tuningModelSeed,
                           label: "tune \(backbone)/\(row.name) \(index + 1)/\(plan.configurations.count)")
            }
        }
    }

    /// Each row's chosen configuration, from the store's tuning results only.
    public func select() throws -> [(row: TuningRow, selected: SelectedConfiguration)] {
        try rows.map { row in
            let plan = evaluationProtocol.tuningPlan(for: row)
            let byText = Dictionary(uniqueKeysWithValues: plan.configurations.map {
                (runConfiguration($0).canonicalText, $0)
            })
            var results: [RunConfiguration: TuningResult] = [:]
            let isTuningRun = { (spec: RunSpec) in spec.splitSeed == self.tuningSplitSeed && spec.modelSeed == self.tuningModelSeed }
            for run in try store.finishedRuns(phase: .tune, dataset: dataset, backbone: backbone,
                                              sampler: row.name, protocol: evaluationProtocol.name)
            where isTuningRun(run.spec) {
                // Runs of configurations outside the current plan (an edited grid file) do not count.
                guard let point = byText[run.spec.configuration.canonicalText] else { continue }
                guard let value = run.bestValidationMetrics[selectionMetric] else {
                    throw SweepError.missingMetric(run: run.id.rawValue, metric: selectionMetric)
                }
                results[point] = .finished(bestValidation: value)
            }
            for run in try store.failedRuns(phase: .tune, dataset: dataset, backbone: backbone,
                                            sampler: row.name, protocol: evaluationProtocol.name)
            where isTuningRun(run.spec) {
                guard let point = byText[run.spec.configuration.canonicalText] else { continue }
                results[point] = .failed(reason: run.reason)
            }
            return (row, try plan.selectBest(results))
        }
    }

    /// Runs (or skips) the final runs of the chosen configurations, recorded as `phase`
    /// (`.final`, or `.demo` for a demonstration sweep): each tests its best epoch once.
    public func runFinal(_ chosen: [(row: TuningRow, selected: SelectedConfiguration)], as phase: RunPhase = .final) throws {
        precondition(phase != .tune, "tuning runs never read the test split; use tune()")
        if model.hasFixedSplit {
            log("\(dataset) has a fixed split: final runs vary the model seed only (split seed recorded as 0)")
        }
        let total = chosen.count * splitSeeds.count * evaluationProtocol.modelSeeds.count
        var done = 0
        for (row, selected) in chosen {
            for splitSeed in splitSeeds {
                for modelSeed in evaluationProtocol.modelSeeds {
                    done += 1
                    try runOne(phase: phase, row: row, point: selected.configuration, splitSeed: splitSeed,
                               modelSeed: modelSeed,
                               label: "\(phase.rawValue) \(backbone)/\(row.name) \(done)/\(total) split \(splitSeed) model \(modelSeed)")
                }
            }
        }
    }

    // MARK: One run

    private func runOne(phase: RunPhase, row: TuningRow, point: RunConfiguration, splitSeed: UInt64, modelSeed: UInt64,
                        label: String) throws {
        let configuration = runConfiguration(point)
        let spec = try RunSpec(phase: phase, dataset: dataset, backbone: backbone, sampler: row.name,
                               configuration: configuration, splitSeed: splitSeed, modelSeed: modelSeed,
                               protocol: evaluationProtocol.name)
        let run: RunID
        switch try store.begin(spec, codeVersion: codeVersion) {
        case let .alreadyFinished(finished):
            log("skipping finished run \(finished.id.rawValue) (\(label), \(point.canonicalText))")
            return
        case let .alreadyFailed(failed):
            log("skipping failed run \(failed.id.rawValue) (\(label), \(point.canonicalText)): \(failed.reason)")
            return
        case let .started(id):
            run = id
        case let .restarted(id, old):
            log("redoing half-finished run \(old.id.rawValue) (\(label), started \(Self.timestamp(old.startedAt)), "
                + "\(old.evaluationCount) evaluations) as run \(id.rawValue)")
            run = id
        }
        let clock = ContinuousClock(), start = clock.now
        do {
            let outcome = try model.run(
                configuration, sampler: row.sampler, splitSeed: splitSeed, modelSeed: modelSeed,
                stopping: evaluationProtocol.earlyStopping, threads: threads, testing: phase != .tune, label: label
            ) { evaluation in
                try store.recordEvaluation(run, epoch: evaluation.epoch, split: .validation,
                                           metrics: evaluation.metrics, extra: evaluation.extra)
                log(evaluation.progressLine)
            }
            let seconds = (clock.now - start) / .seconds(1)
            try store.finish(run, bestEpoch: outcome.chosen.bestEpoch, testMetrics: outcome.testMetrics,
                             seconds: seconds, summary: outcome.summary)
            let metric = selectionMetric.uppercased()
            var line = String(format: "%@: done in %.1f s, best epoch %d, validation %@ %.4f",
                              label, seconds, outcome.chosen.bestEpoch, metric, outcome.chosen.bestValidation)
            if let test = outcome.testMetrics[selectionMetric] { line += String(format: ", test %@ %.4f", metric, test) }
            log(line)
        } catch let TrainingError.diverged(epoch, batch, detail) {
            let reason = "diverged in epoch \(epoch)\(batch.map { ", batch \($0)" } ?? ""): \(detail)"
            try store.fail(run, reason: reason)
            log("\(label): FAILED, \(reason); recorded as failed, the sweep goes on")
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }
}

/// Why a sweep cannot go on.
public enum SweepError: Error, Equatable, CustomStringConvertible {
    /// A planned configuration the trainer refuses (a grid or fixed value out of its range).
    case invalidConfiguration(protocol: String, row: String, configuration: String, error: ConfigurationError)
    /// A finished tuning run without the selection metric among its best validation metrics.
    case missingMetric(run: Int64, metric: String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(name, row, configuration, error):
            "protocol \(name), row \(row), configuration \(configuration): \(error); "
                + "fix the grid file's value"
        case let .missingMetric(run, metric):
            "tuning run \(run) has no validation \(metric) at its best epoch; the store was not written by `adar tune`"
        }
    }
}
